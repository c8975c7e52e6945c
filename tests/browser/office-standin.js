// A stand-in for the Office host, served in place of Microsoft's office.js in the browser test
// (tests/test_browser.py routes https://appsforoffice.microsoft.com/lib/1/hosted/office.js
// here). Excel cannot run here, so this plays its part: an `Office` global (onReady, the display
// language, the document's URL) and an `Excel` global whose Excel.run hands out a
// RequestContext over an in-memory workbook that the test seeds with JSON (sheets with cells,
// Excel Tables, the selection) in `globalThis.__XLCRM_STANDIN__` before the page loads.
//
// It behaves like the real API where the add-in could get it wrong: proxies queue loads and
// writes until `context.sync()`, reading a property that was not loaded throws
// PropertyNotLoaded, getItem on a missing sheet fails at sync with ItemNotFound, a
// ...OrNullObject gives `isNullObject`, strings written with Excel's text prefix `'` are stored
// without it, null in `values` leaves a cell as it is. It models only what the task pane and
// client.js use, and anything else — an unknown property or method on any object — throws
// at once, so a gap in the stand-in is loud, never a silent undefined. Its A1 code is its own
// (not addin/web/js/a1.js), so that a bug there cannot hide itself in the test.
//
// `globalThis.__xlcrmHost` exposes the workbook so the test can read what the add-in wrote.

