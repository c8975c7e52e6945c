// Reading the workbook for the service: the inventory and the asked columns only.
// Excel is office-addin-mock with the thin workbook model of excel-mock.js (no Excel here).

import { describe, expect, it } from "vitest";
import { Book, excelFor } from "./excel-mock.js";
import {
  readInventory,
  readRanges,
  filterKey,
  CELLS_PER_SYNC,
} from "../../addin/web/js/excel-read.js";

function crm() {
  return new Book({
    sheets: [
      {
        name: "客户",
        cells: {
          A1: "ID", B1: "姓名", C1: "邮箱", D1: "创建日期",
          A2: "C0001", B2: "张伟", C2: "zw@hd.cn", D2: 45292,
          A3: "C0002", B3: "李娜", C3: "ln@hd.cn", D3: 45300.5,
          A4: "C0003", B4: "", C4: "", D4: "",
          F9: "a note far below, outside the table's columns",
        },
        formats: { D2: "yyyy-mm-dd", D3: "yyyy-mm-dd hh:mm" },
      },
      { name: "Notes", cells: { B2: "x", C3: true } },
      { name: "Empty" },
      {
        name: "_xlcrm",
        visibility: "VeryHidden",
        cells: {
          A1: "key", B1: "value",
          A2: "schema", B2: "3",
          A3: "mailbox:imaps://sales@corp.cn", B3: '{"uid', C3: 'validity": 7,', D3: ' "next": 120}',
        },
      },
    ],
    tables: [{ name: "Customers", sheet: "客户", address: "A1:D4" }],
    selection: { sheet: "客户", address: "A2:D3" },
  });
}

describe("readInventory", () => {
  it("lists sheets with used ranges and first rows, tables, state and selection", async () => {
    const book = crm();
    const seen = await excelFor(book).run((context) => readInventory(context));
    expect(seen).toEqual({
      inventory: {
        sheets: [
          { name: "客户", visibility: "Visible", used: "A1:F9", first_row: ["ID", "姓名", "邮箱", "创建日期", "", ""] },
          { name: "Notes", visibility: "Visible", used: "B2:C3", first_row: ["x", ""] },
          { name: "Empty", visibility: "Visible", used: null, first_row: [] },
          {
            name: "_xlcrm",
            visibility: "VeryHidden",
            used: "A1:D3",
            first_row: ["key", "value", "", ""],
          },
        ],
        tables: [{ name: "Customers", sheet: "客户", address: "A1:D4", headers: ["ID", "姓名", "邮箱", "创建日期"] }],
      },
      state: { schema: "3", "mailbox:imaps://sales@corp.cn": '{"uidvalidity": 7, "next": 120}' },
      selection: { sheet: "客户", address: "A2:D3" },
    });
    // Two round trips whatever the number of sheets: list, then everything about them.
    expect(book.syncs).toHaveLength(2);
  });

  it("gives a selection of several blocks without the sheet names", async () => {
    const book = crm();
    book.selection = { sheet: "客户", address: "A2:D2,A4:D4" };
    const seen = await excelFor(book).run((context) => readInventory(context));
    expect(seen.selection).toEqual({ sheet: "客户", address: "A2:D2,A4:D4" });
  });

  it("gives no selection when a chart is selected, and still reads the rest", async () => {
    const book = crm();
    book.selection = "chart";
    const seen = await excelFor(book).run((context) => readInventory(context));
    expect(seen.selection).toBeNull();
    expect(seen.inventory.tables.map((t) => t.name)).toEqual(["Customers"]);
  });

  it("gives an empty state when there is no _xlcrm sheet", async () => {
    const book = crm();
    book.sheets = book.sheets.filter((s) => s.name !== "_xlcrm");
    const seen = await excelFor(book).run((context) => readInventory(context));
    expect(seen.state).toEqual({});
  });
});

