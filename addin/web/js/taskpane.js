// @ts-check
// The task pane: one page for every ribbon button. The ribbon opens taskpane.html?view=<view>;
// the nav switches views without reloading, and each view is built once and kept, so a preview,
// a running send or a half-filled form survives a look at another view.

import { XlcrmClient } from "./client.js";
import { pickLanguage, translator } from "./i18n.js";
import { RIBBON_STATUS, loadConnection, loadRibbonStatus } from "./storage.js";
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
  rules: renderer("rules"),
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
  statusLine(t, main);

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
    // The address keeps the view, so a reload opens it again. Office.js sets
    // history.replaceState and pushState to null (Office's own frames own the history), so in
    // Excel this is skipped rather than throwing on every view switch.
    if (typeof history.replaceState === "function") {
      const url = new URL(location.href);
      url.searchParams.set("view", view);
      history.replaceState(null, "", url);
    }
  }

  show(first, { autorun: AUTORUN.has(first) });
}

/**
 * The status line: the result of the last one-click ribbon command (commands.js runs them in
 * another page and keeps the result in the add-in's storage), updated while the pane is open.
 * @param {(key: string, vars?: object) => string} t
 * @param {HTMLElement} main
 */
function statusLine(t, main) {
  const line = h("p", { class: "ribbon-status", role: "status", "aria-label": t("ribbon.status"), hidden: true });
  const render = () => {
    const status = loadRibbonStatus();
    line.hidden = !status?.text;
    line.className = `ribbon-status ${status?.ok ? "ok" : "failed"}`;
    const parts = [status?.text ?? ""];
    if (!status?.ok && status?.fix) parts.push(status.fix);
    line.textContent = parts.join(" ");
  };
  render();
  globalThis.addEventListener("storage", (event) => {
    if (event.key === null || event.key === RIBBON_STATUS) render();
  });
  main.before(line);
}

/**
 * The page opened outside Excel: office.js did not load (no network to Microsoft's CDN, or the
 * page opened from a file), or it loaded in a plain browser tab, where Office.onReady answers
 * with no host. Nothing in the pane could work there, so it says where to open it instead, in
 * the browser's language (there is no Office display language to ask).
 * @param {"noOffice" | "noHost"} why
 */
function outside(why) {
  const lang = pickLanguage(navigator.language);
  const t = translator(lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("app.title");
  const main = document.getElementById("main");
  main.replaceChildren(
    h(
      "section",
      { class: "view outside", "data-view": "outside" },
      h(
        "div",
        { class: "notice error kind-outside", role: "alert" },
        h("p", { class: "notice-title" }, t("outside.title")),
        h("p", { class: "what" }, t(`outside.${why}`)),
        h("p", { class: "fix" }, h("strong", {}, `${t("common.fix")}: `), t("outside.fix")),
        h("p", {}, h("a", { href: "help.html" }, t("outside.help"))),
      ),
    ),
  );
}

// Office.onReady resolves once the host is ready; outside Office it resolves at once with no
// host, and without office.js there is no Office at all.
const office = globalThis.Office;
if (typeof office?.onReady !== "function") {
  outside("noOffice");
} else {
  office.onReady().then((info) => (info?.host ? start() : outside("noHost")));
}
