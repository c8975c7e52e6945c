// @ts-check
// Applying a service answer's actions to the open workbook, all or nothing
// (docs/protocol.md, "Actions").
//
// Office.js has no transactions: a failed sync leaves the operations before the failing one
// applied. So the client makes its own:
//   1. check — load what the actions touch (sheets, tables, the cells they overwrite) and
//      refuse before writing anything when a sheet or table is missing or an address is bad;
//      remember the values, formulas and number formats of every range that will be
//      overwritten;
//   2. write — queue every change and sync (once, unless the payload limit asks for chunks);
//   3. undo — when a sync throws, put back what was remembered, remove the rows, columns,
//      tables, charts and sheets that were added, and throw "the workbook was left unchanged".
// Downloads and messages are not workbook changes: they are handed back only after the
// workbook part succeeded, so a contract is never offered for a deal that was not updated.

import { MAX_ROWS, boxSize, formatAddress, parseAddress, stripSheet } from "./a1.js";
import { CELLS_PER_SYNC, STATE_SHEET, loadBoxes, parseState } from "./excel-read.js";
import { OPTIONAL, supports } from "./requirements.js";
import { ServiceError, isChinese } from "./api.js";
import { translator } from "./i18n.js";

/** The file backend splits long state values into cells of this many characters
 * (`state_sheet_xml` in addin/workbook/xlsx/patch.py); an Excel cell holds 32,767. */
export const STATE_CHUNK = 32_000;

/** The `_xlcrm` row that lists the ids of the last answers applied (docs/protocol.md): an
 * answer met again — a response replayed by a proxy, a retried request — changes nothing. */
export const APPLIED_KEY = "applied";
/** How many ids it keeps: far more answers than can be in flight at once. */
export const APPLIED_KEEP = 50;

/** The writer's texts in the pane's language (from the one table in i18n.js).
 * @param {string} lang */
function texts(lang) {
  const t = translator(isChinese(lang) ? "zh" : "en");
  return {
    unchanged: t("apply.unchanged"),
    notChanged: t("apply.notChanged"),
    failed: t("apply.failed"),
    undoFailed: t("apply.undoFailed"),
    undoFix: t("apply.undoFix"),
    retryFix: t("apply.retryFix"),
    /** @param {string} sheet */
    noSheet: (sheet) => t("apply.noSheet", { sheet }),
    /** @param {string} table */
    noTable: (table) => t("apply.noTable", { table }),
    /** @param {string} table @param {string} sheet */
    tableElsewhere: (table, sheet) => t("apply.tableElsewhere", { table, sheet }),
    /** @param {string} sheet */
    sheetExists: (sheet) => t("apply.sheetExists", { sheet }),
    /** @param {string} table */
    tableExists: (table) => t("apply.tableExists", { table }),
    /** @param {string} sheet */
    badSheetName: (sheet) => t("apply.badSheetName", { sheet }),
    /** @param {string} what */
    badAction: (what) => t("apply.badAction", { what }),
    /** @param {number} rows @param {number} cols @param {string} box */
    shape: (rows, cols, box) => t("apply.shape", { rows, cols, box }),
    /** @param {string} table @param {string} address */
    moved: (table, address) => t("apply.moved", { table, address }),
    refreshFix: t("apply.refreshFix"),
    updateFix: t("apply.updateFix"),
    choiceError: t("apply.choiceError"),
    /** @param {string} set @param {string} what */
    needs: (set, what) => t("req.missing", { set, what }),
    dropdowns: t("req.dropdowns"),
    column: t("req.column"),
  };
}

/**
 * A string as it must be handed to Excel to be stored as that very text.
 *
 * Excel treats a value set through Range.values like something typed into the cell: "=1+1"
 * becomes a formula, "00123" the number 123, "TRUE" a boolean, "2024-03-01" a date, "1/2" a
 * date or fraction. Text from outside (a customer's e-mail subject, a phone number, an ID) must
 * stay the characters it was — a formula in a cell is also how spreadsheet injection works.
 * The leading apostrophe is Excel's text prefix: it is not stored, it only says "this is text".
 * Every non-empty string gets it (not just the ones that look dangerous, since what Excel parses
 * depends on the user's locale); "" stays "" so that a blank stays blank.
 * @param {any} value
 */
export function excelText(value) {
  return typeof value === "string" && value !== "" ? `'${value}` : value;
}

/**
 * What to write to put back a cell as it was: its formula when it had one, its text with the
 * prefix, its number or boolean as is. A formula cell is one whose `formulas` entry starts with
 * "=" and differs from its value (a text cell "=x" has the same value and formula).
 */
function restoreInput(value, formula) {
  if (typeof formula === "string" && formula.startsWith("=") && formula !== value) return formula;
  return excelText(value);
}

