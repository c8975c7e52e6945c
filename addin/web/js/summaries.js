// @ts-check
// A command's result line in the pane's language. The service's `summary` is the command
// line's English text (with hints such as "--apply" that mean nothing in the pane, and for a
// contract the service's temporary folder); the numbers beside it are language-neutral, so the
// pane words the commands it knows from them and shows `summary` only for the others.

/** @param {number|undefined} n */
const count = (n) => (Number.isFinite(n) ? Number(n).toLocaleString() : "0");

/**
 * @param {(key: string, vars?: object) => string} t
 * @param {string} command
 * @param {any} result  the `result` of the command's last answer
 * @returns {string}
 */
export function summarize(t, command, result) {
  const r = result ?? {};
  switch (command) {
    case "sync":
      if (!r.new) return t("summary.sync.none");
      return t("summary.sync.done", { new: count(r.new), linked: count(r.linked), unmatched: count(r.unmatched) });
    case "dedupe": {
      const lines = [];
      const merged = r.applied?.merged?.length ?? 0;
      if (merged) lines.push(t("summary.dedupe.merged", { n: count(merged) }));
      lines.push(t("summary.dedupe", { customers: count(r.customers), pairs: count(r.pairs), invalid: count(r.invalid) }));
      if (!r.applied && r.pairs) lines.push(t("summary.dedupe.next", { sheet: r.sheet ?? "" }));
      return lines.join("\n");
    }
    case "reminders":
      return t("summary.reminders", { n: count(r.reminders), sheet: r.sheet ?? "" });
    case "report":
      return t("summary.report", { sheet: r.sheet ?? "" });
    case "contract":
      return t("summary.contract", { n: count(r.generated?.length) });
    case "rules": {
      const lines = [
        t("summary.rules", {
          changes: count(r.stage_changes),
          followUps: count(r.follow_ups),
          contracts: count(r.contracts?.length),
        }),
      ];
      const notices = r.would_send?.length ?? 0;
      if (notices) lines.push(t("summary.rules.notices", { n: count(notices) }));
      // The waiting lines are the workbook's language (the cell and what is missing).
      if (r.waiting?.length) lines.push(t("summary.rules.waiting", { n: count(r.waiting.length), first: String(r.waiting[0]) }));
      return lines.join("\n");
    }
    default:
      return typeof r.summary === "string" ? r.summary : "";
  }
}
