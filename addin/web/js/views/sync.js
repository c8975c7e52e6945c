// @ts-check
// Sync mail: record new e-mail with customers. The ribbon's Sync button opens this view with
// ?view=sync&run=1 and it starts at once — one click in Excel should be enough.

import { append, h, intro, messageList, progressBar, runCommand, summaryBox } from "../ui.js";
import { summarize } from "../summaries.js";

export function render(ctx, root) {
  const { t } = ctx;
  const tickets = h("input", { type: "checkbox", id: "sync-tickets" });
  const button = h("button", { type: "button", class: "primary" }, t("sync.run"));
  const progress = progressBar(t("sync.running"));
  const messages = messageList(t);
  const output = h("div", { class: "output", "aria-live": "polite" });

  async function sync() {
    const answer = await runCommand(
      ctx,
      "sync",
      { tickets: tickets.checked },
      { output, progress, messages, busy: [button], caption: t("sync.running"), retry: sync },
    );
    if (answer) output.append(summaryBox(t, summarize(t, "sync", answer.result)));
  }
  button.addEventListener("click", sync);

  append(root, [
    ...intro(t("view.sync"), t("sync.intro")),
    h("div", { class: "check" }, tickets, h("label", { for: tickets.id }, t("sync.tickets"))),
    h("div", { class: "actions" }, button),
    progress.element,
    messages.element,
    output,
  ]);
  if (ctx.autorun) sync();
}
