// A workbook for the client's tests: Excel's object model as the client uses it, on top of
// office-addin-mock.
//
// office-addin-mock's OfficeMockObject gives the load/sync discipline: a property read
// before `load` and `context.sync()` is an error. It cannot express the rest, so this file
// wraps it thinly:
// - a mutable workbook (cells, sheets, Excel Tables, charts) behind the API objects, where
//   OfficeMockObject holds a fixed tree of values;
// - Office.js's batching: property sets and method calls are queued and run at
//   `context.sync()`, in order; a failing operation fails the sync and the operations before
//   it stay applied (which is why the client needs its own undo); `failOn` injects failures;
// - methods returning new objects (getRange, getUsedRangeOrNullObject, tables.add, rows.add,
//   charts.add, getItemOrNullObject with isNullObject);
// - Excel's input rule for values set through the API: a leading "'" makes the rest text,
//   "=…" a formula, "00123" a number, "TRUE" a boolean;
// - Excel on the web's payload limit: a sync moving more than `payloadCells` cells fails.
// Each loaded object gets a fresh OfficeMockObject from the workbook's state at the moment
// the load runs in the batch; reads go through it.

import { OfficeMockObject } from "office-addin-mock";
import { columnIndex, formatAddress, parseAddress } from "../../addin/web/js/a1.js";

const ROWS = 1048576;
const COLS = 16384;
const WHOLE = { r1: 0, c1: 0, r2: ROWS - 1, c2: COLS - 1 };

export class OfficeError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

const keyOf = (s) => String(s).toLowerCase();
const at = (r, c) => `${r},${c}`;

/** Excel's reading of a value set through the API, as if typed. */
export function typed(value) {
  if (value === null || value === undefined) throw new OfficeError("InvalidArgument", "null in a values matrix");
  if (typeof value !== "string") return { value };
  if (value === "") return { value: "" };
  if (value.startsWith("'")) return { value: value.slice(1), quotePrefix: true };
  if (value.startsWith("=")) return { value: 0, formula: value }; // formulas are not evaluated here
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) return { value: Number(value) };
  if (/^(true|false)$/i.test(value)) return { value: value.toUpperCase() === "TRUE" };
  return { value };
}