/** Python's sort order for the state keys: by code point (JS compares UTF-16 units). */
function byCodePoint(a, b) {
  const x = Array.from(a, (ch) => ch.codePointAt(0));
  const y = Array.from(b, (ch) => ch.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * The `_xlcrm` sheet's cells for these items: the `key`/`value` header, then one key per row
 * sorted by key, long values split over the following cells, as the file backend writes it.
 * @param {Record<string, string> | [string, string][]} items
 */
export function stateRows(items) {
  const pairs = Array.isArray(items) ? items : Object.entries(items ?? {});
  const rows = [["key", "value"]];
  for (const [key, value] of [...pairs].sort((a, b) => byCodePoint(a[0], b[0]))) {
    const chars = Array.from(String(value ?? "")); // code points: a split never halves one
    const parts = [];
    for (let k = 0; k < chars.length; k += STATE_CHUNK) parts.push(chars.slice(k, k + STATE_CHUNK).join(""));
    rows.push([String(key), ...(parts.length ? parts : [""])]);
  }
  const width = Math.max(...rows.map((r) => r.length));
  return rows.map((r) => [...r, ...Array(width - r.length).fill("")]);
}

const SHEET_NAME_BAD = /[\\/?*[\]:]/;
const keyOf = (name) => String(name).toLowerCase(); // Excel's sheet and table names ignore case

function isScalar(v) {
  return v === null || typeof v === "string" || typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v));
}

/** @returns {never} */
function refuse(t, where, what, fix = t.refreshFix) {
  throw new ServiceError({ kind: "workbook", where, what: `${what}. ${t.notChanged}`, fix });
}

function intersects(a, b) {
  return a.r1 <= b.r2 && b.r1 <= a.r2 && a.c1 <= b.c2 && b.c1 <= a.c2;
}

/** Phase 0: the actions' own shape (no workbook needed). */
function normalise(actions, t) {
  if (!Array.isArray(actions)) refuse(t, null, t.badAction("actions is not a list"), t.updateFix);
  return actions.map((action, index) => {
    const type = action?.type;
    const where = action?.sheet && action?.address ? `${action.sheet}!${action.address}` : action?.sheet ?? null;
    const op = { ...action, type, index, where };
    const bad = (what) => refuse(t, where, t.badAction(`${type ?? "?"}: ${what}`), t.updateFix);
    const matrix = (name, m) => {
      if (!Array.isArray(m) || !m.every((row) => Array.isArray(row) && row.every(isScalar))) {
        bad(`${name} is not a matrix of values`);
      }
      const { rows, cols } = boxSize(op.box);
      if (m.length !== rows || m.some((row) => row.length !== cols)) {
        refuse(t, where, t.shape(m.length, m[0]?.length ?? 0, action.address), t.updateFix);
      }
    };
    switch (type) {
      case "write":
      case "append_rows":
      case "add_column":
      case "add_table":
      case "format":
        if (typeof action.sheet !== "string") bad("no sheet");
        try {
          op.box = parseAddress(action.address);
        } catch {
          bad(`bad address ${JSON.stringify(action.address)}`);
        }
        if (type !== "format") matrix("values", action.values);
        if (action.number_formats != null) matrix("number_formats", action.number_formats);
        if ((type === "add_table" || (type === "add_column" && action.table)) && !action.table) bad("no table");
        if (type === "add_table" && typeof action.table !== "string") bad("no table name");
        break;
      case "add_sheet":
        if (typeof action.sheet !== "string") bad("no sheet");
        if (!action.sheet || action.sheet.length > 31 || SHEET_NAME_BAD.test(action.sheet) ||
            /^'|'$/.test(action.sheet)) {
          refuse(t, action.sheet, t.badSheetName(action.sheet), t.updateFix);
        }
        break;
      case "chart":
        if (typeof action.sheet !== "string") bad("no sheet");
        try {
          op.sourceBox = parseAddress(action.source);
          parseAddress(action.anchor);
        } catch {
          bad(`bad source or anchor ${JSON.stringify([action.source, action.anchor])}`);
        }
        break;
      case "page_layout":
        if (typeof action.sheet !== "string") bad("no sheet");
        if (!Array.isArray(action.breaks ?? []) || !(action.breaks ?? []).every(Number.isInteger)) bad("bad breaks");
        break;
      case "state":
        if (action.items === null || typeof action.items !== "object") bad("no items");
        op.sheet = STATE_SHEET;
        break;
      case "download":
        if (typeof action.name !== "string" || typeof action.data !== "string") bad("no name or data");
        break;
      case "message":
        if (typeof action.text !== "string") bad("no text");
        break;
      default:
        bad("unknown type");
    }
    return op;
  });
}

/**
 * Phase 1: the workbook as the actions find it. Walks the actions in order over a model of
 * the sheets and tables (so an action may use a sheet or table that an earlier one adds),
 * refuses what cannot be applied, and loads what the undo and the null cells need.
 */
