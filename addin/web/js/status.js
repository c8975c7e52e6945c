// @ts-check
// status.html: the failure of a one-click ribbon command, as commands.js describes it in the
// page's address (`?s=<JSON>`). Text goes in as text nodes only (`h`), so nothing in it can
// become markup.

import { pickLanguage, translator } from "./i18n.js";
import { h } from "./ui.js";

function show() {
  let status = null;
  try {
    status = JSON.parse(new URLSearchParams(location.search).get("s") || "null");
  } catch {
    status = null;
  }
  const lang = pickLanguage(status?.lang || navigator.language);
  const t = translator(lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("app.title");
  const text = (v) => (typeof v === "string" ? v : "");
  const main = document.getElementById("main");
  main.replaceChildren(
    h(
      "div",
      { class: `notice ${status?.ok ? "success" : "error"}`, role: status?.ok ? "status" : "alert" },
      h("p", { class: "notice-title" }, text(status?.title) || t(status?.ok ? "common.done" : "common.error.other")),
      h("p", { class: "what" }, text(status?.text)),
      status?.where ? h("dl", {}, h("dt", {}, t("common.where")), h("dd", { class: "where" }, text(status.where))) : null,
      status?.fix ? h("p", { class: "fix" }, h("strong", {}, `${t("common.fix")}: `), text(status.fix)) : null,
    ),
  );
}

show();
