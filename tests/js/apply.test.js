// Applying actions to a mocked workbook (office-addin-mock with the workbook model of
// excel-mock.js; no Excel here), reading the result back from the mock.

import { afterEach, describe, expect, it } from "vitest";
import { Book, excelFor } from "./excel-mock.js";
import { applyActions, excelText, stateRows } from "../../addin/web/js/excel-apply.js";

function crm() {
  return new Book({
    sheets: [
      {
        name: "Customers",
        cells: {
          A1: "ID", B1: "Name", C1: "Phone", D1: "Total",
          A2: "C0001", B2: "张伟", C2: "00123", D2: { value: 10, formula: "=SUM(E2:F2)" },
          A3: "C0002", B3: "李娜", C3: "", D3: 7,
          A6: "below the table",
          G1: "user's column beside",
        },
      },
      { name: "Dashboard", cells: { A1: "old dashboard" } },
      { name: "_xlcrm", visibility: "VeryHidden", cells: { A1: "key", B1: "value", A2: "schema", B2: "2" } },
    ],
    tables: [
      { name: "Customers", sheet: "Customers", address: "A1:D3" },
      { name: "Dashboard_Top", sheet: "Dashboard", address: "A3:B4" },
    ],
  });
}

const apply = (book, actions, options) => excelFor(book).run((context) => applyActions(context, actions, options));

/** Office as an Excel that has ExcelApi up to `top` (1.8: Excel 2019), for requirements.js. */
function excelUpTo(top) {
  const n = (v) => v.split(".").map(Number).reduce((a, b, i) => a + b / 100 ** i, 0);
  globalThis.Office = { context: { requirements: { isSetSupported: (name, v) => name === "ExcelApi" && n(v) <= n(top) } } };
}
afterEach(() => {
  delete globalThis.Office;
});

/** Every method called and property set on the workbook, in order (`book.failOn` as a spy). */
function spy(book) {
  const seen = [];
  book.failOn = (op) => {
    if (op.kind === "call") seen.push(op.method);
    if (op.kind === "set") seen.push(`=${op.prop}`);
    return false;
  };
  return seen;
}

describe("excelText", () => {
  it("prefixes every non-empty string and nothing else", () => {
    expect(excelText("=1+1")).toBe("'=1+1");
    expect(excelText("00123")).toBe("'00123");
    expect(excelText("张伟")).toBe("'张伟");
    expect(excelText("")).toBe("");
    expect(excelText(42)).toBe(42);
    expect(excelText(true)).toBe(true);
  });
});

describe("write", () => {
  it("stores strings as text, keeps numbers, and leaves null cells as they are", async () => {
    const book = crm();
    await apply(book, [
      {
        type: "write",
        sheet: "Customers",
        address: "B2:D3",
        values: [
          ['=HYPERLINK("http://evil.example","点我")', "00456", null],
          ["TRUE", null, 45292],
        ],
        number_formats: [[null, null, null], [null, null, "yyyy-mm-dd"]],
      },
    ]);
    const hyperlink = book.cell("Customers", "B2");
    expect(hyperlink.value).toBe('=HYPERLINK("http://evil.example","点我")');
    expect(hyperlink.formula).toBeUndefined();
    expect(book.value("Customers", "C2")).toBe("00456");
    expect(book.value("Customers", "B3")).toBe("TRUE");
    // null: the formula stays a formula, the blank stays blank.
    expect(book.cell("Customers", "D2").formula).toBe("=SUM(E2:F2)");
    expect(book.value("Customers", "C3")).toBe("");
    expect(book.value("Customers", "D3")).toBe(45292);
    expect(book.cell("Customers", "D3").numberFormat).toBe("yyyy-mm-dd");
  });

  it("lets a later null keep what an earlier action of the same list wrote", async () => {
    const book = crm();
    await apply(book, [
      { type: "write", sheet: "Customers", address: "B2", values: [["王芳"]] },
      { type: "write", sheet: "Customers", address: "A2:B2", values: [["C0009", null]] },
    ]);
    expect(book.value("Customers", "A2")).toBe("C0009");
    expect(book.value("Customers", "B2")).toBe("王芳");
  });

  it("refuses values that do not fit the address, writing nothing", async () => {
    const book = crm();
    const before = book.snapshot();
    await expect(
      apply(book, [{ type: "write", sheet: "Customers", address: "A2:B2", values: [["x"]] }]),
    ).rejects.toMatchObject({ kind: "workbook", where: "Customers!A2:B2" });
    expect(book.snapshot()).toEqual(before);
  });
});