async function inspect(context, ops, t, budget, operation = null) {
  const wb = context.workbook;
  wb.worksheets.load("items/name,items/visibility,items/position");
  wb.tables.load("items/name,items/worksheet/name");
  await context.sync();
  if (operation && wb.worksheets.items.some((ws) => keyOf(ws.name) === keyOf(STATE_SHEET))) {
    // An answer met again is recognised before anything is checked: the workbook has moved
    // on since (its rows are in), so its actions would no longer fit, and that is no error.
    const used = wb.worksheets.getItem(STATE_SHEET).getUsedRangeOrNullObject(true);
    used.load("values");
    await context.sync();
    if (!used.isNullObject && appliedIds({ values: used.values }).includes(operation)) return null;
  }

  const sheetsAtStart = new Map(wb.worksheets.items.map((ws) => [keyOf(ws.name), ws]));
  const tablesAtStart = new Map(wb.tables.items.map((tb) => [keyOf(tb.name), tb]));
  // Sheets as the actions go: name → "old" (there at the start, its cells worth keeping) or
  // "new" (added by an action: blank, nothing to keep or put back).
  const sheets = new Map([...sheetsAtStart.keys()].map((k) => [k, "old"]));
  const tables = new Map(); // name → {sheet, box|null (read below), added}
  for (const [k, tb] of tablesAtStart) tables.set(k, { name: tb.name, sheet: tb.worksheet.name, box: null, added: false });

  const needSheet = (op, name = op.sheet) => {
    if (!sheets.has(keyOf(name))) refuse(t, op.where, t.noSheet(name));
    return sheets.get(keyOf(name));
  };
  const needTable = (op) => {
    const table = tables.get(keyOf(op.table));
    if (!table) refuse(t, op.where, t.noTable(op.table));
    if (keyOf(table.sheet) !== keyOf(op.sheet)) refuse(t, op.where, t.tableElsewhere(op.table, op.sheet));
    return table;
  };
  const keep = []; // [op, box] whose cells on an "old" sheet are remembered
  const snapshots = new Map(); // op.index → {values, formulas, numberFormat}
  const renamed = []; // sheets replaced: renamed aside, deleted at the very end
  const chartSheets = new Set();
  let stateExisted = sheets.has(keyOf(STATE_SHEET));

  for (const op of ops) {
    switch (op.type) {
      case "add_sheet": {
        const k = keyOf(op.sheet);
        if (sheets.has(k)) {
          if (!op.replace) refuse(t, op.sheet, t.sheetExists(op.sheet));
          if (sheets.get(k) === "old") {
            // Its Excel Tables move aside with it: the new sheet may bring tables of the same
            // names, and table names are unique in a workbook.
            const aside = [...tablesAtStart.values()].filter((tb) => keyOf(tb.worksheet.name) === k);
            renamed.push({ op, name: sheetsAtStart.get(k).name, tables: aside.map((tb) => ({ tb, name: tb.name })) });
          } else {
            op.replacesNew = true;
          }
          for (const [tk, tb] of tables) if (keyOf(tb.sheet) === k) tables.delete(tk);
        }
        sheets.set(k, "new");
        break;
      }
      case "write":
        if (needSheet(op) === "old") keep.push([op, op.box]);
        break;
      case "append_rows":
        if (op.table) {
          op.tableInfo = needTable(op);
          // Co-authoring safe (Microsoft's guidance for add-ins on shared workbooks): write the
          // cells just below the table and resize it, rather than TableRowCollection.add,
          // which inserts cells and shifts what a colleague is editing below. That needs
          // Table.resize (ExcelApi 1.13) and empty cells there (known once they are loaded);
          // otherwise rows.add, whose rows inherit the table's formats: its last row tells which.
          op.resize = supports(OPTIONAL.resize);
          if (op.resize && needSheet(op) === "old") keep.push([op, op.box]);
        } else if (needSheet(op) === "old") {
          keep.push([op, op.box]);
        }
        break;
      case "add_column":
        if (op.table) {
          op.tableInfo = needTable(op);
          if (!supports(OPTIONAL.resize)) refuse(t, op.where, t.needs(OPTIONAL.resize, t.column), t.updateFix);
        }
        if (needSheet(op) === "old") keep.push([op, op.box]);
        break;
      case "add_table":
        if (tables.has(keyOf(op.table))) refuse(t, op.where, t.tableExists(op.table));
        if (needSheet(op) === "old") keep.push([op, op.box]);
        tables.set(keyOf(op.table), { name: op.table, sheet: op.sheet, box: op.box, added: true });
        break;
      case "format":
        op.old = needSheet(op) === "old";
        break;
      case "chart":
        if (needSheet(op) === "old") chartSheets.add(keyOf(op.sheet));
        break;
      case "state":
      case "applied":
        if (!sheets.has(keyOf(STATE_SHEET))) sheets.set(keyOf(STATE_SHEET), "new");
        break;
      default:
        break;
    }
  }

  // Tables that exist now: their ranges, to check where rows and columns go and to undo.
  const tableRanges = new Map();
  const formatSnaps = new Map();
  const chartCounts = new Map();
  /** @type {any} the state sheet's used range, loaded when the sheet existed */
  let stateRange = null;
  const loaded = await loadBoxes(
    context,
    keep.map(([op, box]) => ({ sheet: op.sheet, box, props: ["values", "formulas", "numberFormat"] })),
    {
      budget,
      first: () => {
        for (const [k, tb] of tablesAtStart) {
          const lastRow = tb.getRange().getLastRow();
          lastRow.load("numberFormat");
          const range = tb.getRange();
          range.load("address");
          tableRanges.set(k, { range, lastRow });
        }
        for (const op of ops) {
          if (op.type === "format" && op.old) {
            const range = wb.worksheets.getItem(op.sheet).getRange(op.address);
            range.load("format/font/bold,format/font/size,format/columnWidth");
            formatSnaps.set(op.index, range);
          }
        }
        for (const k of chartSheets) {
          const charts = sheetsAtStart.get(k).charts;
          charts.load("items/name");
          chartCounts.set(k, charts);
        }
        if (stateExisted) {
          stateRange = wb.worksheets.getItem(STATE_SHEET).getUsedRangeOrNullObject(true);
          stateRange.load("address,values");
        }
      },
    },
  );
  keep.forEach(([op], i) => snapshots.set(op.index, loaded[i]));
  for (const op of ops) {
    if (op.type !== "append_rows" || !op.table || !op.resize) continue;
    const snap = snapshots.get(op.index);
    // Cells with anything in them under the table: rows.add, which moves them down, keeps them.
    if (snap && snap.formulas.some((row) => row.some((f) => f !== "" && f !== null))) op.resize = false;
  }

  // Where rows and columns go must still be where the table ends.
  const boxes = new Map();
  for (const [k, { range }] of tableRanges) boxes.set(k, parseAddress(stripSheet(range.address)));
  for (const op of ops) {
    if (op.type === "add_sheet") {
      for (const [k, tb] of tablesAtStart) if (keyOf(tb.worksheet.name) === keyOf(op.sheet)) boxes.delete(k);
    } else if (op.type === "add_table") {
      boxes.set(keyOf(op.table), { ...op.box });
    } else if ((op.type === "append_rows" || op.type === "add_column") && op.table) {
      const k = keyOf(op.table);
      const box = boxes.get(k);
      const fits = op.type === "append_rows"
        ? op.box.r1 === box.r2 + 1 && op.box.c1 === box.c1 && op.box.c2 === box.c2
        : op.box.c1 === box.c2 + 1 && op.box.r1 === box.r1 && op.box.r2 === box.r2;
      if (!fits) refuse(t, op.where, t.moved(op.table, formatAddress(box)));
      op.tableBefore = { ...box };
      if (op.type === "append_rows") box.r2 = op.box.r2;
      else box.c2 = op.box.c2;
      op.inherit = tableRanges.get(k)?.lastRow.numberFormat[0] ?? null;
    }
  }

  return {
    sheetsAtStart,
    tablesAtStart,
    snapshots,
    renamed,
    formatSnaps,
    chartCounts: new Map([...chartCounts].map(([k, c]) => [k, c.items.length])),
    state: stateExisted
      ? stateRange.isNullObject
        ? { address: null, values: [] }
        : { address: stripSheet(stateRange.address), values: stateRange.values }
      : null,
  };
}