function quoteSheet(name) {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

/** The workbook behind the API. */
export class Book {
  /**
   * @param {{sheets: {name: string, visibility?: string, cells?: Record<string, any>,
   *   formats?: Record<string, string>}[], tables?: {name: string, sheet: string,
   *   address: string}[], selection?: {sheet: string, address: string} | "chart"}} spec
   *   cells by A1 reference: a value as stored (a string is text), or {value, formula}
   */
  constructor(spec) {
    this.sheets = spec.sheets.map((s) => {
      const sheet = { name: s.name, visibility: s.visibility ?? "Visible", cells: new Map(), charts: [], validations: [], widths: new Map() };
      for (const [ref, v] of Object.entries(s.cells ?? {})) {
        const { r1, c1 } = parseAddress(ref);
        sheet.cells.set(at(r1, c1), typeof v === "object" && v !== null ? { ...v } : { value: v });
      }
      for (const [ref, f] of Object.entries(s.formats ?? {})) {
        const { r1, c1 } = parseAddress(ref);
        this.cellOf(sheet, r1, c1, true).numberFormat = f;
      }
      return sheet;
    });
    this.tables = (spec.tables ?? []).map((t) => ({ name: t.name, sheet: this.sheet(t.sheet), box: parseAddress(t.address) }));
    this.selection = spec.selection ?? null;
    this.failOn = null; // (op) => true: that operation fails its sync
    this.payloadCells = 250_000;
    this.syncs = []; // per sync: {cells, ops}
    this.charts = 0;
  }

  sheet(name) {
    return this.sheets.find((s) => keyOf(s.name) === keyOf(name)) ?? null;
  }

  table(name) {
    return this.tables.find((t) => keyOf(t.name) === keyOf(name)) ?? null;
  }

  cellOf(sheet, r, c, create = false) {
    let cell = sheet.cells.get(at(r, c));
    if (!cell && create) sheet.cells.set(at(r, c), (cell = { value: "" }));
    return cell ?? null;
  }

  /** A cell as Range.values shows it. */
  value(sheetName, ref) {
    const { r1, c1 } = parseAddress(ref);
    return this.cellOf(this.sheet(sheetName), r1, c1)?.value ?? "";
  }

  cell(sheetName, ref) {
    const { r1, c1 } = parseAddress(ref);
    return this.cellOf(this.sheet(sheetName), r1, c1);
  }

  /**
   * Everything a user could see, for deep comparison before and after. Two things are left
   * out on purpose: Excel's quote-prefix flag (text put back is put back with "'" so that it
   * stays text; Excel shows the flag only in the formula bar) and an explicit "General" number
   * format, not-bold or 11-point font, which are the defaults and look the same.
   */
  snapshot() {
    return {
      sheets: this.sheets.map((s) => ({
        name: s.name,
        visibility: s.visibility,
        cells: [...s.cells.entries()]
          .map(([k, { quotePrefix, ...c }]) => {
            if (c.numberFormat === "General") delete c.numberFormat;
            if (c.bold === false) delete c.bold; // likewise the default font
            if (c.size === 11) delete c.size;
            return [k, c];
          })
          .filter(([, c]) => c.value !== "" || c.formula || c.numberFormat || c.bold || c.size)
          .sort(([a], [b]) => a.localeCompare(b)),
        charts: s.charts.map((c) => ({ ...c })),
        validations: s.validations.map((v) => JSON.parse(JSON.stringify(v))),
        widths: [...s.widths.entries()],
      })),
      tables: this.tables.map((t) => ({ name: t.name, sheet: t.sheet.name, address: formatAddress(t.box) })),
    };
  }

  setValues(sheet, box, matrix, key = "value") {
    const rows = box.r2 - box.r1 + 1;
    const cols = box.c2 - box.c1 + 1;
    if (!Array.isArray(matrix) || matrix.length !== rows || matrix.some((r) => r.length !== cols)) {
      throw new OfficeError("InvalidArgument", `matrix does not fit ${formatAddress(box)}`);
    }
    matrix.forEach((row, i) =>
      row.forEach((v, j) => {
        const cell = this.cellOf(sheet, box.r1 + i, box.c1 + j, true);
        if (key === "numberFormat") {
          if (typeof v !== "string") throw new OfficeError("InvalidArgument", "number format must be text");
          cell.numberFormat = v;
        } else {
          delete cell.formula;
          delete cell.quotePrefix;
          Object.assign(cell, typed(v));
        }
      }),
    );
  }

  clear(sheet, box, what = "All") {
    for (const [k, cell] of [...sheet.cells]) {
      const [r, c] = k.split(",").map(Number);
      if (r < box.r1 || r > box.r2 || c < box.c1 || c > box.c2) continue;
      if (what === "Contents") {
        cell.value = "";
        delete cell.formula;
        delete cell.quotePrefix;
      } else sheet.cells.delete(k);
    }
  }

  /** Cells in rows `from`… of columns c1..c2 move by `by` rows (insert: +, delete: −). */
  shiftRows(sheet, from, c1, c2, by) {
    const moving = [...sheet.cells].filter(([k]) => {
      const [r, c] = k.split(",").map(Number);
      return r >= from && c >= c1 && c <= c2;
    });
    for (const [k] of moving) sheet.cells.delete(k);
    for (const [k, cell] of moving) {
      const [r, c] = k.split(",").map(Number);
      if (r + by >= from || by > 0) sheet.cells.set(at(r + by, c), cell);
    }
  }

  used(sheet, within = WHOLE) {
    let box = null;
    for (const [k, cell] of sheet.cells) {
      if (cell.value === "" && !cell.formula) continue;
      const [r, c] = k.split(",").map(Number);
      if (r < within.r1 || r > within.r2 || c < within.c1 || c > within.c2) continue;
      box = box
        ? { r1: Math.min(box.r1, r), c1: Math.min(box.c1, c), r2: Math.max(box.r2, r), c2: Math.max(box.c2, c) }
        : { r1: r, c1: c, r2: r, c2: c };
    }
    return box;
  }

  matrix(sheet, box, get) {
    const out = [];
    for (let r = box.r1; r <= box.r2; r++) {
      const row = [];
      for (let c = box.c1; c <= box.c2; c++) row.push(get(this.cellOf(sheet, r, c)));
      out.push(row);
    }
    return out;
  }
}

/** Props of a load call as paths: "values, format/font/bold" → ["values", "format/font/bold"]. */
function paths(arg) {
  if (arg === undefined) throw new Error("the mock wants explicit loads: load() of everything is not modelled");
  const list = Array.isArray(arg) ? arg : String(arg).split(",");
  return list.map((p) => p.trim()).filter(Boolean);
}

/** The data tree an OfficeMockObject is built from, holding only what `paths` need. */
function tree(source, list) {
  const data = {};
  for (const path of list) {
    const parts = path.split("/");
    let node = data;
    let from = source;
    parts.forEach((part, i) => {
      if (!(part in from)) throw new Error(`the mock has no property ${path}`);
      if (i === parts.length - 1) node[part] = typeof from[part] === "function" ? from[part]() : from[part];
      else {
        node[part] ??= {};
        node = node[part];
        from = from[part];
      }
    });
  }
  return data;
}

/** An API object: queues what is done to it, answers reads from its last load. */
class Handle {
  constructor(ctx) {
    this._ctx = ctx;
    this._mock = null;
    this._null = false;
    this._nullKnown = false;
  }
  load(arg) {
    const list = paths(arg);
    this._ctx._queue({ kind: "load", handle: this, run: () => this._loadNow(list) });
    return this;
  }
  async _loadNow(list) {
    if (this._null) return;
    const mock = new OfficeMockObject(tree(this._source(), list));
    mock.load(list);
    this._mock = mock;
    this._ctx._pendingMocks.push(mock);
  }
  get isNullObject() {
    if (!this._nullKnown) throw new OfficeError("PropertyNotLoaded", "isNullObject before sync");
    return this._null;
  }
  _read(path) {
    if (!this._mock) throw new OfficeError("PropertyNotLoaded", `${this.constructor.name}.${path} was not loaded`);
    let v = this._mock;
    for (const part of path.split("/")) v = v?.[part];
    if (typeof v === "string" && v.startsWith("Error, ")) {
      throw new OfficeError("PropertyNotLoaded", `${this.constructor.name}.${path}: ${v}`);
    }
    return v;
  }
  _set(prop, value, apply) {
    this._ctx._queue({ kind: "set", handle: this, prop, value, run: apply });
  }
  _call(method, apply, cells = 0) {
    this._ctx._queue({ kind: "call", handle: this, method, cells, run: apply });
  }
}

class RangeHandle extends Handle {
  /** @param {() => {sheet: object, box: object} | null} locate  run at sync */
  constructor(ctx, locate, nullable = false) {
    super(ctx);
    this._locate = locate;
    this._where = null;
    if (nullable) {
      ctx._queue({ kind: "resolve", handle: this, run: () => this._resolve(true) });
    }
    const range = this;
    this.format = {
      font: {
        set bold(v) { range._set("format/font/bold", v, () => range._each((c) => (c.bold = v))); },
        get bold() { return range._read("format/font/bold"); },
        set size(v) { range._set("format/font/size", v, () => range._each((c) => (c.size = v))); },
        get size() { return range._read("format/font/size"); },
      },
      set columnWidth(v) {
        range._set("format/columnWidth", v, () => {
          const { sheet, box } = range._resolve();
          for (let c = box.c1; c <= box.c2; c++) sheet.widths.set(c, v);
        });
      },
      get columnWidth() { return range._read("format/columnWidth"); },
      set rowHeight(v) {
        range._set("format/rowHeight", v, () => {
          const { sheet, box } = range._resolve();
          sheet.heights ??= new Map();
          for (let r = box.r1; r <= box.r2; r++) sheet.heights.set(r, v);
        });
      },
      set horizontalAlignment(v) {
        range._set("format/horizontalAlignment", v, () => {
          if (!["General", "Left", "Center", "Right"].includes(v)) throw new OfficeError("InvalidArgument", `horizontalAlignment ${v}`);
          range._each((c) => (c.horizontal = v));
        });
      },
      set wrapText(v) { range._set("format/wrapText", v, () => range._each((c) => (c.wrap = v))); },
    };
    this.dataValidation = {
      set rule(v) { range._set("dataValidation/rule", v, () => range._validation().rule = v); },
      set errorAlert(v) { range._set("dataValidation/errorAlert", v, () => range._validation().errorAlert = v); },
    };
  }
  _resolve(nullable = false) {
    if (!this._where) {
      const where = this._locate();
      if (!where) {
        if (!nullable) throw new OfficeError("ItemNotFound", "the range does not exist");
        this._null = true;
      }
      this._where = where;
      this._nullKnown = true;
    }
    if (this._null && !nullable) throw new OfficeError("InvalidOperation", "the object is a null object");
    return this._where;
  }
  _each(fn) {
    const { sheet, box } = this._resolve();
    const book = this._ctx._book;
    for (let r = box.r1; r <= box.r2; r++) for (let c = box.c1; c <= box.c2; c++) fn(book.cellOf(sheet, r, c, true));
  }
  _validation() {
    const { sheet, box } = this._resolve();
    const address = formatAddress(box);
    let v = sheet.validations.find((x) => x.address === address);
    if (!v) sheet.validations.push((v = { address }));
    return v;
  }
  _cells() {
    const { box } = this._resolve();
    return (box.r2 - box.r1 + 1) * (box.c2 - box.c1 + 1);
  }
  _source() {
    const { sheet, box } = this._resolve();
    const book = this._ctx._book;
    const first = book.cellOf(sheet, box.r1, box.c1);
    return {
      address: () => `${quoteSheet(sheet.name)}!${formatAddress(box)}`,
      values: () => book.matrix(sheet, box, (c) => c?.value ?? ""),
      formulas: () => book.matrix(sheet, box, (c) => c?.formula ?? c?.value ?? ""),
      numberFormat: () => book.matrix(sheet, box, (c) => c?.numberFormat ?? "General"),
      rowCount: () => box.r2 - box.r1 + 1,
      columnCount: () => box.c2 - box.c1 + 1,
      worksheet: { name: () => sheet.name },
      format: {
        font: { bold: () => first?.bold ?? false, size: () => first?.size ?? 11 },
        columnWidth: () => sheet.widths.get(box.c1) ?? 48,
      },
    };
  }
  get address() { return this._read("address"); }
  get values() { return this._read("values"); }
  get formulas() { return this._read("formulas"); }
  get numberFormat() { return this._read("numberFormat"); }
  get worksheet() { return { name: this._read("worksheet/name") }; }
  set values(v) {
    this._ctx._cells(Array.isArray(v) ? v.length * (v[0]?.length ?? 0) : 1);
    this._set("values", v, () => {
      const { sheet, box } = this._resolve();
      this._ctx._book.setValues(sheet, box, v);
    });
  }
  set numberFormat(v) {
    this._ctx._cells(Array.isArray(v) ? v.length * (v[0]?.length ?? 0) : 1);
    this._set("numberFormat", v, () => {
      const { sheet, box } = this._resolve();
      this._ctx._book.setValues(sheet, box, v, "numberFormat");
    });
  }
  load(arg) {
    const list = paths(arg);
    const heavy = list.filter((p) => ["values", "formulas", "numberFormat"].includes(p)).length;
    this._ctx._queue({
      kind: "load",
      handle: this,
      run: () => {
        if (!this._null) this._ctx._countCells(heavy * this._cells());
        return this._loadNow(list);
      },
    });
    return this;
  }
  _sub(fn, nullable = false) {
    return new RangeHandle(this._ctx, () => {
      const where = this._resolve();
      const box = fn(where);
      return box ? { sheet: where.sheet, box } : null;
    }, nullable);
  }
  getRow(i) { return this._sub(({ box }) => ({ ...box, r1: box.r1 + i, r2: box.r1 + i })); }
  getLastRow() { return this._sub(({ box }) => ({ ...box, r1: box.r2 })); }
  getUsedRangeOrNullObject(valuesOnly) {
    if (valuesOnly !== true) throw new Error("the mock models used ranges of values only");
    return this._sub(({ sheet, box }) => this._ctx._book.used(sheet, box), true);
  }
  clear(what = "All") {
    this._call("clear", () => {
      const { sheet, box } = this._resolve();
      this._ctx._book.clear(sheet, box, what);
    });
  }
}

class SheetHandle extends Handle {
  constructor(ctx, locate, nullable = false) {
    super(ctx);
    this._locate = locate;
    this._sheet = null;
    if (nullable) ctx._queue({ kind: "resolve", handle: this, run: () => this._resolve(true) });
    this.tables = {
      add: (address, hasHeaders) => {
        const table = new TableHandle(ctx, null);
        this._call("tables.add", () => {
          const sheet = this._resolve();
          if (hasHeaders !== true) throw new Error("the mock models tables with headers only");
          const box = parseAddress(address);
          const book = ctx._book;
          if (book.tables.some((t) => t.sheet === sheet && !(t.box.r2 < box.r1 || box.r2 < t.box.r1 || t.box.c2 < box.c1 || box.c2 < t.box.c1))) {
            throw new OfficeError("InvalidOperation", "a table cannot overlap another table");
          }
          let n = book.tables.length + 1;
          while (book.table(`Table${n}`)) n++;
          const model = { name: `Table${n}`, sheet, box };
          book.tables.push(model);
          table._table = model;
        });
        return table;
      },
    };
    const self = this;
    this.charts = new CollectionHandle(ctx, () => this._resolve().charts, (model) => new ChartHandle(ctx, model, self));
    this.charts.add = (type, source, seriesBy) => {
      const chart = new ChartHandle(ctx, null, self);
      this._call("charts.add", () => {
        const sheet = this._resolve();
        const { box } = source._resolve();
        const model = { name: `Chart ${++ctx._book.charts}`, type, source: formatAddress(box), seriesBy, title: "", anchor: null, width: 360, height: 216 };
        sheet.charts.push(model);
        chart._model = model;
      });
      return chart;
    };
  }
  _resolve(nullable = false) {
    if (!this._sheet) {
      this._sheet = this._locate();
      this._nullKnown = true;
      if (!this._sheet) {
        this._null = true;
        if (!nullable) throw new OfficeError("ItemNotFound", "no such sheet");
      }
    }
    if (this._null && !nullable) throw new OfficeError("InvalidOperation", "the object is a null object");
    return this._sheet;
  }
  _source() {
    const sheet = this._resolve();
    return {
      name: () => sheet.name,
      visibility: () => sheet.visibility,
      position: () => this._ctx._book.sheets.indexOf(sheet),
    };
  }
  get name() { return this._read("name"); }
  get visibility() { return this._read("visibility"); }
  get position() { return this._read("position"); }
  set name(v) {
    this._set("name", v, () => {
      const sheet = this._resolve();
      const other = this._ctx._book.sheet(v);
      if (other && other !== sheet) throw new OfficeError("InvalidArgument", `a sheet ${v} exists`);
      sheet.name = v;
    });
  }
  /** Worksheet.position (ExcelApi 1.1): the sheet moves to that place among the tabs. */
  set position(v) {
    this._set("position", v, () => {
      const book = this._ctx._book;
      const sheet = this._resolve();
      const sheets = book.sheets;
      if (!Number.isInteger(v) || v < 0 || v >= sheets.length) throw new OfficeError("InvalidArgument", `position ${v}`);
      sheets.splice(sheets.indexOf(sheet), 1);
      sheets.splice(v, 0, sheet);
    });
  }
  set visibility(v) {
    this._set("visibility", v, () => {
      if (!["Visible", "Hidden", "VeryHidden"].includes(v)) throw new OfficeError("InvalidArgument", `visibility ${v}`);
      this._resolve().visibility = v;
    });
  }
  set position(v) {
    this._set("position", v, () => {
      const sheets = this._ctx._book.sheets;
      const sheet = this._resolve();
      sheets.splice(sheets.indexOf(sheet), 1);
      sheets.splice(Math.min(v, sheets.length), 0, sheet);
    });
  }
  getRange(address) {
    return new RangeHandle(this._ctx, () => ({ sheet: this._resolve(), box: address === undefined ? WHOLE : parseAddress(address) }));
  }
  getUsedRange(valuesOnly) {
    if (valuesOnly !== true) throw new Error("the mock models used ranges of values only");
    // A blank sheet's used range is A1, as in Excel.
    return new RangeHandle(this._ctx, () => {
      const sheet = this._resolve();
      return { sheet, box: this._ctx._book.used(sheet) ?? { r1: 0, c1: 0, r2: 0, c2: 0 } };
    });
  }
  getUsedRangeOrNullObject(valuesOnly) {
    if (valuesOnly !== true) throw new Error("the mock models used ranges of values only");
    return new RangeHandle(this._ctx, () => {
      const sheet = this._resolve();
      const box = this._ctx._book.used(sheet);
      return box ? { sheet, box } : null;
    }, true);
  }
  delete() {
    this._call("delete", () => {
      const book = this._ctx._book;
      const sheet = this._resolve();
      if (book.sheets.filter((s) => s !== sheet && s.visibility === "Visible").length === 0) {
        throw new OfficeError("InvalidOperation", "a workbook must keep a visible sheet");
      }
      book.sheets.splice(book.sheets.indexOf(sheet), 1);
      book.tables = book.tables.filter((t) => t.sheet !== sheet);
    });
  }
}

class TableHandle extends Handle {
  constructor(ctx, locate, nullable = false) {
    super(ctx);
    this._locate = locate;
    this._table = null;
    if (nullable) ctx._queue({ kind: "resolve", handle: this, run: () => this._resolve(true) });
    const table = this;
    this.rows = {
      add: (index, values) => {
        if (index !== null && index !== undefined) throw new Error("the mock adds rows at the end only");
        ctx._cells(values.length * (values[0]?.length ?? 0));
        this._call("rows.add", () => {
          const t = table._resolve();
          const book = ctx._book;
          const n = values.length;
          // Excel inserts the rows: cells below the table, in its columns, move down.
          book.shiftRows(t.sheet, t.box.r2 + 1, t.box.c1, t.box.c2, n);
          book.setValues(t.sheet, { ...t.box, r1: t.box.r2 + 1, r2: t.box.r2 + n }, values);
          t.box = { ...t.box, r2: t.box.r2 + n };
        });
      },
      getItemAt: (i) => ({
        delete: () =>
          this._call("rows.delete", () => {
            const t = table._resolve();
            const r = t.box.r1 + 1 + i;
            if (r > t.box.r2) throw new OfficeError("ItemNotFound", `no table row ${i}`);
            const book = ctx._book;
            for (let c = t.box.c1; c <= t.box.c2; c++) t.sheet.cells.delete(at(r, c));
            book.shiftRows(t.sheet, r + 1, t.box.c1, t.box.c2, -1);
            t.box = { ...t.box, r2: t.box.r2 - 1 };
          }),
      }),
    };
  }
  _resolve(nullable = false) {
    if (!this._table) {
      this._table = this._locate ? this._locate() : null;
      this._nullKnown = true;
      if (!this._table) {
        this._null = true;
        if (!nullable) throw new OfficeError("ItemNotFound", "no such table");
      }
    }
    if (this._null && !nullable) throw new OfficeError("InvalidOperation", "the object is a null object");
    if (!this._ctx._book.tables.includes(this._table)) throw new OfficeError("ItemNotFound", "the table was deleted");
    return this._table;
  }
  _source() {
    const t = this._resolve();
    return { name: () => t.name, worksheet: { name: () => t.sheet.name } };
  }
  get name() { return this._read("name"); }
  get worksheet() { return { name: this._read("worksheet/name") }; }
  set name(v) {
    this._set("name", v, () => {
      const t = this._resolve();
      if (!/^[A-Za-z_\\][A-Za-z0-9_.\\]*$/.test(v)) throw new OfficeError("InvalidArgument", `table name ${v}`);
      const other = this._ctx._book.table(v);
      if (other && other !== t) throw new OfficeError("InvalidArgument", `a table ${v} exists`);
      t.name = v;
    });
  }
  getRange() {
    return new RangeHandle(this._ctx, () => {
      const t = this._resolve();
      return { sheet: t.sheet, box: t.box };
    });
  }
  getHeaderRowRange() {
    return new RangeHandle(this._ctx, () => {
      const t = this._resolve();
      return { sheet: t.sheet, box: { ...t.box, r2: t.box.r1 } };
    });
  }
  resize(address) {
    this._call("resize", () => {
      const t = this._resolve();
      const box = parseAddress(address);
      if (box.r1 !== t.box.r1 || box.c1 !== t.box.c1) throw new OfficeError("InvalidArgument", "a table keeps its top-left cell");
      t.box = box;
    });
  }
  delete() {
    this._call("delete", () => {
      const t = this._resolve();
      const book = this._ctx._book;
      book.clear(t.sheet, t.box, "All");
      book.tables.splice(book.tables.indexOf(t), 1);
    });
  }
}

class ChartHandle extends Handle {
  constructor(ctx, model, sheet) {
    super(ctx);
    this._model = model;
    this._sheet = sheet;
    const chart = this;
    this.title = { set text(v) { chart._set("title/text", v, () => (chart._model.title = v)); } };
  }
  _source() {
    return { name: () => this._model.name };
  }
  get name() { return this._read("name"); }
  set width(v) { this._set("width", v, () => (this._model.width = v)); }
  set height(v) { this._set("height", v, () => (this._model.height = v)); }
  setPosition(start, end) {
    this._call("setPosition", () => {
      parseAddress(start);
      this._model.anchor = start;
      if (end !== undefined) {
        parseAddress(end);
        this._model.end = end;
      }
    });
  }
  delete() {
    this._call("delete", () => {
      const charts = this._sheet._resolve().charts;
      charts.splice(charts.indexOf(this._model), 1);
    });
  }
}

/** The selection as RangeAreas: "Deals!A2:C4,Deals!A7:C7"; a chart selected fails the sync. */
class SelectionHandle extends Handle {
  _source() {
    const book = this._ctx._book;
    if (book.selection === "chart" || !book.selection) throw new OfficeError("InvalidSelection", "the selection is not a range");
    const sheet = book.sheet(book.selection.sheet);
    const parts = book.selection.address.split(",").map((a) => `${quoteSheet(sheet.name)}!${formatAddress(parseAddress(a))}`);
    return { address: () => parts.join(","), worksheet: { name: () => sheet.name } };
  }
  get address() { return this._read("address"); }
  get worksheet() { return { name: this._read("worksheet/name") }; }
}

/** worksheets, tables, charts: `load("items/…")` fills `items` at sync. */
class CollectionHandle extends Handle {
  constructor(ctx, models, wrap) {
    super(ctx);
    this._models = models;
    this._wrap = wrap;
    this._items = null;
  }
  load(arg) {
    const list = paths(arg).map((p) => {
      if (!p.startsWith("items/")) throw new Error(`the mock loads collection items only, not ${p}`);
      return p.slice("items/".length);
    });
    this._ctx._queue({
      kind: "load",
      handle: this,
      run: async () => {
        this._items = this._models().map((m) => this._wrap(m));
        for (const item of this._items) await item._loadNow(list);
      },
    });
    return this;
  }
  get items() {
    if (!this._items) throw new OfficeError("PropertyNotLoaded", "items was not loaded");
    return this._items;
  }
}

class Context {
  constructor(book) {
    this._book = book;
    this._ops = [];
    this._pendingMocks = [];
    this._moved = 0;
    const ctx = this;
    const sheetOf = (model) => new SheetHandle(ctx, () => model);
    const worksheets = new CollectionHandle(ctx, () => book.sheets, sheetOf);
    worksheets.getItem = (name) => new SheetHandle(ctx, () => book.sheet(name));
    worksheets.getItemOrNullObject = (name) => new SheetHandle(ctx, () => book.sheet(name), true);
    worksheets.add = (name) => {
      const handle = new SheetHandle(ctx, () => null);
      ctx._queue({
        kind: "call",
        handle,
        method: "worksheets.add",
        run: () => {
          if (book.sheet(name)) throw new OfficeError("ItemAlreadyExists", `a sheet ${name} exists`);
          if (!name || name.length > 31 || /[\\/?*[\]:]/.test(name)) throw new OfficeError("InvalidArgument", `sheet name ${name}`);
          const sheet = { name, visibility: "Visible", cells: new Map(), charts: [], validations: [], widths: new Map() };
          book.sheets.push(sheet);
          handle._sheet = sheet;
          handle._nullKnown = true;
        },
      });
      return handle;
    };
    const tableOf = (model) => new TableHandle(ctx, () => model);
    const tables = new CollectionHandle(ctx, () => book.tables, tableOf);
    tables.getItem = (name) => new TableHandle(ctx, () => book.table(name));
    tables.getItemOrNullObject = (name) => new TableHandle(ctx, () => book.table(name), true);
    this.workbook = {
      worksheets,
      tables,
      getSelectedRanges: () => new SelectionHandle(ctx),
    };
  }
  _queue(op) {
    this._ops.push(op);
  }
  _cells(n) {
    this._moved += n;
  }
  _countCells(n) {
    this._moved += n;
  }
  async sync() {
    const ops = this._ops;
    this._ops = [];
    const record = { ops: ops.length, cells: this._moved };
    this._book.syncs.push(record);
    try {
      // Writes are known before anything runs: a request that large is refused whole.
      if (this._moved > this._book.payloadCells) {
        throw new OfficeError("RequestPayloadSizeLimitExceeded", `${this._moved} cells in one request`);
      }
      for (const op of ops) {
        if (this._book.failOn?.(op)) throw new OfficeError("GeneralException", `the mock failed ${op.kind} ${op.prop ?? op.method ?? ""}`);
        await op.run();
      }
      // Loads are counted as they run (a range's size is known then).
      record.cells = this._moved;
      if (this._moved > this._book.payloadCells) {
        throw new OfficeError("RequestPayloadSizeLimitExceeded", `${this._moved} cells in one sync`);
      }
      const mocks = this._pendingMocks;
      this._pendingMocks = [];
      for (const mock of mocks) await mock.sync();
      // OfficeMockObject fills nested properties in callbacks it does not await.
      await new Promise((resolve) => setTimeout(resolve, 0));
    } finally {
      this._moved = 0;
      this._pendingMocks = [];
    }
  }
}

/** The `Excel` namespace over a Book: `Excel.run(async (context) => …)`, as in the README. */
export function excelFor(book) {
  return new OfficeMockObject({
    run: async function (callback) {
      return callback(new Context(book));
    },
  });
}

/** A column letter's index, re-exported for tests that build big sheets. */
export { columnIndex };