describe("append_rows", () => {
  const rows = () => [
    {
      type: "append_rows",
      sheet: "Customers",
      table: "Customers",
      address: "A4:D5",
      values: [["C0003", "王芳", "+86 138 0000 0000", 1], ["C0004", "=cmd|' /C calc'!A0", "", null]],
      number_formats: [[null, null, "@", "0.00"], [null, null, "@", null]],
    },
  ];

  it("writes the rows just under an Excel Table and resizes it (co-authoring safe)", async () => {
    const book = crm();
    const calls = spy(book);
    await apply(book, rows());
    expect(book.table("Customers").box).toEqual({ r1: 0, c1: 0, r2: 4, c2: 3 });
    expect(book.value("Customers", "C4")).toBe("+86 138 0000 0000");
    expect(book.value("Customers", "B5")).toBe("=cmd|' /C calc'!A0");
    expect(book.cell("Customers", "B5").formula).toBeUndefined();
    expect(book.cell("Customers", "D4").numberFormat).toBe("0.00");
    expect(book.cell("Customers", "D5").numberFormat).toBe("General");
    // Nothing inserted: what is under the new rows stays where it was.
    expect(book.value("Customers", "A6")).toBe("below the table");
    expect(calls).toContain("resize");
    expect(calls).not.toContain("rows.add");
  });

  it("inserts the rows (rows.add) when the cells under the table hold something", async () => {
    const book = crm();
    const actions = rows();
    actions[0].address = "A4:D4";
    actions[0].values = [actions[0].values[0]];
    actions[0].number_formats = [actions[0].number_formats[0]];
    await apply(book, [{ type: "write", sheet: "Customers", address: "B4", values: [["a note"]] }]);
    const calls = spy(book);
    await apply(book, actions);
    expect(calls).toContain("rows.add");
    expect(book.value("Customers", "B4")).toBe("王芳");
    expect(book.value("Customers", "B5")).toBe("a note"); // moved down, kept
  });

  it("inserts the rows (rows.add) in an Excel without Table.resize (ExcelApi 1.13)", async () => {
    excelUpTo("1.8");
    const book = crm();
    const calls = spy(book);
    await apply(book, rows());
    expect(calls).toContain("rows.add");
    expect(calls).not.toContain("resize");
    expect(book.table("Customers").box).toEqual({ r1: 0, c1: 0, r2: 4, c2: 3 });
    expect(book.value("Customers", "A8")).toBe("below the table"); // rows.add moved it down
  });

  it("writes the range when there is no table", async () => {
    const book = crm();
    await apply(book, [{ type: "append_rows", sheet: "Dashboard", address: "A2:B2", values: [["x", 2]] }]);
    expect([book.value("Dashboard", "A2"), book.value("Dashboard", "B2")]).toEqual(["x", 2]);
  });

  it("refuses rows that would not land right under the table", async () => {
    const book = crm();
    const before = book.snapshot();
    await expect(
      apply(book, [{ type: "append_rows", sheet: "Customers", table: "Customers", address: "A5:D5", values: [["a", "b", "c", "d"]] }]),
    ).rejects.toThrow(/changed since the command read it \(it is now A1:D3\)/);
    expect(book.snapshot()).toEqual(before);
  });
});