/** The ids in the `applied` row. @param {{values: any[][]} | null} state */
function appliedIds(state) {
  if (!state?.values?.length) return [];
  return (parseState(state.values)[APPLIED_KEY] ?? "").split(" ").filter(Boolean);
}

/**
 * Cells that an earlier action of the same list writes and a later one overlaps: a null in the
 * later one must leave what the earlier one wrote, not what the snapshot had.
 */
function overlayFor(ops) {
  const written = new Map(); // sheet key → Map("r,c" → {input, format})
  const boxed = ops.filter((op) => op.box && op.values);
  const overlapping = new Set();
  for (let i = 0; i < boxed.length; i++) {
    for (let j = i + 1; j < boxed.length; j++) {
      const a = boxed[i];
      const b = boxed[j];
      if (keyOf(a.sheet) === keyOf(b.sheet) && intersects(a.box, b.box)) overlapping.add(a.index);
    }
  }
  return { written, overlapping };
}

/**
 * The matrices to hand to Excel for one action: strings prefixed, nulls filled with what the
 * cell holds (a range write cannot skip a cell, so "leave it" means "write back what is
 * there"), number formats likewise.
 */
function inputsFor(op, snap, overlay, inherit) {
  const sheetCells = overlay.written.get(keyOf(op.sheet));
  const record = overlay.overlapping.has(op.index);
  let cells = sheetCells;
  if (record && !cells) overlay.written.set(keyOf(op.sheet), (cells = new Map()));
  const values = op.values.map((row, i) =>
    row.map((v, j) => {
      const at = `${op.box.r1 + i},${op.box.c1 + j}`;
      let input;
      if (v !== null) input = excelText(v);
      else if (sheetCells?.has(at)) input = sheetCells.get(at).input;
      else if (snap) input = restoreInput(snap.values[i][j], snap.formulas[i][j]);
      else input = "";
      if (record) cells.set(at, { ...cells.get(at), input });
      return input;
    }),
  );
  let formats = null;
  if (op.number_formats) {
    formats = op.number_formats.map((row, i) =>
      row.map((f, j) => {
        const at = `${op.box.r1 + i},${op.box.c1 + j}`;
        let format = f;
        if (f === null) {
          format = sheetCells?.get(at)?.format ??
            (snap ? snap.numberFormat[i][j] : inherit ? inherit[j] : "General");
        }
        if (record) cells.set(at, { ...cells.get(at), format });
        return format;
      }),
    );
  }
  return { values, formats };
}

/** Row chunks of an action's matrices within the per-sync budget. */
function* chunks(box, values, formats, budget) {
  const { cols } = boxSize(box);
  const step = Math.max(1, Math.floor(budget / (cols * (formats ? 2 : 1))));
  for (let r = 0; r < values.length; r += step) {
    const part = { ...box, r1: box.r1 + r, r2: Math.min(box.r2, box.r1 + r + step - 1) };
    yield {
      box: part,
      values: values.slice(r, r + step),
      formats: formats ? formats.slice(r, r + step) : null,
    };
  }
}

/**
 * Queued changes, synced when the cells queued reach the budget and at the end. Most answers
 * fit in one sync; an import of 100,000 rows goes in several, and the undo covers them all.
 */
class Writer {
  constructor(context, budget) {
    this.context = context;
    this.budget = budget;
    this.pending = 0;
    this.syncs = 0;
  }
  async add(cells, queue) {
    if (this.pending > 0 && this.pending + cells > this.budget) await this.flush();
    queue();
    this.pending += cells;
  }
  async flush() {
    this.pending = 0;
    this.syncs += 1;
    await this.context.sync();
  }
}

