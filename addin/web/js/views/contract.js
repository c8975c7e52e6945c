// @ts-check
// Generate contract: one Word document (and optionally a PDF) per selected row of the Deals
// sheet. The client sends the selection with the request; the files come back as downloads,
// offered as links so that the browser (or Office) saves them where the user wants.

import { append, field, fill, h, intro, messageList, progressBar, runCommand, summaryBox } from "../ui.js";
import { summarize } from "../summaries.js";

const TEMPLATES = [
  ["", "contract.template.default"],
  ["contracts/quotation", "contract.template.quotation"],
  ["custom", "contract.template.custom"],
];

export function render(ctx, root) {
  const { t } = ctx;
  const template = h(
    "select",
    { id: "contract-template" },
    TEMPLATES.map(([value, key]) => h("option", { value }, t(key))),
  );
  const custom = h("input", { id: "contract-custom", type: "text", spellcheck: "false" });
  const customField = field(t("contract.template.customLabel"), custom);
  customField.hidden = true;
  template.addEventListener("change", () => {
    customField.hidden = template.value !== "custom";
  });
  const pdf = h("input", { type: "checkbox", id: "contract-pdf" });
  const button = h("button", { type: "button", class: "primary" }, t("contract.run"));
  const progress = progressBar(t("contract.running"));
  const messages = messageList(t);
  const output = h("div", { class: "output", "aria-live": "polite" });
  const files = h("div", { class: "files" });
  // Object URLs keep their blob alive; the previous run's are released when a new one starts.
  let urls = [];

  async function generate() {
    const options = { pdf: pdf.checked };
    const chosen = template.value === "custom" ? custom.value.trim() : template.value;
    if (template.value === "custom" && !chosen) {
      custom.focus();
      return;
    }
    if (chosen) options.template = chosen;
    for (const url of urls) URL.revokeObjectURL(url);
    urls = [];
    files.replaceChildren();
    const answer = await runCommand(ctx, "contract", options, {
      output,
      progress,
      messages,
      busy: [button],
      caption: t("contract.running"),
      retry: generate,
    });
    if (!answer) return;
    output.append(summaryBox(t, summarize(t, "contract", answer.result)));
    const downloads = new Map((answer.downloads || []).map((d) => [d.name, d]));
    const items = [];
    for (const generated of answer.result?.generated || []) {
      const links = (generated.files || []).map((name) => link(downloads.get(name), name));
      items.push(
        h(
          "li",
          {},
          h("span", { class: "deal" }, t("contract.deal", { deal: generated.deal_id, no: generated.contract_no })),
          h("span", { class: "file-links" }, links),
        ),
      );
    }
    if (items.length) fill(files, h("h3", {}, t("contract.files")), h("ul", { class: "file-list" }, items));
  }

  function link(download, name) {
    if (!download) return h("span", { class: "file missing" }, name);
    const url = URL.createObjectURL(download.blob);
    urls.push(url);
    const kind = /\.pdf$/i.test(name) ? "pdf" : "docx";
    return h("a", { href: url, download: name, class: `file file-${kind}` }, name);
  }

  button.addEventListener("click", generate);
  append(root, [
    ...intro(t("view.contract"), t("contract.intro")),
    field(t("contract.template"), template),
    customField,
    h("div", { class: "check" }, pdf, h("label", { for: pdf.id }, t("contract.pdf"))),
    h("div", { class: "actions" }, button),
    progress.element,
    messages.element,
    output,
    files,
  ]);
}