describe("add_column, add_sheet, add_table, format, chart", () => {
  it("adds a column at the right of a table", async () => {
    const book = crm();
    await apply(book, [
      { type: "add_column", sheet: "Customers", table: "Customers", address: "E1:E3", values: [["Segment"], ["A"], [null]] },
    ]);
    expect(book.table("Customers").box).toEqual({ r1: 0, c1: 0, r2: 2, c2: 4 });
    expect([book.value("Customers", "E1"), book.value("Customers", "E2"), book.value("Customers", "E3")]).toEqual(["Segment", "A", ""]);
    expect(book.value("Customers", "G1")).toBe("user's column beside");
  });

  it("replaces a report sheet with its tables, chart, formats and drop-down lists", async () => {
    const book = crm();
    const { downloads, messages } = await apply(book, [
      { type: "add_sheet", sheet: "Dashboard", visibility: "Visible", replace: true },
      { type: "write", sheet: "Dashboard", address: "A1", values: [["销售看板"]] },
      { type: "format", sheet: "Dashboard", address: "A1", bold: true, font_size: 16, column_width: 150 },
      {
        type: "add_table",
        sheet: "Dashboard",
        table: "Dashboard_Top",
        address: "A3:C5",
        values: [["Owner", "Stage", "Amount"], ["张伟", "Won", 1200], ["李娜", "Lead", 300]],
        number_formats: [[null, null, null], [null, null, "#,##0"], [null, null, "#,##0"]],
        choices: [{ column: 1, values: ["Lead", "Won", "Lost"] }],
      },
      { type: "chart", sheet: "Dashboard", kind: "ColumnClustered", title: "按负责人", source: "A3:A5", series: "Columns", anchor: "E3", width: 425, height: 212 },
      { type: "message", level: "info", text: "看板已更新" },
    ]);
    expect(messages).toEqual([{ level: "info", text: "看板已更新" }]);
    expect(downloads).toEqual([]);
    expect(book.sheets.map((s) => s.name)).toEqual(["Customers", "Dashboard", "_xlcrm"]);
    const sheet = book.sheet("Dashboard");
    expect(book.value("Dashboard", "A1")).toBe("销售看板");
    expect(book.cell("Dashboard", "A1")).toMatchObject({ bold: true, size: 16 });
    expect(sheet.widths.get(0)).toBe(150);
    expect(book.tables.map((t) => t.name)).toEqual(["Customers", "Dashboard_Top"]);
    expect(book.table("Dashboard_Top")).toMatchObject({ sheet, box: { r1: 2, c1: 0, r2: 4, c2: 2 } });
    expect(book.cell("Dashboard", "C4")).toMatchObject({ value: 1200, numberFormat: "#,##0" });
    expect(sheet.validations).toEqual([
      {
        address: "B4:B1048576",
        rule: { list: { inCellDropDown: true, source: "Lead,Won,Lost" } },
        errorAlert: { showAlert: true, style: "Warning", title: "Stage", message: "Pick a value from the list" },
      },
    ]);
    expect(sheet.charts).toEqual([
      { name: "Chart 1", type: "ColumnClustered", source: "A3:A5", seriesBy: "Columns", title: "按负责人", anchor: "E3", width: 425, height: 212 },
    ]);
  });

  it("lays out a new report sheet: first tab, aligned and wrapped headers, a chart over cells, print setup", async () => {
    excelUpTo("1.8"); // Excel 2019: no pageLayout (ExcelApi 1.9)
    const book = crm();
    await apply(book, [
      { type: "add_sheet", sheet: "Overview", visibility: "Visible", replace: false, first: true },
      { type: "write", sheet: "Overview", address: "A3:B4", values: [["Stage", "Deals won 12 months"], ["Lead", 54]] },
      { type: "format", sheet: "Overview", address: "B3:B4", horizontal: "Right" },
      { type: "format", sheet: "Overview", address: "A3:B3", bold: true, wrap: true },
      { type: "format", sheet: "Overview", address: "A3", row_height: 30 },
      { type: "chart", sheet: "Overview", kind: "ColumnClustered", title: "Deals", source: "A3:B4", series: "Columns", anchor: "D3", end: "J16", width: 360, height: 200 },
      // No ExcelApi 1.9 here: printing stays as it was.
      { type: "page_layout", sheet: "Overview", landscape: true, fit_width: true, print_area: "A1:J16", breaks: [10] },
    ]);
    expect(book.sheets.map((s) => s.name)).toEqual(["Overview", "Customers", "Dashboard", "_xlcrm"]);
    expect(book.cell("Overview", "B3")).toMatchObject({ value: "Deals won 12 months", horizontal: "Right", wrap: true, bold: true });
    expect(book.cell("Overview", "B4")).toMatchObject({ value: 54, horizontal: "Right" });
    expect(book.cell("Overview", "A4").horizontal).toBeUndefined();
    expect(book.sheet("Overview").heights.get(2)).toBe(30);
    // With an end cell the chart covers those cells, whatever its width and height.
    expect(book.sheet("Overview").charts).toEqual([
      { name: "Chart 1", type: "ColumnClustered", source: "A3:B4", seriesBy: "Columns", title: "Deals", anchor: "D3", end: "J16", width: 360, height: 216 },
    ]);
  });

  it("refuses to add a sheet that exists without replace", async () => {
    const book = crm();
    await expect(apply(book, [{ type: "add_sheet", sheet: "dashboard", visibility: "Visible", replace: false }])).rejects.toThrow(
      'a sheet "dashboard" already exists',
    );
  });
});