function tempName(name, n) {
  return `~xlcrm ${n} ${name}`.slice(0, 31);
}

/**
 * The `_xlcrm` rows as key → {sheet row (0-based), cells after the key}, and the first free row.
 * @param {any[][]} values  from the sheet's row `top` on, the header first
 * @param {number} top
 */
function modelOf(values, top) {
  /** @type {Map<string, {row: number, cells: string[]}> & {next?: number}} */
  const model = new Map();
  values.forEach((row, i) => {
    if (i === 0 || typeof row[0] !== "string" || row[0] === "") return;
    model.set(row[0], { row: top + i, cells: row.slice(1).map((v) => (v === null || v === undefined ? "" : String(v))) });
  });
  model.next = top + Math.max(values.length, 1);
  return model;
}

/**
 * The rows to write so that the state holds `items`: a changed key's row, a new key's row under
 * the last, and with `replace` (a `state` action: the whole state) a blank row for a key that
 * went away — except `applied`, which is the client's own. Updates `model`.
 */
function stateChanges(model, items, replace) {
  const wanted = new Map(stateRows(items).slice(1).map((r) => [r[0], r.slice(1)]));
  const changes = [];
  const same = (a, b) => {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) if ((a[i] ?? "") !== (b[i] ?? "")) return false;
    return true;
  };
  for (const [key, cells] of wanted) {
    const had = model.get(key);
    if (had && same(had.cells, cells)) continue;
    const row = had ? had.row : model.next++;
    const width = Math.max(cells.length, had?.cells.length ?? 0);
    const padded = [...cells, ...Array(width - cells.length).fill("")];
    changes.push({ row, values: [key, ...padded] });
    model.set(key, { row, cells: padded });
  }
  if (replace) {
    for (const [key, had] of model) {
      if (wanted.has(key) || key === APPLIED_KEY) continue;
      changes.push({ row: had.row, values: Array(had.cells.length + 1).fill("") });
      model.delete(key);
    }
  }
  return changes;
}

