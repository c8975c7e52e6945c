// @ts-check
// status.html: the outcome of a one-click ribbon command, as commands.js describes it in the
// page's address (`?s=<JSON>`): a failure, or a result with files (Run rules' contracts), whose
// bytes commands.js left in the add-in's storage. Text goes in as text nodes only (`h`), so
// nothing in it can become markup.

import { pickLanguage, translator } from "./i18n.js";
import { loadRibbonFiles } from "./storage.js";
import { h } from "./ui.js";

/** Links to the files: each a Blob made from the stored base64 (no request leaves the page). */
function fileList(t, status) {
  const names = Array.isArray(status?.files) ? status.files.filter((n) => typeof n === "string") : [];
  if (!names.length) return null;
  const stored = new Map(loadRibbonFiles().map((f) => [f.name, f]));
  const items = names.map((name) => {
    const file = stored.get(name);
    if (!file || typeof file.data !== "string") {
      return h("li", {}, h("span", { class: "file missing" }, name), " ", h("span", { class: "hint" }, t("rules.filesLost")));
    }
    const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: file.mediaType || "application/octet-stream" }));
    const kind = /\.pdf$/i.test(name) ? "pdf" : "docx";
    return h("li", {}, h("a", { href: url, download: name, class: `file file-${kind}` }, name));
  });
  return h("section", { class: "files" }, h("h3", {}, t("rules.files")), h("ul", { class: "file-list" }, items));
}

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
    fileList(t, status),
  );
}

show();
