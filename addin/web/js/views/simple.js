// @ts-check
// The one-button commands: find duplicates, rebuild the dashboard, list today's reminders.
// Each writes its own sheet through the service and answers with a summary.

import { append, h, intro, messageList, progressBar, runCommand, summaryBox } from "../ui.js";
import { summarize } from "../summaries.js";

const COMMANDS = {
  dedupe: { options: (form) => ({ apply: form.apply?.checked ?? false }), apply: true },
  report: { options: () => ({}) },
  reminders: { options: () => ({}) },
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
      if (answer) output.append(summaryBox(t, summarize(t, command, answer.result)));
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