/** Phase 2: queue every change, in order. */
async function write(context, ops, seen, budget, lang) {
  const t = texts(lang);
  const wb = context.workbook;
  const writer = new Writer(context, budget);
  const overlay = overlayFor(ops);
  const sheet = (name) => wb.worksheets.getItem(name);
  const setCells = async (op, ws, values, formats) => {
    for (const part of chunks(op.box, values, formats, budget)) {
      await writer.add(part.values.length * part.values[0].length * (part.formats ? 2 : 1), () => {
        const range = ws.getRange(formatAddress(part.box));
        // Formats first: "00123" written into a cell formatted as text stays text either way,
        // and a date serial shows as a date from the moment it lands.
        if (part.formats) range.numberFormat = part.formats;
        range.values = part.values;
      });
    }
  };
  let n = 0;
  let stateMade = seen.state !== null; // a second state action in one list writes over the first
  /** @type {Map<string, {row: number, cells: string[]}> & {next?: number} | null} */
  let stateModel = null;
  for (const op of ops) {
    const snap = seen.snapshots.get(op.index) ?? null;
    switch (op.type) {
      case "add_sheet": {
        const aside = seen.renamed.find((r) => r.op === op);
        await writer.add(1, () => {
          let position = null;
          if (aside) {
            const old = seen.sheetsAtStart.get(keyOf(op.sheet));
            position = old.position;
            aside.temp = tempName(aside.name, ++n);
            old.name = aside.temp;
            aside.tables.forEach((entry, i) => {
              entry.temp = `xlcrm_old_${n}_${i}_${Date.now()}`;
              entry.tb.name = entry.temp;
            });
          } else if (op.replacesNew) {
            // Replacing a sheet an earlier action of this list added: it holds nothing to keep.
            wb.worksheets.getItem(op.sheet).delete();
          }
          const added = wb.worksheets.add(op.sheet);
          if (position === null && op.first) position = 0;
          if (position !== null) added.position = position;
          added.visibility = op.visibility ?? "Visible";
        });
        break;
      }
      case "write":
      case "add_column": {
        const { values, formats } = inputsFor(op, snap, overlay, null);
        await setCells(op, sheet(op.sheet), values, formats);
        if (op.type === "add_column" && op.table) {
          const whole = { ...op.tableBefore, c2: op.box.c2 };
          await writer.add(1, () => wb.tables.getItem(op.table).resize(formatAddress(whole)));
        }
        break;
      }
      case "append_rows": {
        const { values, formats } = inputsFor(op, snap, overlay, op.inherit);
        if (!op.table) {
          await setCells(op, sheet(op.sheet), values, formats);
          break;
        }
        if (op.resize) {
          // The cells under the table were empty: nothing of theirs to keep but their formats,
          // which the new rows take from the table's last row instead (as rows.add would).
          const fresh = inputsFor(op, null, overlay, op.inherit);
          const inherited = fresh.formats ?? (op.inherit ? fresh.values.map(() => op.inherit) : null);
          await setCells(op, sheet(op.sheet), fresh.values, inherited);
          const whole = { ...op.tableBefore, r2: op.box.r2 };
          await writer.add(1, () => wb.tables.getItem(op.table).resize(formatAddress(whole)));
          break;
        }
        for (const part of chunks(op.box, values, formats, budget)) {
          await writer.add(part.values.length * part.values[0].length * (part.formats ? 2 : 1), () => {
            wb.tables.getItem(op.table).rows.add(null, part.values);
            if (part.formats) sheet(op.sheet).getRange(formatAddress(part.box)).numberFormat = part.formats;
          });
        }
        break;
      }
      case "add_table": {
        const { values, formats } = inputsFor(op, snap, overlay, null);
        await setCells(op, sheet(op.sheet), values, formats);
        await writer.add(1, () => {
          const ws = sheet(op.sheet);
          const table = ws.tables.add(op.address, true);
          table.name = op.table;
          // Drop-down lists need Range.dataValidation (ExcelApi 1.8); applyActions says when
          // they were left out.
          for (const choice of supports(OPTIONAL.dropdowns) ? op.choices ?? [] : []) {
            // Like the file backend: the whole column below the header, a warning (not a
            // stop) because xlcrm accepts aliases such as 成交 for Won.
            const c = op.box.c1 + choice.column;
            const column = ws.getRange(formatAddress({ r1: op.box.r1 + 1, r2: MAX_ROWS - 1, c1: c, c2: c }));
            column.dataValidation.rule = {
              // `source`: a range formula (another table's column), else the labels.
              list: { inCellDropDown: true, source: choice.source ?? (choice.values ?? []).map(String).join(",") },
            };
            column.dataValidation.errorAlert = {
              showAlert: true,
              style: "Warning",
              title: String(op.values[0][choice.column] ?? ""),
              message: t.choiceError,
            };
          }
        });
        break;
      }
      case "format":
        await writer.add(1, () => {
          const range = sheet(op.sheet).getRange(op.address);
          if (op.bold != null) range.format.font.bold = op.bold;
          if (op.font_size != null) range.format.font.size = op.font_size;
          // Points, as the protocol sends them (addin/remote/protocol.py, Format).
          if (op.column_width != null) range.format.columnWidth = op.column_width;
          if (op.row_height != null) range.format.rowHeight = op.row_height;
          if (op.horizontal != null) range.format.horizontalAlignment = op.horizontal;
          if (op.indent != null && supports(OPTIONAL.layout)) range.format.indentLevel = op.indent;
          if (op.wrap != null) range.format.wrapText = op.wrap;
        });
        break;
      case "page_layout":
        // How a report sheet prints. pageLayout is ExcelApi 1.9: where it is missing the
        // sheet prints as Excel's defaults say, which is no reason to fail the answer.
        if (!supports(OPTIONAL.layout)) break;
        await writer.add(1, () => {
          const ws = sheet(op.sheet);
          const layout = ws.pageLayout;
          layout.orientation = op.landscape ? "Landscape" : "Portrait";
          if (op.fit_width) layout.zoom = { horizontalFitToPages: 1, verticalFitToPages: 0 };
          if (op.margins) {
            [layout.leftMargin, layout.rightMargin, layout.topMargin, layout.bottomMargin] = op.margins;
          }
          if (op.print_area) layout.setPrintArea(op.print_area);
          for (const row of op.breaks ?? []) ws.horizontalPageBreaks.add(`A${row}`);
        });
        break;
      case "chart":
        await writer.add(1, () => {
          const ws = sheet(op.sheet);
          // `kind` is Excel's chart type name ("ColumnClustered"); `series`: how the source's
          // series run ("Columns", the default, or "Rows").
          const by = typeof op.series === "string" ? op.series[0].toUpperCase() + op.series.slice(1).toLowerCase() : "Columns";
          const chart = ws.charts.add(op.kind, ws.getRange(op.source), by);
          chart.title.text = op.title ?? "";
          if (op.end) {
            chart.setPosition(op.anchor, op.end); // whole cells: prints beside its rows
          } else {
            chart.setPosition(op.anchor);
            if (op.width != null) chart.width = op.width;
            if (op.height != null) chart.height = op.height;
          }
        });
        break;
      case "state":
      case "applied": {
        // One row per key, each written only when it changed: co-authors editing the
        // workbook at the same time meet a few changed cells, never a rewritten sheet.
        if (!stateMade) {
          const rows = stateRows(op.items);
          await writer.add(rows.length * rows[0].length, () => {
            const ws = wb.worksheets.add(STATE_SHEET);
            ws.visibility = "VeryHidden";
            const box = { r1: 0, c1: 0, r2: rows.length - 1, c2: rows[0].length - 1 };
            ws.getRange(formatAddress(box)).values = rows.map((r) => r.map(excelText));
          });
          stateMade = true;
          stateModel = modelOf(rows, 0);
          break;
        }
        stateModel ??= modelOf(seen.state?.values ?? [], seen.state?.address ? parseAddress(seen.state.address).r1 : 0);
        for (const change of stateChanges(stateModel, op.items, op.type === "state")) {
          await writer.add(change.values.length, () => {
            const box = { r1: change.row, c1: 0, r2: change.row, c2: change.values.length - 1 };
            sheet(STATE_SHEET).getRange(formatAddress(box)).values = [change.values.map(excelText)];
          });
        }
        break;
      }
      default:
        break; // download, message: handed back after the workbook part succeeded
    }
  }
  // The replaced sheets go last: a sheet cannot be put back once deleted, so they stay (under
  // another name) until everything else has been written.
  if (seen.renamed.length) {
    await writer.add(1, () => {
      for (const aside of seen.renamed) wb.worksheets.getItem(aside.temp).delete();
    });
  }
  await writer.flush();
}