describe("state", () => {
  it("writes one row per changed key, never the whole sheet; long values split", async () => {
    const book = crm();
    const long = "记".repeat(32_000) + "x".repeat(10);
    const calls = spy(book);
    await apply(book, [{ type: "state", items: { schema: "3", "a:0": "=1+1", big: long } }]);
    expect(calls).not.toContain("clear");
    const sheet = book.sheet("_xlcrm");
    expect(sheet.visibility).toBe("VeryHidden");
    // schema stays in its row with its new value; the new keys go under it, sorted.
    expect([book.value("_xlcrm", "A2"), book.value("_xlcrm", "B2")]).toEqual(["schema", "3"]);
    expect(book.value("_xlcrm", "A3")).toBe("a:0");
    expect(book.value("_xlcrm", "B3")).toBe("=1+1");
    expect(book.cell("_xlcrm", "B3").formula).toBeUndefined();
    expect(book.value("_xlcrm", "A4")).toBe("big");
    expect(book.value("_xlcrm", "B4")).toBe("记".repeat(32_000));
    expect(book.value("_xlcrm", "C4")).toBe("xxxxxxxxxx");
    expect(stateRows({ b: "1", a: "2" })).toEqual([["key", "value"], ["a", "2"], ["b", "1"]]);

    // Again with one key changed and one gone: two rows written, nothing else.
    const again = spy(book);
    await apply(book, [{ type: "state", items: { schema: "3", "a:0": "2", big: long.slice(0, 5) } }]);
    expect(again.filter((c) => c === "=values")).toHaveLength(2);
    expect([book.value("_xlcrm", "B3"), book.value("_xlcrm", "B4"), book.value("_xlcrm", "C4")]).toEqual(["2", "记记记记记", ""]);
    const third = spy(book);
    await apply(book, [{ type: "state", items: { schema: "3", big: long.slice(0, 5) } }]);
    expect(third.filter((c) => c === "=values")).toHaveLength(1);
    expect([book.value("_xlcrm", "A3"), book.value("_xlcrm", "B3")]).toEqual(["", ""]);
  });

  it("creates the state sheet when the workbook has none", async () => {
    const book = crm();
    book.sheets = book.sheets.filter((s) => s.name !== "_xlcrm");
    await apply(book, [{ type: "state", items: { schema: "3" } }]);
    expect(book.sheet("_xlcrm").visibility).toBe("VeryHidden");
    expect(book.value("_xlcrm", "B2")).toBe("3");
  });
});

