// @ts-check
// The one-button commands: find duplicates, rebuild the dashboard, list today's reminders,
// run the rules. Each writes the workbook through the service and answers with a summary;
// Run rules also hands back the contracts its rules generated, offered here as downloads.

import { append, h, intro, messageList, progressBar, runCommand, summaryBox } from "../ui.js";
import { summarize } from "../summaries.js";

const COMMANDS = {
  dedupe: { options: (form) => ({ apply: form.apply?.checked ?? false }), apply: true },
  report: { options: () => ({}) },
  reminders: { options: () => ({}) },
  rules: { options: () => ({}) },
};

export function renderer(command) {
  const spec = COMMANDS[command];
  return function render(ctx, root) {
    const { t } = ctx;
    const form = {};
    const button = h("button", { type: "button", class: "primary" }, t("common.run"));
    const progress = progressBar(t("common.working"));
    const messages = messageList(t);
    const output = h("div", { class: "output", "aria-live": "polite" });
    let option = null;
    if (spec.apply) {
      form.apply = h("input", { type: "checkbox", id: `${command}-apply` });
      option = h("div", { class: "check" }, form.apply, h("label", { for: form.apply.id }, t("dedupe.apply")));
    }

    async function run() {
      const answer = await runCommand(ctx, command, spec.options(form), {
        output,
        progress,
        messages,
        busy: [button],
        caption: t("common.working"),
        retry: run,
      });
      if (!answer) return;
      output.append(summaryBox(t, summarize(t, command, answer.result)));
      const links = (answer.downloads || []).map((d) => {
        const kind = /\.pdf$/i.test(d.name) ? "pdf" : "docx";
        const href = URL.createObjectURL(d.blob);
        return h("li", {}, h("a", { href, download: d.name, class: `file file-${kind}` }, d.name));
      });
      if (links.length) output.append(h("h3", {}, t("rules.files")), h("ul", { class: "file-list" }, links));
    }
    button.addEventListener("click", run);

    append(root, [
      ...intro(t(`view.${command}`), t(`${command}.intro`)),
      option,
      h("div", { class: "actions" }, button),
      progress.element,
      messages.element,
      output,
    ]);
    if (ctx.autorun) run();
  };
}