/** Phase 3: put the workbook back as phase 1 found it. */
async function undo(context, ops, seen, budget) {
  const wb = context.workbook;
  wb.worksheets.load("items/name");
  wb.tables.load("items/name");
  const charts = new Map();
  for (const k of seen.chartCounts.keys()) {
    const collection = seen.sheetsAtStart.get(k).charts;
    collection.load("items/name");
    charts.set(k, collection);
  }
  await context.sync();
  const exists = new Set(wb.worksheets.items.map((ws) => keyOf(ws.name)));
  const tablesNow = new Set(wb.tables.items.map((tb) => keyOf(tb.name)));
  // The tables rows or columns went to, as they are now (the failed batch may have added
  // some): only those that exist, since asking a missing table for its range fails a sync.
  const tableRanges = new Map();
  for (const op of ops) {
    const k = op.table ? keyOf(op.table) : null;
    if ((op.type === "append_rows" || op.type === "add_column") && k && tablesNow.has(k) && !tableRanges.has(k)) {
      const table = wb.tables.getItem(op.table);
      const range = table.getRange();
      range.load("address");
      tableRanges.set(k, { table, range });
    }
  }
  if (tableRanges.size) await context.sync();
  const writer = new Writer(context, budget);
  const started = (name) => seen.sheetsAtStart.has(keyOf(name));
  const putBack = async (op, snap) => {
    if (!started(op.sheet) || seen.renamed.some((r) => keyOf(r.name) === keyOf(op.sheet))) return;
    const values = snap.values.map((row, i) => row.map((v, j) => restoreInput(v, snap.formulas[i][j])));
    for (const part of chunks(op.box, values, snap.numberFormat, budget)) {
      await writer.add(part.values.length * part.values[0].length * 2, () => {
        const range = wb.worksheets.getItem(op.sheet).getRange(formatAddress(part.box));
        range.numberFormat = part.formats;
        range.values = part.values;
      });
    }
  };

  for (const op of [...ops].reverse()) {
    const snap = seen.snapshots.get(op.index);
    switch (op.type) {
      case "chart": {
        const collection = charts.get(keyOf(op.sheet));
        if (!collection) break; // on a sheet this list added: goes with the sheet
        const items = collection.items;
        const before = seen.chartCounts.get(keyOf(op.sheet));
        if (items.length > before) {
          await writer.add(1, () => items.slice(before).forEach((c) => c.delete()));
          seen.chartCounts.set(keyOf(op.sheet), items.length); // once per sheet
        }
        break;
      }
      case "add_table": {
        // A table of that name that was there at the start and never renamed aside is the old
        // one (the batch failed before this action): it stays.
        const old = seen.tablesAtStart.has(keyOf(op.table)) &&
          !seen.renamed.some((r) => r.tables.some((e) => keyOf(e.name) === keyOf(op.table) && e.temp && tablesNow.has(keyOf(e.temp))));
        if (tablesNow.has(keyOf(op.table)) && started(op.sheet) && !old) {
          await writer.add(1, () => wb.tables.getItem(op.table).delete());
          tablesNow.delete(keyOf(op.table));
        }
        if (snap) await putBack(op, snap);
        break;
      }
      case "append_rows":
      case "add_column": {
        const found = op.table ? tableRanges.get(keyOf(op.table)) : null;
        if (found && started(op.sheet)) {
          const now = parseAddress(stripSheet(found.range.address));
          if (op.type === "append_rows" && op.resize && now.r2 > op.tableBefore.r2) {
            // Written under the table and resized: size it back; the cells come back below.
            await writer.add(1, () => found.table.resize(formatAddress(op.tableBefore)));
            now.r2 = op.tableBefore.r2;
          } else if (op.type === "append_rows" && now.r2 > op.tableBefore.r2) {
            // Rows added with rows.add were inserted (cells below moved down): deleting the
            // table rows moves them back up. Last first, so the indexes stay right.
            const first = op.tableBefore.r2 - now.r1; // index of the first added data row
            const last = now.r2 - now.r1 - 1;
            await writer.add(last - first + 1, () => {
              for (let i = last; i >= first; i--) found.table.rows.getItemAt(i).delete();
            });
            now.r2 = op.tableBefore.r2;
          }
          if (op.type === "add_column" && now.c2 > op.tableBefore.c2) {
            await writer.add(1, () => found.table.resize(formatAddress(op.tableBefore)));
            now.c2 = op.tableBefore.c2;
          }
        }
        if (snap) await putBack(op, snap);
        break;
      }
      case "write":
        if (snap) await putBack(op, snap);
        break;
      case "format": {
        const range = seen.formatSnaps.get(op.index);
        if (!range || !exists.has(keyOf(op.sheet))) break;
        await writer.add(1, () => {
          const target = wb.worksheets.getItem(op.sheet).getRange(op.address);
          // null: the range was mixed (some cells bold, some not), which one value cannot
          // put back; such a range is left as the failed write left it.
          if (op.bold != null && range.format.font.bold !== null) target.format.font.bold = range.format.font.bold;
          if (op.font_size != null && range.format.font.size !== null) target.format.font.size = range.format.font.size;
          if (op.column_width != null && range.format.columnWidth !== null) target.format.columnWidth = range.format.columnWidth;
        });
        break;
      }
      case "state":
      case "applied":
        if (seen.state && exists.has(keyOf(STATE_SHEET))) {
          const { address, values } = seen.state;
          await writer.add(values.length ? values.length * values[0].length : 1, () => {
            const ws = wb.worksheets.getItem(STATE_SHEET);
            ws.getRange().clear("Contents");
            if (address) ws.getRange(address).values = values.map((r) => r.map(excelText));
          });
        }
        break;
      default:
        break;
    }
  }
  // Sheets: delete what was added (the state sheet when it was new, every add_sheet), then
  // give the replaced ones their names and places back.
  const added = new Set(ops.filter((op) => op.type === "add_sheet").map((op) => keyOf(op.sheet)));
  if (seen.state === null && ops.some((op) => op.type === "state" || op.type === "applied")) added.add(keyOf(STATE_SHEET));
  for (const k of added) {
    if (!exists.has(k)) continue;
    const aside = seen.renamed.find((r) => keyOf(r.name) === k);
    if (started(k) && !aside) continue;
    // A replaced sheet whose renaming never ran (the batch failed before it): the sheet of
    // that name is still the old one, which stays.
    if (aside && !(aside.temp && exists.has(keyOf(aside.temp)))) continue;
    await writer.add(1, () => {
      const ws = wb.worksheets.getItem(k);
      if (k === keyOf(STATE_SHEET)) ws.visibility = "Hidden"; // a very hidden sheet is deleted visible
      ws.delete();
    });
  }
  for (const aside of seen.renamed) {
    if (!aside.temp || !exists.has(keyOf(aside.temp))) continue;
    const old = seen.sheetsAtStart.get(keyOf(aside.name));
    await writer.add(1, () => {
      const ws = wb.worksheets.getItem(aside.temp);
      ws.name = aside.name;
      ws.position = old.position;
      for (const entry of aside.tables) {
        if (entry.temp && tablesNow.has(keyOf(entry.temp))) wb.tables.getItem(entry.temp).name = entry.name;
      }
    });
  }
  await writer.flush();
}