describe("operation ids", () => {
  const answer = () => [
    { type: "append_rows", sheet: "Customers", table: "Customers", address: "A4:B4", values: [["C0003", "王芳"]] },
  ];
  const narrow = () => {
    const book = crm();
    book.table("Customers").box.c2 = 1; // a two-column table A1:B3
    return book;
  };

  it("applies an answer once: the same operation again changes nothing", async () => {
    const book = narrow();
    const first = await apply(book, answer(), { operation: "op-1" });
    expect(first.replayed).toBeUndefined();
    expect(book.value("_xlcrm", "A3")).toBe("applied");
    expect(book.value("_xlcrm", "B3")).toBe("op-1");
    const before = book.snapshot();
    const again = await apply(book, [{ type: "write", sheet: "Customers", address: "A4:B4", values: [["X", "Y"]] }], { operation: "op-1" });
    expect(again).toEqual({ downloads: [], messages: [], replayed: true });
    expect(book.snapshot()).toEqual(before);
    // A new answer is applied, and its id joins the list.
    await apply(book, [{ type: "write", sheet: "Customers", address: "B2", values: [["Z"]] }], { operation: "op-2" });
    expect(book.value("Customers", "B2")).toBe("Z");
    expect(book.value("_xlcrm", "B3")).toBe("op-1 op-2");
  });

  it("keeps the applied row when the answer's own state replaces the state", async () => {
    const book = narrow();
    await apply(book, answer(), { operation: "op-1" });
    await apply(book, [{ type: "state", items: { schema: "4" } }], { operation: "op-2" });
    expect([book.value("_xlcrm", "B2"), book.value("_xlcrm", "B3")]).toEqual(["4", "op-1 op-2"]);
  });
});

describe("older Excel", () => {
  it("refuses a new column without Table.resize, writing nothing", async () => {
    excelUpTo("1.12");
    const book = crm();
    const before = book.snapshot();
    await expect(
      apply(book, [{ type: "add_column", sheet: "Customers", table: "Customers", address: "E1:E3", values: [["Segment"], ["A"], ["B"]] }], { lang: "zh-CN" }),
    ).rejects.toThrow("此功能需要更新版本的 Excel（Excel JavaScript API 1.13）：在 Excel 表格中添加列");
    expect(book.snapshot()).toEqual(before);
  });

  it("makes a table without drop-down lists before ExcelApi 1.8, and says so", async () => {
    excelUpTo("1.7");
    const book = crm();
    const { messages } = await apply(book, [
      { type: "add_table", sheet: "Dashboard", table: "T2", address: "D1:D2", values: [["Stage"], ["Won"]], choices: [{ column: 0, values: ["Won", "Lost"] }] },
    ]);
    expect(book.table("T2")).toBeTruthy();
    expect(book.sheet("Dashboard").validations).toEqual([]);
    expect(messages).toEqual([
      { level: "warning", text: "This needs a newer Excel (Excel JavaScript API 1.8): drop-down lists. Update Office, or use Excel on the web." },
    ]);
  });
});

describe("download", () => {
  it("hands back the file as a Blob after the workbook part", async () => {
    const book = crm();
    const pdf = "%PDF-1.4 合同";
    const data = Buffer.from(pdf, "utf8").toString("base64");
    const { downloads } = await apply(book, [
      { type: "write", sheet: "Customers", address: "B2", values: [["x"]] },
      { type: "download", name: "合同-D0001.pdf", media_type: "application/pdf", data },
    ]);
    expect(downloads).toHaveLength(1);
    expect(downloads[0].name).toBe("合同-D0001.pdf");
    expect(downloads[0].mediaType).toBe("application/pdf");
    expect(downloads[0].blob.type).toBe("application/pdf");
    expect(await downloads[0].blob.text()).toBe(pdf);
  });
});

