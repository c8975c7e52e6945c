// What the pane says about results and failures in its own words (issue 18): the headline of
// an undo that did not finish, and the result lines worded from the service's numbers.

import { describe, expect, it } from "vitest";
import { ServiceError } from "../../addin/web/js/api.js";
import { translator } from "../../addin/web/js/i18n.js";
import { summarize } from "../../addin/web/js/summaries.js";
import { describeError } from "../../addin/web/js/ui.js";

const zh = translator("zh");
const en = translator("en");

describe("failure headlines", () => {
  it("an undo that did not finish never says the workbook is as it was", () => {
    const error = new ServiceError({ kind: "partial", what: "Excel 拒绝了一项更改，且 xlcrm 未能完全撤销: x / y" });
    expect(describeError(zh, error).title).toBe("Excel 未接受更改，且未能全部撤销");
    expect(describeError(en, error).title).toBe("Excel did not accept the change, and not all of it could be undone");
    expect(describeError(zh, error).title).not.toContain("保持原样");
    const undone = new ServiceError({ kind: "workbook", what: "…" });
    expect(describeError(zh, undone).title).toBe("Excel 未接受更改，工作簿保持原样");
  });
});

describe("result lines", () => {
  const dedupe = { sheet: "重复客户", customers: 30000, pairs: 12, invalid: 3, summary: "… then run again with --apply" };

  it("dedupe tells the pane's next step, not the command line's", () => {
    expect(summarize(zh, "dedupe", dedupe)).toBe(
      "已比较 30,000 位客户：12 组可能重复，3 个无效的邮箱或电话。\n" +
        "下一步：在“重复客户”表中把每组标为“合并”或“不合并”，勾选上方的“合并……”后再运行一次。",
    );
    expect(summarize(en, "dedupe", { ...dedupe, sheet: "Duplicates" })).not.toContain("--apply");
    expect(summarize(zh, "dedupe", { ...dedupe, pairs: 0, applied: { merged: [{}, {}] } })).toBe(
      "已合并 2 组。\n已比较 30,000 位客户：0 组可能重复，3 个无效的邮箱或电话。",
    );
  });

  it("sync, contract, reminders and the dashboard", () => {
    expect(summarize(zh, "sync", { new: 0, summary: "imaps://x: no new mail" })).toBe("没有新邮件。");
    expect(summarize(en, "sync", { new: 5, linked: 4, unmatched: 1 })).toBe(
      "5 new message(s) recorded; 4 linked to customers, 1 from unknown senders.",
    );
    const contract = { summary: "generated 1 contract(s):\n  D1  CT-1  /tmp/xlcrm-contracts-abc/CT-1.docx", generated: [{}] };
    expect(summarize(zh, "contract", contract)).toBe("已生成 1 份合同。");
    expect(summarize(zh, "reminders", { reminders: 4, sheet: "提醒" })).toBe("“提醒”表中有 4 条提醒。");
    expect(summarize(zh, "report", { sheet: "仪表盘" })).toBe("“仪表盘”表已更新。");
    expect(summarize(zh, "import", { summary: "service text" })).toBe("service text");
  });

  it("run rules: the counts, and notices that were not sent, in the pane's words", () => {
    const result = {
      summary: "… run with --send --transport URL to send",
      stage_changes: 5,
      follow_ups: 1,
      contracts: [{ deal_id: "D0001", contract_no: "CT-2026-0001", file: "CT-2026-0001.docx" }],
      would_send: [{ rule: "R002", deal_id: "D0001", action: "handoff" }],
      waiting: [],
    };
    expect(summarize(zh, "rules", result)).toBe(
      "已记录 5 次阶段变化，设置 1 个跟进日期，生成 1 份合同。\n" +
        "有 1 封邮件通知待发送；在 Excel 中不会发送邮件。如需发送，请对工作簿文件运行带 --send 的“xlcrm run”（或设为定时任务）。",
    );
    expect(summarize(en, "rules", { ...result, would_send: [] })).toBe(
      "5 stage change(s) recorded, 1 follow-up date(s) set, 1 contract(s) generated.",
    );
    expect(summarize(en, "rules", result)).not.toContain("--transport");
  });
});
