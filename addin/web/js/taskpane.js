// @ts-check
// The task pane: one page for every ribbon button. The ribbon opens taskpane.html?view=<view>;
// the nav switches views without reloading, and each view is built once and kept, so a preview,
// a running send or a half-filled form survives a look at another view.

import { XlcrmClient } from "./client.js";
import { pickLanguage, translator } from "./i18n.js";
import { loadConnection } from "./storage.js";
import { h } from "./ui.js";
import * as campaign from "./views/campaign.js";
import * as contract from "./views/contract.js";
import * as importing from "./views/import.js";
import * as settings from "./views/settings.js";
import { renderer } from "./views/simple.js";
import * as sync from "./views/sync.js";

// The ribbon's order (addin/officeaddin/ribbon.py), so the nav reads like the CRM tab.
const VIEWS = {
  sync: sync.render,
  campaign: campaign.render,
  contract: contract.render,
  reminders: renderer("reminders"),
  import: importing.render,
  dedupe: renderer("dedupe"),
  report: renderer("report"),
  settings: settings.render,
};
// Opening Sync mail from the ribbon is the request to sync: it starts without a second click.
const AUTORUN = new Set(["sync"]);

function start() {
  const office = globalThis.Office;
  const lang = pickLanguage(office?.context?.displayLanguage);
  const t = translator(lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `${t("app.title")} · ${t("nav.label")}`;

  const ctx = {
    t,
    lang,
    client: null,
    documentUrl: office?.context?.document?.url || "",
    autorun: false,
    reconnect() {
      const { baseUrl, token } = loadConnection();
      ctx.client = new XlcrmClient({ baseUrl, token: token || null, lang });
    },
  };
  ctx.reconnect();

  const params = new URLSearchParams(location.search);
  const first = params.get("view") in VIEWS ? params.get("view") : "campaign";
  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t("nav.label"));
  const sections = new Map();
  const links = new Map();

  for (const view of Object.keys(VIEWS)) {
    const link = h("a", { href: `?view=${view}`, class: "nav-link", "data-view": view }, t(`view.${view}`));
    link.addEventListener("click", (event) => {
      event.preventDefault();
      show(view);
    });
    links.set(view, link);
    nav.append(link);
  }

  function show(view, { autorun = false } = {}) {
    for (const [name, link] of links) {
      if (name === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    for (const [name, section] of sections) section.hidden = name !== view;
    if (!sections.has(view)) {
      const section = h("section", { class: "view", "data-view": view, "aria-label": t(`view.${view}`) });
      sections.set(view, section);
      main.append(section);
      VIEWS[view]({ ...ctx, autorun, get client() { return ctx.client; } }, section);
    }
    const url = new URL(location.href);
    url.searchParams.set("view", view);
    history.replaceState(null, "", url);
  }

  show(first, { autorun: AUTORUN.has(first) });
}

// Office.onReady resolves once the host is ready (at once outside Office, which lets the page
// show its views in a plain browser too, where the workbook commands then fail with a message).
globalThis.Office.onReady().then(start);