describe("all or nothing", () => {
  const everything = () => [
    { type: "write", sheet: "Customers", address: "B2", values: [["first"]] },
    { type: "append_rows", sheet: "Customers", table: "Customers", address: "A4:D4", values: [["C0003", "王芳", "1", 2]] },
    { type: "add_column", sheet: "Customers", table: "Customers", address: "E1:E4", values: [["Segment"], ["A"], ["B"], ["C"]] },
    { type: "add_sheet", sheet: "Dashboard", visibility: "Visible", replace: true },
    { type: "add_table", sheet: "Dashboard", table: "Dashboard_Top", address: "A1:A2", values: [["H"], ["v"]] },
    { type: "chart", sheet: "Dashboard", kind: "Pie", title: "t", source: "A1:A2", series: "Columns", anchor: "C1", width: 100, height: 100 },
    { type: "write", sheet: "Customers", address: "A3:D3", values: [["third", null, "=2+2", 5]] },
    { type: "format", sheet: "Customers", address: "A1:D1", bold: true },
    { type: "state", items: { schema: "3" } },
    { type: "download", name: "x.pdf", media_type: "application/pdf", data: "eA==" },
  ];

  it("puts every cell, sheet and table back when the 3rd write fails at sync", async () => {
    const book = crm();
    const before = book.snapshot();
    let writes = 0;
    book.failOn = (op) => op.kind === "set" && op.prop === "values" && ++writes === 3;
    const error = await apply(book, everything()).catch((e) => e);
    expect(error.kind).toBe("workbook");
    expect(error.message).toMatch(/Excel refused a change: GeneralException.*The workbook was left unchanged\./);
    expect(writes).toBeGreaterThanOrEqual(3);
    expect(book.snapshot()).toEqual(before);
  });

  it("says the workbook is not as it was when the undo fails too", async () => {
    const book = crm();
    let failed = 0;
    // The write fails, then the undo's first write fails as well.
    book.failOn = (op) => op.kind === "set" && op.prop === "values" && failed < 2 && ++failed > 0;
    const error = await apply(book, everything(), { lang: "zh-CN" }).catch((e) => e);
    expect(error.kind).toBe("partial");
    expect(error.message).toContain("未能完全撤销");
    expect(error.message).not.toContain("工作簿未作任何更改");
  });

  it("puts everything back when the last change of the batch fails, in Chinese", async () => {
    const book = crm();
    const before = book.snapshot();
    // The replaced sheet's deletion is the last change of the batch; it fails once (the
    // undo deletes the new sheet, which must work).
    let failed = false;
    book.failOn = (op) =>
      !failed && op.kind === "call" && op.method === "delete" && op.handle.constructor.name === "SheetHandle" && (failed = true);
    const error = await apply(book, everything(), { lang: "zh-CN" }).catch((e) => e);
    expect(error.message).toContain("工作簿未作任何更改");
    expect(book.snapshot()).toEqual(before);
  });

  it("refuses an unknown sheet before writing anything", async () => {
    const book = crm();
    const before = book.snapshot();
    const actions = everything();
    actions.splice(1, 0, { type: "write", sheet: "Deals", address: "A1", values: [[1]] });
    const error = await apply(book, actions).catch((e) => e);
    expect(error.kind).toBe("workbook");
    expect(error.where).toBe("Deals!A1");
    expect(error.message).toBe('Deals!A1: there is no sheet "Deals". Nothing was written to the workbook.');
    expect(book.snapshot()).toEqual(before);
    expect(book.syncs.every((s) => s.ops > 0)).toBe(true); // it did look: loads only
  });

  it("refuses an unknown table and an unknown action type", async () => {
    const book = crm();
    const before = book.snapshot();
    await expect(
      apply(book, [{ type: "append_rows", sheet: "Customers", table: "Deals", address: "A4:A4", values: [[1]] }]),
    ).rejects.toThrow('there is no Excel Table "Deals"');
    await expect(apply(book, [{ type: "explode" }])).rejects.toThrow("cannot apply (explode: unknown type)");
    expect(book.snapshot()).toEqual(before);
  });
});