describe("readRanges", () => {
  it("reads the whole header and only the asked columns, in the asked order", async () => {
    const book = crm();
    const tables = await excelFor(book).run((context) =>
      readRanges(context, {
        customers: { sheet: "客户", table: "Customers", address: "A1:D4", columns: [3, 0, 1] },
      }),
    );
    expect(tables).toEqual({
      customers: {
        sheet: "客户",
        table: "Customers",
        address: "A1:D4",
        columns: [3, 0, 1],
        header: ["ID", "姓名", "邮箱", "创建日期"],
        // Dates stay serial numbers; the service converts them by the column's type.
        rows: [
          [45292, "C0001", "张伟"],
          [45300.5, "C0002", "李娜"],
          ["", "C0003", ""],
        ],
        last_used_row: 4,
      },
    });
  });

  it("reports the last used row of the whole range, even in columns not read", async () => {
    const book = crm();
    const tables = await excelFor(book).run((context) =>
      readRanges(context, { notes: { sheet: "客户", table: null, address: "A1:F20", columns: [0] } }),
    );
    expect(tables.notes.last_used_row).toBe(9);
    expect(tables.notes.rows).toHaveLength(19);
    expect(tables.notes.rows[8]).toEqual([""]);
    expect(tables.notes.header).toEqual(["ID", "姓名", "邮箱", "创建日期", "", ""]);
  });

  it("reads every column when columns is null", async () => {
    const book = crm();
    const tables = await excelFor(book).run((context) =>
      readRanges(context, { c: { sheet: "Notes", address: "B2:C3", columns: null } }),
    );
    expect(tables.c.rows).toEqual([["", true]]);
    expect(tables.c.columns).toBeNull();
  });

  it("refuses a column outside the range", async () => {
    const book = crm();
    await expect(
      excelFor(book).run((context) => readRanges(context, { c: { sheet: "Notes", address: "B2:C3", columns: [2] } })),
    ).rejects.toThrow("column 2");
  });

  it("splits a big range into syncs that fit Excel on the web's payload limit", async () => {
    const rows = 150_000;
    const cells = { A1: "ID", B1: "Name", C1: "Unread" };
    for (let r = 2; r <= rows + 1; r++) {
      cells[`A${r}`] = `C${r}`;
      cells[`B${r}`] = r;
    }
    const book = new Book({ sheets: [{ name: "Big", cells }] });
    const address = `A1:C${rows + 1}`;
    const tables = await excelFor(book).run((context) =>
      readRanges(context, { big: { sheet: "Big", address, columns: [0, 1] } }),
    );
    const big = tables.big;
    expect(big.rows).toHaveLength(rows);
    expect(big.rows[0]).toEqual(["C2", 2]);
    expect(big.rows[rows - 1]).toEqual([`C${rows + 1}`, rows + 1]);
    // 300,000 cells: more than one sync, none above the budget (the mock's payload limit
    // would have failed a single one).
    expect(book.syncs.length).toBeGreaterThan(1);
    expect(Math.max(...book.syncs.map((s) => s.cells))).toBeLessThanOrEqual(CELLS_PER_SYNC);
    expect(book.syncs.reduce((n, s) => n + s.cells, 0)).toBe(rows * 2 + 3);
  });
});

describe("row filters", () => {
  function interactions() {
    return new Book({
      sheets: [
        {
          name: "Interactions",
          cells: {
            A1: "ID", B1: "Customer", C1: "Subject", D1: "Message-ID", E1: "Thread",
            A2: "I0009", B2: "C0001", C2: "hello", D2: "<A1@Corp.CN>", E2: "a1@corp.cn",
            A3: "I0010", B3: "C0002", C3: "other", D3: "b2@corp.cn", E3: "b2@corp.cn",
            A4: " i0120 ", B4: "C0003", C4: "reply", D4: "c3@corp.cn", E4: "<a1@corp.cn> (thread)",
            A5: "I00099", B5: "C0004", C5: "a hash", D5: "SHA256:ABC", E5: "",
            A6: "X9999", B6: "C0005", C6: "not an id", D6: 42, E6: "",
          },
        },
      ],
      tables: [{ name: "Interactions", sheet: "Interactions", address: "A1:E6" }],
    });
  }

  it("sends only the rows whose Message-ID or thread is a key, their places and the highest id", async () => {
    const tables = await excelFor(interactions()).run((context) =>
      readRanges(context, {
        interactions: {
          sheet: "Interactions",
          table: "Interactions",
          address: "A1:E6",
          columns: [0, 1, 3, 4],
          filter: { columns: [3, 4], keys: ["a1@corp.cn", "sha256:abc"], id_column: 0, id_prefix: "I" },
        },
      }),
    );
    expect(tables.interactions.rows).toEqual([
      ["I0009", "C0001", "<A1@Corp.CN>", "a1@corp.cn"],
      [" i0120 ", "C0003", "c3@corp.cn", "<a1@corp.cn> (thread)"],
      ["I00099", "C0004", "SHA256:ABC", ""],
    ]);
    expect(tables.interactions.rows_at).toEqual([0, 2, 3]);
    // 120 > 99 although "I00099" is the longer text; X9999 has another prefix.
    expect(tables.interactions.highest_id).toBe("i0120");
    expect(tables.interactions.last_used_row).toBe(6);
  });

  it("compares cells as the service does (protocol.filter_key)", () => {
    expect(filterKey(" <AbC@X.com> trailing")).toBe("abc@x.com");
    expect(filterKey("<unclosed@X.com")).toBe("unclosed@x.com");
    expect(filterKey("a\u2003b\x1cc\x85d")).toBe("abcd");
    expect(filterKey(42)).toBe(null);
  });
});