/** base64 → Blob, without Uint8Array.fromBase64 (not in Safari 16). */
function blobOf(data, mediaType) {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type: mediaType || "application/octet-stream" });
}

/**
 * Apply one answer's actions in the caller's Excel.run context, all or nothing.
 *
 * @param {Excel.RequestContext} context
 * @param {object[]} actions  as in docs/protocol.md
 * @param {{lang?: string, budget?: number, operation?: string|null}} [options]  `operation`: the
 *   answer's id; an id already in `_xlcrm`'s `applied` row changes nothing (`replayed`)
 * @returns {Promise<{downloads: {name: string, mediaType: string, blob: Blob}[],
 *   messages: {level: string, text: string}[], replayed?: boolean}>}
 * @throws {ServiceError} kind "workbook": refused before writing (nothing was written), or
 *   Excel failed a write and everything was put back (the workbook was left unchanged)
 */
export async function applyActions(context, actions, { lang = "en", budget = CELLS_PER_SYNC, operation = null } = {}) {
  const t = texts(lang);
  const ops = normalise(actions, t);
  if (typeof operation === "string" && operation && ops.some((op) => op.type !== "message" && op.type !== "download")) {
    // Recorded with the changes, in the same batch: applied and recorded, or neither.
    ops.push({ type: "applied", index: ops.length, sheet: STATE_SHEET, where: STATE_SHEET, items: null, operation });
  }
  const marker = ops.find((op) => op.type === "applied");
  const seen = await inspect(context, ops, t, budget, marker ? operation : null);
  if (seen === null) return { downloads: [], messages: [], replayed: true };
  if (marker) {
    const ids = appliedIds(seen.state);
    // The state action of this very answer may carry the row too (the service read it).
    const fromAnswer = ops.filter((op) => op.type === "state").map((op) => op.items?.[APPLIED_KEY]).filter(Boolean).pop();
    const base = fromAnswer ? String(fromAnswer).split(" ").filter(Boolean) : ids;
    marker.items = { [APPLIED_KEY]: [...base, operation].slice(-APPLIED_KEEP).join(" ") };
  }
  try {
    await write(context, ops, seen, budget, lang);
  } catch (err) {
    const what = err?.message ?? String(err);
    try {
      await undo(context, ops, seen, budget);
    } catch (undoErr) {
      throw new ServiceError(
        {
          // Not "workbook", whose headline says the workbook is as it was: here it is not.
          kind: "partial",
          what: `${t.undoFailed}: ${what} / ${undoErr?.message ?? undoErr}`,
          fix: t.undoFix,
        },
        { cause: err },
      );
    }
    throw new ServiceError(
      { kind: "workbook", what: `${t.failed}: ${what}. ${t.unchanged}`, fix: t.retryFix },
      { cause: err },
    );
  }
  const downloads = [];
  const messages = [];
  if (!supports(OPTIONAL.dropdowns) && ops.some((op) => op.type === "add_table" && op.choices?.length)) {
    messages.push({ level: "warning", text: t.needs(OPTIONAL.dropdowns, t.dropdowns) });
  }
  for (const op of ops) {
    if (op.type === "download") {
      downloads.push({ name: op.name, mediaType: op.media_type, blob: blobOf(op.data, op.media_type) });
    } else if (op.type === "message") {
      messages.push({ level: op.level ?? "info", text: op.text });
    }
  }
  return { downloads, messages };
}