(() => {
  "use strict";

  const seed = globalThis.__XLCRM_STANDIN__;
  if (!seed) throw new Error("office stand-in: no __XLCRM_STANDIN__ seed (add_init_script)");

  // The Excel this stand-in plays: its ExcelApi requirement set (seed.excelApi, default 1.17,
  // Microsoft 365 today). An API newer than that fails at sync with ApiNotFound, as in an
  // older Excel (the CDN's office.js has every API's proxy; the host refuses the call).
  const EXCEL_API = String(seed.excelApi || "1.17");
  const setNumber = (v) => String(v).split(".").map(Number);
  function has(version) {
    const [a, b] = setNumber(EXCEL_API);
    const [x, y] = setNumber(version);
    return a > x || (a === x && b >= y);
  }
  function needs(context, version, what) {
    if (has(version)) return;
    context._queue.push(() => {
      throw new OfficeError(
        "ApiNotFound",
        `The API you are trying to use could not be found (${what}, ExcelApi ${version}). It may be available in a newer version of Excel.`,
        what,
      );
    });
  }

  // office.js sets history.replaceState and history.pushState to null (Office owns the frame's
  // history); a pane that calls them throws in Excel. The stand-in does the same.
  if (seed.history !== "keep") {
    history.replaceState = null;
    history.pushState = null;
  }

  const MAX_ROWS = 1048576;
  const MAX_COLS = 16384;

  // ---- errors, like OfficeExtension.Error -------------------------------------------------

  class OfficeError extends Error {
    constructor(code, message, location = "") {
      super(message);
      this.name = "RichApi.Error";
      this.code = code;
      this.debugInfo = { code, message, errorLocation: location };
    }
  }

  // ---- A1 addresses -----------------------------------------------------------------------

  function colIndex(letters) {
    let n = 0;
    for (const ch of letters.toUpperCase()) n = n * 26 + ch.charCodeAt(0) - 64;
    return n - 1;
  }

  function colLetters(index) {
    let n = index + 1;
    let out = "";
    while (n > 0) {
      out = String.fromCharCode(65 + ((n - 1) % 26)) + out;
      n = Math.floor((n - 1) / 26);
    }
    return out;
  }

  /** "B2:D9", "$B$2", "A:C" (whole columns), "2:4" (whole rows) → 0-based inclusive box. */
  function parseBox(address) {
    const text = String(address).replace(/\$/g, "").trim();
    let m = /^([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?$/i.exec(text);
    if (m) {
      const box = {
        r1: Number(m[2]) - 1,
        c1: colIndex(m[1]),
        r2: Number(m[4] ?? m[2]) - 1,
        c2: colIndex(m[3] ?? m[1]),
      };
      return normal(box, address);
    }
    m = /^([A-Z]{1,3}):([A-Z]{1,3})$/i.exec(text);
    if (m) return normal({ r1: 0, c1: colIndex(m[1]), r2: MAX_ROWS - 1, c2: colIndex(m[2]) }, address);
    m = /^(\d+):(\d+)$/.exec(text);
    if (m) return normal({ r1: Number(m[1]) - 1, c1: 0, r2: Number(m[2]) - 1, c2: MAX_COLS - 1 }, address);
    throw new OfficeError("InvalidArgument", `The argument is invalid or missing: ${address}`);
  }

  function normal(box, address) {
    const out = {
      r1: Math.min(box.r1, box.r2),
      r2: Math.max(box.r1, box.r2),
      c1: Math.min(box.c1, box.c2),
      c2: Math.max(box.c1, box.c2),
    };
    if (out.r1 < 0 || out.c1 < 0 || out.r2 >= MAX_ROWS || out.c2 >= MAX_COLS) {
      throw new OfficeError("InvalidArgument", `The argument is invalid or missing: ${address}`);
    }
    return out;
  }

  function formatBox({ r1, c1, r2, c2 }) {
    const a = `${colLetters(c1)}${r1 + 1}`;
    const b = `${colLetters(c2)}${r2 + 1}`;
    return a === b ? a : `${a}:${b}`;
  }

  /** Excel quotes a sheet name that is not a plain word: 'My Sheet'!A1, 'O''Brien'!A1. */
  function qualified(sheetName, box) {
    const plain = /^[\p{L}_][\p{L}\p{N}_.]*$/u.test(sheetName);
    const name = plain ? sheetName : `'${sheetName.replace(/'/g, "''")}'`;
    return `${name}!${formatBox(box)}`;
  }

  // ---- the in-memory workbook -------------------------------------------------------------

  class Sheet {
    constructor(name, visibility = "Visible") {
      this.name = name;
      this.visibility = visibility;
      this.cells = new Map(); // "r,c" → value (never "")
      this.formats = new Map(); // "r,c" → number format
      this.styles = new Map(); // "r,c" or "col:c" → { bold, size, columnWidth }
      this.charts = [];
    }

    get(r, c) {
      return this.cells.has(`${r},${c}`) ? this.cells.get(`${r},${c}`) : "";
    }

    put(r, c, value) {
      if (value === "" || value === null || value === undefined) this.cells.delete(`${r},${c}`);
      else this.cells.set(`${r},${c}`, value);
    }

    /** Bounding box of the cells with a value inside `within` (the whole sheet by default). */
    used(within = null) {
      let box = null;
      for (const key of this.cells.keys()) {
        const [r, c] = key.split(",").map(Number);
        if (within && (r < within.r1 || r > within.r2 || c < within.c1 || c > within.c2)) continue;
        if (!box) box = { r1: r, c1: c, r2: r, c2: c };
        else {
          box.r1 = Math.min(box.r1, r);
          box.c1 = Math.min(box.c1, c);
          box.r2 = Math.max(box.r2, r);
          box.c2 = Math.max(box.c2, c);
        }
      }
      return box;
    }
  }

  class Workbook {
    constructor(data) {
      this.sheets = [];
      this.tables = [];
      for (const sheet of data.sheets || []) {
        const ws = new Sheet(sheet.name, sheet.visibility || "Visible");
        (sheet.rows || []).forEach((row, r) =>
          row.forEach((value, c) => ws.put(r, c, value === null ? "" : value)),
        );
        for (const [address, format] of Object.entries(sheet.numberFormats || {})) {
          const box = parseBox(address);
          ws.formats.set(`${box.r1},${box.c1}`, format);
        }
        this.sheets.push(ws);
      }
      for (const table of data.tables || []) {
        this.tables.push({ name: table.name, sheet: this.sheet(table.sheet), box: parseBox(table.address) });
      }
      const areas = (address) => String(address).split(",").map((a) => parseBox(a.trim()));
      this.selection = data.selection
        ? { sheet: this.sheet(data.selection.sheet), boxes: areas(data.selection.address) }
        : { sheet: this.sheets[0], boxes: [parseBox("A1")] };
      this.areas = areas;
      this.active = this.selection.sheet;
    }

    /** Sheet names compare without case, as in Excel. */
    sheet(name) {
      const wanted = String(name).toLowerCase();
      return this.sheets.find((s) => s.name.toLowerCase() === wanted) || null;
    }

    table(name) {
      const wanted = String(name).toLowerCase();
      return this.tables.find((t) => t.name.toLowerCase() === wanted) || null;
    }

    /** The workbook as plain JSON for the test: every sheet's values row by row. */
    dump() {
      return {
        sheets: this.sheets.map((sheet) => {
          const box = sheet.used();
          const rows = [];
          if (box) {
            for (let r = 0; r <= box.r2; r++) {
              const row = [];
              for (let c = 0; c <= box.c2; c++) row.push(sheet.get(r, c));
              rows.push(row);
            }
          }
          return { name: sheet.name, visibility: sheet.visibility, rows, charts: sheet.charts, validations: sheet.validations ?? [] };
        }),
        tables: this.tables.map((t) => ({ name: t.name, sheet: t.sheet.name, address: formatBox(t.box) })),
      };
    }
  }

  const book = new Workbook(seed.workbook || {});
  const actions = new Map(); // Office.actions.associate: the function file's functions
  const dialogs = []; // every dialog opened: {url, options}
  const openDialogs = [];

  // ---- proxies: queued like the real API --------------------------------------------------

  // Names JavaScript itself asks objects for (await looks for "then", JSON.stringify for
  // "toJSON", consoles for symbols); everything else must be a known property or method.
  const ALLOWED = new Set(["then", "toJSON", "constructor", "inspect", "nodeType", "$$typeof"]);

  function strict(object, label) {
    return new Proxy(object, {
      get(target, key, receiver) {
        if (typeof key === "symbol" || key in target || ALLOWED.has(key)) {
          return Reflect.get(target, key, receiver);
        }
        throw new Error(`office stand-in: ${label}.${String(key)} is not modelled`);
      },
      set(target, key, value, receiver) {
        if (key in target || String(key).startsWith("_")) return Reflect.set(target, key, value, receiver);
        throw new Error(`office stand-in: setting ${label}.${String(key)} is not modelled`);
      },
    });
  }

  class ClientObject {
    /** `resolve` finds the object in the workbook when the queue reaches this step, so a
     * proxy made before a change sees the change, as in Excel. */
    constructor(context, resolve, label) {
      this._context = context;
      this._label = label;
      this._target = undefined;
      this._values = {};
      this._nullable = false;
      this._resolve = resolve;
      this._navs = null;
      // Items of a loaded collection are resolved already: they get no step of their own.
      if (resolve === null) return strict(this, label);
      context._queue.push(() => {
        this._target = resolve();
        if (this._target === null && !this._nullable) {
          throw new OfficeError("ItemNotFound", "The requested resource doesn't exist.", label);
        }
        this._values.isNullObject = this._target === null;
      });
      return strict(this, label);
    }

    /** Navigation properties (range.worksheet, range.format…) are one object each, as in
     * Office.js: what was loaded through one is there when it is read through the other. */
    _nav(name, make) {
      this._navs ??= new Map();
      if (!this._navs.has(name)) this._navs.set(name, make());
      return this._navs.get(name);
    }

    get isNullObject() {
      return this._read("isNullObject");
    }

    _read(name) {
      if (!(name in this._values)) {
        throw new OfficeError(
          "PropertyNotLoaded",
          `The property '${name}' is not available. Before reading the property's value, call ` +
            "the load method on the containing object and call \"context.sync()\" on the " +
            "associated request context.",
          `${this._label}.${name}`,
        );
      }
      return this._values[name];
    }

    _write(name, value, apply) {
      this._values[name] = value;
      this._context._queue.push(() => {
        this._live();
        apply(this._target, value);
      });
    }

    _live() {
      if (this._target === null) {
        throw new OfficeError("InvalidObjectPath", "The object is a null object.", this._label);
      }
      return this._target;
    }

    /** `load("a,b/c")`, `load(["a"])`, `load({ select: "a" })`. */
    load(spec = "") {
      const list = Array.isArray(spec)
        ? spec
        : typeof spec === "object"
          ? String(spec.select || "").split(",")
          : String(spec).split(",");
      const paths = list.map((p) => p.trim()).filter(Boolean);
      this._context._queue.push(() => this._fill(paths));
      return this;
    }

    _fill(paths) {
      if (this._target === null) return;
      const nested = new Map();
      for (const path of paths) {
        const [head, ...rest] = path.split("/");
        if (rest.length) {
          if (!nested.has(head)) nested.set(head, []);
          nested.get(head).push(rest.join("/"));
        } else {
          const getter = this.constructor.props[head];
          if (!getter) throw new Error(`office stand-in: ${this._label}.load("${head}") is not modelled`);
          this._values[head] = structuredClone(getter(this._target, this));
        }
      }
      for (const [head, subPaths] of nested) {
        const related = this[head];
        if (!related?._fill) {
          throw new Error(`office stand-in: ${this._label}.load("${head}/…") is not modelled`);
        }
        // Made while the queue runs: resolved here, its own queued step comes too late.
        related._target = related._resolve();
        related._values.isNullObject = related._target === null;
        related._fill(subPaths);
      }
    }
  }
  ClientObject.props = {};

  /** A navigation object found at once from a parent that is already resolved or will be
   * resolved earlier in the queue. */
  function child(Type, parent, find, label) {
    return new Type(parent._context, () => find(parent._live()), label);
  }

  class Collection extends ClientObject {
    get items() {
      return this._read("items");
    }

    _fill(paths) {
      const itemPaths = paths.map((p) => (p.startsWith("items/") ? p.slice(6) : p)).filter((p) => p !== "items");
      const items = this._list(this._target).map((target) => {
        const item = new this.constructor.Item(this._context, null, `${this._label}[…]`);
        item._target = target;
        item._values.isNullObject = false;
        item._fill(itemPaths);
        return item;
      });
      this._values.items = items;
    }
  }

  // ---- Range --------------------------------------------------------------------------------

  function rangeOf(sheet, box) {
    return { sheet, box };
  }

  function matrix(target, cell) {
    const out = [];
    for (let r = target.box.r1; r <= target.box.r2; r++) {
      const row = [];
      for (let c = target.box.c1; c <= target.box.c2; c++) row.push(cell(r, c));
      out.push(row);
    }
    return out;
  }

  function checkSize(target, values, what) {
    const rows = target.box.r2 - target.box.r1 + 1;
    const cols = target.box.c2 - target.box.c1 + 1;
    if (!Array.isArray(values) || values.length !== rows || values.some((row) => !Array.isArray(row) || row.length !== cols)) {
      throw new OfficeError(
        "InvalidArgument",
        `The number of rows or columns in the input array doesn't match the size or dimensions of the range (${what}).`,
        qualified(target.sheet.name, target.box),
      );
    }
  }

  /** What Excel stores for a value written through Range.values. */
  function stored(value) {
    if (typeof value !== "string") return value;
    if (value.startsWith("'")) return value.slice(1); // the text prefix: kept as text
    if (value.startsWith("=")) throw new Error(`office stand-in: formulas are not modelled (${value})`);
    if (value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value); // Excel parses
    return value;
  }

  function huge(target) {
    const cells = (target.box.r2 - target.box.r1 + 1) * (target.box.c2 - target.box.c1 + 1);
    if (cells > 5_000_000) {
      throw new OfficeError("ResponsePayloadSizeLimitExceeded", "The response payload size has exceeded the limit.");
    }
  }

  function firstStyle(t, name) {
    const cell = t.sheet.styles.get(`${t.box.r1},${t.box.c1}`) || {};
    return cell[name] ?? (name === "bold" ? false : name === "size" ? 11 : null);
  }

  class RangeFont extends ClientObject {
    get bold() {
      return this._read("bold");
    }

    get size() {
      return this._read("size");
    }

    set bold(value) {
      this._write("bold", value, (t, v) => style(t, "bold", v));
    }

    set size(value) {
      this._write("size", value, (t, v) => style(t, "size", v));
    }
  }

  RangeFont.props = { bold: (t) => firstStyle(t, "bold"), size: (t) => firstStyle(t, "size") };

  class RangeFormat extends ClientObject {
    get columnWidth() {
      return this._read("columnWidth");
    }

    get font() {
      return this._nav("font", () => child(RangeFont, this, (t) => t, `${this._label}.font`));
    }

    set columnWidth(value) {
      this._write("columnWidth", value, (t, v) => {
        for (let c = t.box.c1; c <= t.box.c2; c++) t.sheet.styles.set(`col:${c}`, { columnWidth: v });
      });
    }

    autofitColumns() {
      this._context._queue.push(() => this._live());
    }

    set horizontalAlignment(value) {
      if (!["General", "Left", "Center", "Right", "Fill", "Justify"].includes(value)) {
        throw new Error(`office stand-in: horizontalAlignment ${value}`);
      }
      this._write("horizontalAlignment", value, (t, v) => style(t, "horizontal", v));
    }

    set wrapText(value) {
      this._write("wrapText", value, (t, v) => style(t, "wrap", Boolean(v)));
    }

    /** ExcelApi 1.9, like Excel. */
    set indentLevel(value) {
      needs(this._context, "1.9", "RangeFormat.indentLevel");
      this._write("indentLevel", value, (t, v) => style(t, "indent", v));
    }

    set rowHeight(value) {
      this._write("rowHeight", value, (t, v) => {
        for (let r = t.box.r1; r <= t.box.r2; r++) t.sheet.styles.set(`row:${r}`, { rowHeight: v });
      });
    }
  }

  RangeFormat.props = {
    columnWidth: (t) => t.sheet.styles.get(`col:${t.box.c1}`)?.columnWidth ?? 48,
  };

  function style(target, name, value) {
    for (let r = target.box.r1; r <= Math.min(target.box.r2, target.box.r1 + 100000); r++) {
      for (let c = target.box.c1; c <= target.box.c2; c++) {
        const key = `${r},${c}`;
        target.sheet.styles.set(key, { ...(target.sheet.styles.get(key) || {}), [name]: value });
      }
    }
  }

  class Range extends ClientObject {
    get values() {
      return this._read("values");
    }

    set values(values) {
      this._write("values", values, (t, v) => {
        checkSize(t, v, "values");
        v.forEach((row, i) =>
          row.forEach((value, j) => {
            if (value !== null) t.sheet.put(t.box.r1 + i, t.box.c1 + j, stored(value));
          }),
        );
      });
    }

    get numberFormat() {
      return this._read("numberFormat");
    }

    set numberFormat(formats) {
      this._write("numberFormat", formats, (t, v) => {
        checkSize(t, v, "numberFormat");
        v.forEach((row, i) =>
          row.forEach((format, j) => {
            if (format !== null) t.sheet.formats.set(`${t.box.r1 + i},${t.box.c1 + j}`, format);
          }),
        );
      });
    }

    get address() {
      return this._read("address");
    }

    get rowCount() {
      return this._read("rowCount");
    }

    get columnCount() {
      return this._read("columnCount");
    }

    get worksheet() {
      return this._nav("worksheet", () => child(Worksheet, this, (t) => t.sheet, `${this._label}.worksheet`));
    }

    get format() {
      return this._nav("format", () => child(RangeFormat, this, (t) => t, `${this._label}.format`));
    }

    _range(find, label) {
      return child(Range, this, (t) => {
        const box = normal(find(t.box), label);
        return rangeOf(t.sheet, box);
      }, `${this._label}.${label}`);
    }

    getCell(row, column) {
      return this._range((b) => ({ r1: b.r1 + row, c1: b.c1 + column, r2: b.r1 + row, c2: b.c1 + column }), `getCell(${row}, ${column})`);
    }

    getRow(row) {
      return this._range((b) => ({ r1: b.r1 + row, c1: b.c1, r2: b.r1 + row, c2: b.c2 }), `getRow(${row})`);
    }

    getColumn(column) {
      return this._range((b) => ({ r1: b.r1, c1: b.c1 + column, r2: b.r2, c2: b.c1 + column }), `getColumn(${column})`);
    }

    getResizedRange(deltaRows, deltaColumns) {
      return this._range(
        (b) => ({ r1: b.r1, c1: b.c1, r2: b.r2 + deltaRows, c2: b.c2 + deltaColumns }),
        `getResizedRange(${deltaRows}, ${deltaColumns})`,
      );
    }

    getOffsetRange(rowOffset, columnOffset) {
      return this._range(
        (b) => ({ r1: b.r1 + rowOffset, c1: b.c1 + columnOffset, r2: b.r2 + rowOffset, c2: b.c2 + columnOffset }),
        `getOffsetRange(${rowOffset}, ${columnOffset})`,
      );
    }

    getUsedRange(valuesOnly) {
      requireValuesOnly(valuesOnly);
      return child(Range, this, (t) => rangeOf(t.sheet, t.sheet.used(t.box) || { ...t.box, r2: t.box.r1, c2: t.box.c1 }), `${this._label}.getUsedRange()`);
    }

    getUsedRangeOrNullObject(valuesOnly) {
      requireValuesOnly(valuesOnly);
      return nullable(Range, this, (t) => {
        const box = t.sheet.used(t.box);
        return box ? rangeOf(t.sheet, box) : null;
      }, `${this._label}.getUsedRangeOrNullObject()`);
    }

    clear(applyTo = "All") {
      if (!["All", "Contents", "Formats"].includes(applyTo)) {
        throw new Error(`office stand-in: clear("${applyTo}") is not modelled`);
      }
      this._context._queue.push(() => {
        const t = this._live();
        const inside = (key) => {
          const [r, c] = key.split(",").map(Number);
          return r >= t.box.r1 && r <= t.box.r2 && c >= t.box.c1 && c <= t.box.c2;
        };
        // Over the cells that hold something: a whole sheet has 17 billion cells.
        if (applyTo !== "Formats") for (const key of [...t.sheet.cells.keys()]) if (inside(key)) t.sheet.cells.delete(key);
        if (applyTo !== "Contents") for (const key of [...t.sheet.formats.keys()]) if (inside(key)) t.sheet.formats.delete(key);
      });
    }

    getLastRow() {
      return this._range((b) => ({ ...b, r1: b.r2 }), "getLastRow()");
    }

    get formulas() {
      return this._read("formulas");
    }

    /** Drop-down lists (ExcelApi 1.8): what is set is kept on the sheet for the test. */
    get dataValidation() {
      needs(this._context, "1.8", "Range.dataValidation");
      return this._nav("dataValidation", () => child(DataValidation, this, (t) => t, `${this._label}.dataValidation`));
    }
  }

  class DataValidation extends ClientObject {
    _keep(name, value) {
      this._write(name, value, (t, v) => {
        t.sheet.validations ??= [];
        const address = formatBox(t.box);
        let entry = t.sheet.validations.find((e) => e.address === address);
        if (!entry) t.sheet.validations.push((entry = { address }));
        entry[name] = structuredClone(v);
      });
    }

    set rule(value) {
      this._keep("rule", value);
    }

    set errorAlert(value) {
      this._keep("errorAlert", value);
    }
  }

  Range.props = {
    values: (t) => (huge(t), matrix(t, (r, c) => t.sheet.get(r, c))),
    numberFormat: (t) => (huge(t), matrix(t, (r, c) => t.sheet.formats.get(`${r},${c}`) || "General")),
    // No formulas are modelled (the add-in writes none): a cell's formula is its constant.
    formulas: (t) => (huge(t), matrix(t, (r, c) => t.sheet.get(r, c))),
    address: (t) => qualified(t.sheet.name, t.box),
    rowCount: (t) => t.box.r2 - t.box.r1 + 1,
    columnCount: (t) => t.box.c2 - t.box.c1 + 1,
  };

  // The add-in asks for used ranges by value only (formatting of a blank row is not data); a
  // call without the argument would mean something this stand-in does not model.
  function requireValuesOnly(valuesOnly) {
    if (valuesOnly !== true) throw new Error("office stand-in: getUsedRange without valuesOnly=true is not modelled");
  }

  function nullable(Type, parent, find, label) {
    const object = new Type(parent._context, () => find(parent._live()), label);
    object._nullable = true;
    return object;
  }

  // ---- Worksheet, tables, charts ----------------------------------------------------------

  /** How a sheet prints (ExcelApi 1.9): what is set is kept on the sheet for the tests. */
  class PageLayout extends ClientObject {
    _keep(name, value) {
      this._write(name, value, (t, v) => {
        t.pageLayout ??= {};
        t.pageLayout[name] = structuredClone(v);
      });
    }

    set orientation(value) {
      if (!["Portrait", "Landscape"].includes(value)) throw new Error(`office stand-in: orientation ${value}`);
      this._keep("orientation", value);
    }

    set zoom(value) {
      this._keep("zoom", value);
    }

    set leftMargin(value) {
      this._keep("leftMargin", value);
    }

    set rightMargin(value) {
      this._keep("rightMargin", value);
    }

    set topMargin(value) {
      this._keep("topMargin", value);
    }

    set bottomMargin(value) {
      this._keep("bottomMargin", value);
    }

    setPrintArea(address) {
      this._keep("printArea", address);
    }
  }

  class PageBreakCollection extends ClientObject {
    add(cell) {
      this._write("add", cell, (t, v) => {
        (t.pageBreaks ??= []).push(v);
      });
    }
  }

  class Worksheet extends ClientObject {
    get name() {
      return this._read("name");
    }

    set name(value) {
      this._write("name", value, (t, v) => {
        if (book.sheet(v) && book.sheet(v) !== t) throw new OfficeError("InvalidArgument", `A sheet named ${v} exists.`);
        t.name = v;
      });
    }

    get visibility() {
      return this._read("visibility");
    }

    set visibility(value) {
      if (!["Visible", "Hidden", "VeryHidden"].includes(value)) {
        throw new Error(`office stand-in: visibility ${value} is not an Excel.SheetVisibility`);
      }
      this._write("visibility", value, (t, v) => {
        t.visibility = v;
      });
    }

    get charts() {
      return this._nav("charts", () => child(ChartCollection, this, (t) => t, `${this._label}.charts`));
    }

    get position() {
      return this._read("position");
    }

    get pageLayout() {
      needs(this._context, "1.9", "Worksheet.pageLayout");
      return this._nav("pageLayout", () => child(PageLayout, this, (t) => t, `${this._label}.pageLayout`));
    }

    get horizontalPageBreaks() {
      needs(this._context, "1.9", "Worksheet.horizontalPageBreaks");
      return this._nav("horizontalPageBreaks", () =>
        child(PageBreakCollection, this, (t) => t, `${this._label}.horizontalPageBreaks`),
      );
    }

    /** Moves the sheet to that place among the tabs (0-based), as Excel does. */
    set position(value) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`office stand-in: position ${value}`);
      this._write("position", value, (t, v) => {
        const rest = book.sheets.filter((s) => s !== t);
        rest.splice(Math.min(v, rest.length), 0, t);
        book.sheets = rest;
      });
    }

    activate() {
      this._context._queue.push(() => {
        const t = this._live();
        if (t.visibility !== "Visible") throw new OfficeError("InvalidOperation", "A hidden sheet cannot be activated.");
        book.active = t;
      });
    }

    get tables() {
      return this._nav("tables", () => child(SheetTableCollection, this, (t) => t, `${this._label}.tables`));
    }

    /** `getRange()` without an address is the whole sheet. */
    getRange(address) {
      const box = () => (address === undefined ? { r1: 0, c1: 0, r2: MAX_ROWS - 1, c2: MAX_COLS - 1 } : parseBox(address));
      return child(Range, this, (t) => rangeOf(t, box()), `${this._label}.getRange(${address ?? ""})`);
    }

    getUsedRange(valuesOnly) {
      requireValuesOnly(valuesOnly);
      return child(Range, this, (t) => rangeOf(t, t.used() || parseBox("A1")), `${this._label}.getUsedRange()`);
    }

    getUsedRangeOrNullObject(valuesOnly) {
      requireValuesOnly(valuesOnly);
      return nullable(Range, this, (t) => {
        const box = t.used();
        return box ? rangeOf(t, box) : null;
      }, `${this._label}.getUsedRangeOrNullObject()`);
    }

    delete() {
      this._context._queue.push(() => {
        const t = this._live();
        book.sheets = book.sheets.filter((s) => s !== t);
        book.tables = book.tables.filter((table) => table.sheet !== t);
      });
    }
  }
  Worksheet.props = {
    name: (t) => t.name,
    visibility: (t) => t.visibility,
    position: (t) => book.sheets.indexOf(t),
  };

  class WorksheetCollection extends Collection {
    _list(t) {
      return t.sheets;
    }

    getItem(name) {
      return child(Worksheet, this, (t) => t.sheet(name), `worksheets.getItem(${name})`);
    }

    getItemOrNullObject(name) {
      return nullable(Worksheet, this, (t) => t.sheet(name), `worksheets.getItemOrNullObject(${name})`);
    }

    add(name) {
      return child(Worksheet, this, (t) => {
        if (t.sheet(name)) throw new OfficeError("ItemAlreadyExists", `A sheet named ${name} already exists.`);
        const sheet = new Sheet(name);
        t.sheets.push(sheet);
        return sheet;
      }, `worksheets.add(${name})`);
    }
  }
  WorksheetCollection.Item = Worksheet;

  class TableRow extends ClientObject {
    /** Deleting a row moves the rows under it, inside the table, up by one. */
    delete() {
      this._context._queue.push(() => {
        const { table, index } = this._live();
        const { sheet, box } = table;
        const row = box.r1 + 1 + index;
        for (let r = row; r < box.r2; r++) {
          for (let c = box.c1; c <= box.c2; c++) sheet.put(r, c, sheet.get(r + 1, c));
        }
        for (let c = box.c1; c <= box.c2; c++) sheet.put(box.r2, c, "");
        box.r2 -= 1;
      });
    }
  }

  class TableRowCollection extends ClientObject {
    getItemAt(index) {
      return child(TableRow, this, (t) => {
        if (index < 0 || t.box.r1 + 1 + index > t.box.r2) return null;
        return { table: t, index };
      }, `${this._label}.getItemAt(${index})`);
    }

    /** Rows added at the end (index null) push the cells under the table down, as in Excel. */
    add(index, values) {
      if (index !== null && index !== undefined) throw new Error("office stand-in: rows.add at an index is not modelled");
      this._context._queue.push(() => {
        const table = this._live();
        const { sheet, box } = table;
        const n = values.length;
        const below = [...sheet.cells.entries()].filter(([key]) => {
          const [r, c] = key.split(",").map(Number);
          return r > box.r2 && c >= box.c1 && c <= box.c2;
        });
        for (const [key] of below) sheet.cells.delete(key);
        for (const [key, value] of below) {
          const [r, c] = key.split(",").map(Number);
          sheet.cells.set(`${r + n},${c}`, value);
        }
        const target = rangeOf(sheet, { r1: box.r2 + 1, c1: box.c1, r2: box.r2 + n, c2: box.c2 });
        checkSize(target, values, "rows.add");
        values.forEach((row, i) => row.forEach((v, j) => v !== null && sheet.put(target.box.r1 + i, box.c1 + j, stored(v))));
        box.r2 += n;
      });
    }
  }

  class Table extends ClientObject {
    get name() {
      return this._read("name");
    }

    set name(value) {
      this._write("name", value, (t, v) => {
        t.name = v;
      });
    }

    get worksheet() {
      return this._nav("worksheet", () => child(Worksheet, this, (t) => t.sheet, `${this._label}.worksheet`));
    }

    get rows() {
      return this._nav("rows", () => child(TableRowCollection, this, (t) => t, `${this._label}.rows`));
    }

    getRange() {
      return child(Range, this, (t) => rangeOf(t.sheet, { ...t.box }), `${this._label}.getRange()`);
    }

    getHeaderRowRange() {
      return child(Range, this, (t) => rangeOf(t.sheet, { ...t.box, r2: t.box.r1 }), `${this._label}.getHeaderRowRange()`);
    }

    resize(address) {
      needs(this._context, "1.13", "Table.resize");
      this._context._queue.push(() => {
        const t = this._live();
        const box = parseBox(String(address).slice(String(address).lastIndexOf("!") + 1));
        if (box.r1 !== t.box.r1 || box.c1 !== t.box.c1) {
          throw new OfficeError("InvalidArgument", "The table's header must stay in place when it is resized.");
        }
        t.box = box;
      });
    }

    delete() {
      this._context._queue.push(() => {
        const t = this._live();
        book.tables = book.tables.filter((table) => table !== t);
      });
    }

    getDataBodyRange() {
      return child(Range, this, (t) => rangeOf(t.sheet, { ...t.box, r1: t.box.r1 + 1 }), `${this._label}.getDataBodyRange()`);
    }
  }
  Table.props = { name: (t) => t.name };

  class TableCollection extends Collection {
    _list(t) {
      return t.tables;
    }

    getItem(name) {
      return child(Table, this, (t) => t.table(name), `tables.getItem(${name})`);
    }

    getItemOrNullObject(name) {
      return nullable(Table, this, (t) => t.table(name), `tables.getItemOrNullObject(${name})`);
    }

    /** `tables.add("Sheet!A1:D5", true)`: the range becomes a table named Table1, Table2, … */
    add(address, hasHeaders) {
      if (hasHeaders !== true) throw new Error("office stand-in: tables without headers are not modelled");
      return child(Table, this, (t) => {
        const bang = String(address).lastIndexOf("!");
        if (bang < 0) throw new Error("office stand-in: tables.add needs a sheet-qualified address");
        const sheetName = address.slice(0, bang).replace(/^'(.*)'$/, "$1").replace(/''/g, "'");
        const sheet = t.sheet(sheetName);
        if (!sheet) throw new OfficeError("ItemNotFound", `No sheet ${sheetName}.`);
        let n = t.tables.length + 1;
        while (t.table(`Table${n}`)) n += 1;
        const table = { name: `Table${n}`, sheet, box: parseBox(address.slice(bang + 1)) };
        t.tables.push(table);
        return table;
      }, `tables.add(${address})`);
    }
  }
  TableCollection.Item = Table;

  /** `worksheet.tables`: its tables; `add(address, true)` takes an address on that sheet. */
  class SheetTableCollection extends Collection {
    _list(sheet) {
      return book.tables.filter((t) => t.sheet === sheet);
    }

    add(address, hasHeaders) {
      if (hasHeaders !== true) throw new Error("office stand-in: tables without headers are not modelled");
      return child(Table, this, (sheet) => {
        let n = book.tables.length + 1;
        while (book.table(`Table${n}`)) n += 1;
        const table = { name: `Table${n}`, sheet, box: parseBox(address) };
        book.tables.push(table);
        return table;
      }, `${this._label}.add(${address})`);
    }
  }
  SheetTableCollection.Item = Table;

  class ChartCollection extends ClientObject {
    add(type, source, seriesBy) {
      const chart = new Chart(this._context, () => this._live(), `${this._label}.add`);
      this._context._queue.push(() => {
        const sheet = this._live();
        const entry = { type, seriesBy, source: qualified(source._live().sheet.name, source._live().box) };
        sheet.charts.push(entry);
        chart._entry = entry;
      });
      return chart;
    }
  }

  class Chart extends ClientObject {
    _set(name, value) {
      this._write(name, value, () => {
        this._entry[name] = value;
      });
    }

    set top(v) {
      this._set("top", v);
    }

    set left(v) {
      this._set("left", v);
    }

    set width(v) {
      this._set("width", v);
    }

    set height(v) {
      this._set("height", v);
    }

    setPosition(startCell, endCell) {
      this._context._queue.push(() => {
        this._entry.position = [startCell, endCell ?? null];
      });
    }

    get title() {
      const chart = this;
      return strict(
        {
          set text(value) {
            chart._set("title", value);
          },
        },
        `${this._label}.title`,
      );
    }
  }

  // ---- the request context, Excel.run and Office ------------------------------------------

  class WorkbookObject extends ClientObject {
    get worksheets() {
      return this._nav("worksheets", () => child(WorksheetCollection, this, (t) => t, "workbook.worksheets"));
    }

    get tables() {
      return this._nav("tables", () => child(TableCollection, this, (t) => t, "workbook.tables"));
    }

    getSelectedRange() {
      return child(Range, this, (t) => {
        if (t.selection.boxes.length > 1) {
          throw new OfficeError("InvalidSelection", "The current selection is invalid for this operation.", "workbook.getSelectedRange()");
        }
        return rangeOf(t.selection.sheet, { ...t.selection.boxes[0] });
      }, "workbook.getSelectedRange()");
    }

    getSelectedRanges() {
      needs(this._context, "1.9", "Workbook.getSelectedRanges");
      return child(RangeAreas, this, (t) => ({ sheet: t.selection.sheet, boxes: t.selection.boxes.map((b) => ({ ...b })) }), "workbook.getSelectedRanges()");
    }
  }

  /** The selection's blocks (ExcelApi 1.9): its address lists them, comma-separated. */
  class RangeAreas extends ClientObject {
    get address() {
      return this._read("address");
    }

    get worksheet() {
      return this._nav("worksheet", () => child(Worksheet, this, (t) => t.sheet, `${this._label}.worksheet`));
    }
  }
  RangeAreas.props = { address: (t) => t.boxes.map((b) => qualified(t.sheet.name, b)).join(",") };

  class RequestContext {
    constructor() {
      this._queue = [];
      this.workbook = new WorkbookObject(this, () => book, "workbook");
      return strict(this, "context");
    }

    /** Runs what was queued, in order, as one batch. A failing step ends the batch with its
     * error; the steps before it stay done (Excel's batches are not transactions either). */
    async sync() {
      const queue = this._queue;
      this._queue = [];
      await new Promise((resolve) => setTimeout(resolve, 0)); // a round trip, however short
      for (const step of queue) step();
    }
  }

  async function run(batch) {
    if (typeof batch !== "function") throw new Error("office stand-in: Excel.run(batch) is the only form modelled");
    const context = new RequestContext();
    const result = await batch(context);
    await context.sync(); // Excel.run syncs what the batch left queued
    return result;
  }

  globalThis.Excel = strict(
    { run, RequestContext, ErrorCodes: { itemNotFound: "ItemNotFound", invalidArgument: "InvalidArgument" } },
    "Excel",
  );
  globalThis.OfficeExtension = strict({ Error: OfficeError }, "OfficeExtension");

  // seed.host === null: office.js in a plain browser tab, where onReady answers with no host.
  const ready = Promise.resolve(seed.host === null ? { host: null, platform: null } : { host: "Excel", platform: "OfficeOnline" });
  globalThis.Office = strict(
    {
      HostType: { Excel: "Excel" },
      context: strict(
        {
          displayLanguage: seed.displayLanguage || "en-US",
          document: strict({ url: seed.documentUrl || "" }, "Office.context.document"),
          requirements: strict(
            {
              isSetSupported(name, version) {
                if (name === "ExcelApi") return has(String(version ?? "1.1"));
                return ["DialogApi"].includes(name);
              },
            },
            "Office.context.requirements",
          ),
          ui: strict(
            {
              /** A dialog (DialogApi 1.1): recorded for the test, which closes it. */
              displayDialogAsync(url, options, callback) {
                dialogs.push({ url, options });
                const dialog = { handlers: [] };
                openDialogs.push(dialog);
                const value = strict(
                  {
                    addEventHandler(type, handler) {
                      if (type !== "dialogEventReceived" && type !== "dialogMessageReceived") throw new Error(`office stand-in: dialog event ${type}`);
                      if (type === "dialogEventReceived") dialog.handlers.push(handler);
                    },
                    close() {
                      openDialogs.splice(openDialogs.indexOf(dialog), 1);
                    },
                  },
                  "Dialog",
                );
                setTimeout(() => callback?.({ status: "succeeded", value }), 0);
              },
            },
            "Office.context.ui",
          ),
        },
        "Office.context",
      ),
      actions: strict(
        {
          associate(name, handler) {
            actions.set(name, handler);
          },
        },
        "Office.actions",
      ),
      onReady(callback) {
        if (callback) ready.then(callback);
        return ready;
      },
    },
    "Office",
  );

  globalThis.__xlcrmHost = {
    dump: () => book.dump(),
    select(sheet, address) {
      book.selection = { sheet: book.sheet(sheet), boxes: book.areas(address) };
    },
    /** The sheet Excel shows (Worksheet.activate). */
    active: () => book.active?.name ?? null,
    /** Click a one-click ribbon button: calls the function commands.html associated with
     * `name`; resolves when it calls event.completed(). */
    click(name) {
      const handler = actions.get(name) ?? (typeof globalThis[name] === "function" ? globalThis[name] : null);
      if (!handler) throw new Error(`office stand-in: no function ${name} in the function file`);
      return new Promise((resolve) => handler({ completed: () => resolve(true), source: { id: name } }));
    },
    /** The dialogs the add-in opened: their URLs; closeDialog() closes the last, as a user. */
    dialogs,
    closeDialog() {
      const last = openDialogs.pop();
      for (const handler of last?.handlers ?? []) handler({ error: 12006 });
    },
  };
})();
