// The task pane's one table of texts (addin/web/js/i18n.js): every key in both languages with
// the same placeholders, and the HTTP client's and the workbook writer's texts drawn from it.

import { describe, expect, it } from "vitest";
import { STRINGS, translator } from "../../addin/web/js/i18n.js";
import { texts } from "../../addin/web/js/api.js";

const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("i18n", () => {
  it("has every key in English and Chinese", () => {
    expect(Object.keys(STRINGS.zh).sort()).toEqual(Object.keys(STRINGS.en).sort());
  });

  it("uses the same placeholders in both languages", () => {
    const differ = Object.keys(STRINGS.en).filter(
      (key) => placeholders(STRINGS.en[key]).join() !== placeholders(STRINGS.zh[key]).join(),
    );
    expect(differ).toEqual([]);
  });

  it("fills placeholders and refuses an unknown key", () => {
    const t = translator("zh");
    expect(t("apply.noSheet", { sheet: "客户" })).toBe("没有名为“客户”的工作表");
    expect(() => t("no.such.key")).toThrow("i18n: no zh text for no.such.key");
  });

  it("gives the HTTP client its texts from the same table", () => {
    expect(texts("zh-CN").status(502)).toBe("服务返回 HTTP 502");
    expect(texts("en-US").version(2)).toBe("The service speaks protocol 2, this add-in speaks 1");
    expect(texts("en").unreachable).toBe(STRINGS.en["api.unreachable"]);
  });
});
