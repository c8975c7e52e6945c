// @ts-check
// Reading the workbook for the service: the inventory that a plan is made from, then only the
// ranges and columns that plan asks for (docs/protocol.md, "One command, two calls").

import { OPTIONAL, supports } from "./requirements.js";
import { boxSize, formatAddress, parseAddress, stripSheet } from "./a1.js";

/** The very hidden sheet where xlcrm keeps its state (schema version, mailbox sync state). */
export const STATE_SHEET = "_xlcrm";

/**
 * Cells one sync may load or write. Excel on the web refuses a request or response payload
 * above about 5 MB (RequestPayloadSizeLimitExceeded), and a cell costs some 10-25 bytes of
 * JSON, so big ranges go in chunks of rows of at most this many cells, one sync per chunk.
 * Desktop Excel has no such limit, but the same add-in runs in both.
 */
export const CELLS_PER_SYNC = 200_000;

/**
 * Load properties of many rectangles with as few syncs as the payload limit allows: each
 * rectangle is cut into chunks of whole rows, and chunks are packed into syncs of at most
 * `budget` cells (counting each loaded property: values and numberFormat cost twice).
 *
 * @param {Excel.RequestContext} context
 * @param {{sheet: string, box: import("./a1.js").Box, props: string[]}[]} requests
 * @param {{budget?: number, first?: () => void}} [options]  `first` queues extra loads into
 *   the first sync (cheap ones that must not cost a round trip of their own)
 * @returns {Promise<Record<string, any[][]>[]>}  per request, per property, the row-major matrix
 */
export async function loadBoxes(context, requests, { budget = CELLS_PER_SYNC, first } = {}) {
  const results = requests.map((req) => Object.fromEntries(req.props.map((p) => [p, []])));
  /** @type {{index: number, sheet: string, box: import("./a1.js").Box, props: string[], cost: number}[]} */
  const pieces = [];
  requests.forEach((req, index) => {
    const { rows, cols } = boxSize(req.box);
    const perRow = cols * req.props.length;
    const step = Math.max(1, Math.floor(budget / perRow));
    for (let r = 0; r < rows; r += step) {
      const box = { ...req.box, r1: req.box.r1 + r, r2: req.box.r1 + Math.min(rows, r + step) - 1 };
      pieces.push({ index, sheet: req.sheet, box, props: req.props, cost: boxSize(box).rows * perRow });
    }
  });
  const sheets = new Map();
  const sheet = (name) => {
    if (!sheets.has(name)) sheets.set(name, context.workbook.worksheets.getItem(name));
    return sheets.get(name);
  };
  let at = 0;
  let isFirst = true;
  while (at < pieces.length || isFirst) {
    if (isFirst && first) first();
    isFirst = false;
    const batch = [];
    let cost = 0;
    while (at < pieces.length && (batch.length === 0 || cost + pieces[at].cost <= budget)) {
      const piece = pieces[at++];
      cost += piece.cost;
      const range = sheet(piece.sheet).getRange(formatAddress(piece.box));
      range.load(piece.props.join(","));
      batch.push({ piece, range });
    }
    await context.sync();
    // Pieces of a request are in row order, so appending keeps each matrix in order.
    for (const { piece, range } of batch) {
      for (const prop of piece.props) results[piece.index][prop].push(...range[prop]);
    }
  }
  return results;
}

/**
 * The `_xlcrm` sheet's rows as key → value: the key in column A, the value in B (long values
 * continue in C, D, … and are concatenated, as the file backend's `_read_state` does); row 1
 * is the `key`/`value` header.
 * @param {any[][]} values
 * @returns {Record<string, string>}
 */
export function parseState(values) {
  /** @type {Record<string, string>} */
  const state = {};
  for (const row of values.slice(1)) {
    const key = row[0];
    if (typeof key !== "string" || key === "") continue;
    state[key] = row
      .slice(1)
      .filter((v) => v !== "" && v !== null && v !== undefined)
      .map(String)
      .join("");
  }
  return state;
}

async function loadBasics(context, withSelection) {
  const sheets = context.workbook.worksheets;
  sheets.load("items/name,items/visibility");
  const tables = context.workbook.tables;
  tables.load("items/name,items/worksheet/name");
  let selected = null;
  if (withSelection) {
    // RangeAreas: a selection of several blocks ("A2:C4,A7:C7") is one selection of deals.
    // An Excel without ExcelApi 1.9 (Excel 2016/2019 bought outright) has the single block.
    selected = supports(OPTIONAL.selection)
      ? context.workbook.getSelectedRanges()
      : context.workbook.getSelectedRange();
    selected.load("address,worksheet/name");
  }
  await context.sync();
  return { sheets, tables, selected };
}

/**
 * What a plan is made from: every sheet (name, visibility, used range, first row of the used
 * range), every Excel Table (name, sheet, address, headers), the `_xlcrm` state and the
 * selection. Addresses go without the sheet prefix.
 *
 * Two syncs whatever the size of the workbook: the first lists the sheets and tables (their
 * ranges cannot be asked for before they are known), the second loads everything about them.
 *
 * @param {Excel.RequestContext} context
 * @returns {Promise<{inventory: {sheets: object[], tables: object[]},
 *   state: Record<string, string>, selection: {sheet: string, address: string} | null}>}
 */
export async function readInventory(context) {
  let basics;
  try {
    basics = await loadBasics(context, true);
  } catch {
    // The selection is a chart or a shape: getSelectedRanges fails then, and a
    // failed sync loads nothing, so list again without it. Commands that need a selection
    // get it from the service as an input error ("select the deals first").
    basics = await loadBasics(context, false);
  }
  const per = basics.sheets.items.map((ws) => {
    const used = ws.getUsedRangeOrNullObject(true);
    used.load("address");
    // getUsedRange (not …OrNullObject) gives A1 on a blank sheet instead of a null object,
    // so its first row can be asked for in this same sync; a blank sheet's row is dropped.
    const firstRow = ws.getUsedRange(true).getRow(0);
    firstRow.load("values");
    const stateRange = ws.name === STATE_SHEET ? ws.getUsedRangeOrNullObject(true) : null;
    stateRange?.load("values");
    return { ws, used, firstRow, stateRange };
  });
  const tables = basics.tables.items.map((table) => {
    const range = table.getRange();
    range.load("address");
    const header = table.getHeaderRowRange();
    header.load("values");
    return { table, range, header };
  });
  await context.sync();

  /** @type {Record<string, string>} */
  let state = {};
  const sheets = per.map(({ ws, used, firstRow, stateRange }) => {
    if (stateRange && !stateRange.isNullObject) state = parseState(stateRange.values);
    const blank = used.isNullObject;
    return {
      name: ws.name,
      visibility: ws.visibility,
      used: blank ? null : stripSheet(used.address),
      first_row: blank ? [] : firstRow.values[0],
    };
  });
  const selection = basics.selected
    ? {
        sheet: basics.selected.worksheet.name,
        address: basics.selected.address.split(",").map(stripSheet).join(","),
      }
    : null;
  return {
    inventory: {
      sheets,
      tables: tables.map(({ table, range, header }) => ({
        name: table.name,
        sheet: table.worksheet.name,
        address: stripSheet(range.address),
        headers: header.values[0],
      })),
    },
    state,
    selection,
  };
}

/** [0, 1, 2, 5] → [[0, 2], [5, 5]]: adjacent columns load as one rectangle. */
function runsOf(columns) {
  const runs = [];
  for (const c of columns) {
    const last = runs[runs.length - 1];
    if (last && c === last[1] + 1) last[1] = c;
    else runs.push([c, c]);
  }
  return runs;
}

/**
 * The `reads` of a plan → the `tables` of a run: per entry, the whole header row, the data
 * rows with only the asked columns (in the asked order) and `last_used_row`; under a row
 * filter, only the rows it keeps (`filterRows`). Values are what
 * Range.values gives: dates stay Excel serial numbers, the service converts them by column.
 *
 * @param {Excel.RequestContext} context
 * @param {Record<string, {sheet: string, table?: string|null, address: string,
 *   columns: number[]|null, filter?: {columns: number[], keys: string[],
 *   id_column?: number|null, id_prefix?: string}}>} reads
 * @param {{budget?: number}} [options]
 */
export async function readRanges(context, reads, { budget = CELLS_PER_SYNC } = {}) {
  const entries = Object.entries(reads ?? {});
  const requests = [];
  const plans = entries.map(([key, read]) => {
    const box = parseAddress(read.address);
    const width = box.c2 - box.c1 + 1;
    const columns = read.columns ?? [...Array(width).keys()];
    for (const c of columns) {
      if (!Number.isInteger(c) || c < 0 || c >= width) {
        throw new Error(`${read.sheet}!${read.address}: the plan asks for column ${c}, not in the range`);
      }
    }
    const headerAt = requests.length;
    requests.push({ sheet: read.sheet, box: { ...box, r2: box.r1 }, props: ["values"] });
    const runs = [];
    if (box.r2 > box.r1) {
      // Distinct columns in sheet order, loaded as runs; the asked order is restored below.
      const distinct = [...new Set(columns)].sort((a, b) => a - b);
      for (const [from, to] of runsOf(distinct)) {
        runs.push({ from, to, at: requests.length });
        requests.push({
          sheet: read.sheet,
          box: { r1: box.r1 + 1, r2: box.r2, c1: box.c1 + from, c2: box.c1 + to },
          props: ["values"],
        });
      }
    }
    return { key, read, box, columns, headerAt, runs, used: null };
  });
  const loaded = await loadBoxes(context, requests, {
    budget,
    first: () => {
      for (const plan of plans) {
        const sheet = context.workbook.worksheets.getItem(plan.read.sheet);
        plan.used = sheet.getRange(plan.read.address).getUsedRangeOrNullObject(true);
        plan.used.load("address");
      }
    },
  });
  const tables = {};
  for (const plan of plans) {
    const { read, box, columns, runs } = plan;
    const where = new Map(); // column offset → [run matrix, offset inside the run]
    for (const run of runs) {
      for (let c = run.from; c <= run.to; c++) where.set(c, [loaded[run.at].values, c - run.from]);
    }
    const count = box.r2 - box.r1;
    const rows = new Array(count);
    for (let i = 0; i < count; i++) {
      rows[i] = columns.map((c) => {
        const [matrix, offset] = where.get(c);
        return matrix[i][offset];
      });
    }
    const lastUsed = plan.used.isNullObject
      ? box.r1 + 1
      : parseAddress(stripSheet(plan.used.address)).r2 + 1;
    tables[plan.key] = {
      sheet: read.sheet,
      table: read.table ?? null,
      address: read.address,
      columns: read.columns ?? null,
      header: loaded[plan.headerAt].values[0],
      rows,
      last_used_row: lastUsed,
    };
    if (read.filter) {
      const cell = (i, c) => {
        const found = where.get(c);
        if (!found) throw new Error(`${read.sheet}!${read.address}: the plan filters by column ${c}, not read`);
        return found[0][i][found[1]];
      };
      Object.assign(tables[plan.key], filterRows(read.filter, rows, cell));
    }
  }
  return tables;
}

// The white space Python's str.split() removes (JavaScript's \s lacks a few of them).
const FILTER_SPACE = /[\s\x1c-\x1f\x85]/g;

/**
 * What a row filter compares of a cell (protocol.filter_key): the text inside the first
 * `<…>`, or the whole cell, without white space, lower-cased. The service sends ASCII keys
 * only, where JavaScript and Python lower-case alike.
 * @param {unknown} cell
 * @returns {string | null}
 */
export function filterKey(cell) {
  if (typeof cell !== "string") return null;
  let text = cell;
  const start = text.indexOf("<");
  if (start >= 0) {
    const end = text.indexOf(">", start + 1);
    text = end > 0 ? text.slice(start + 1, end) : text.slice(start + 1);
  }
  return text.replace(FILTER_SPACE, "").toLowerCase();
}

/** "0042" → "42": digit strings compared as numbers, however long. */
function moreThan(digits, best) {
  const a = digits.replace(/^0+/, "");
  const b = best.replace(/^0+/, "");
  return a.length !== b.length ? a.length > b.length : a > b;
}

/**
 * A plan's row filter (protocol.RowFilter): only the rows whose cell in one of the filter's
 * columns is one of its keys go to the service, with their places, and the id column's
 * highest id, so that the rows left in Excel still count for new ids.
 * @param {{columns: number[], keys: string[], id_column?: number|null, id_prefix?: string}} filter
 * @param {any[][]} rows  the rows of the asked columns
 * @param {(row: number, column: number) => any} cell  a cell by range column offset
 */
export function filterRows(filter, rows, cell) {
  const keys = new Set(filter.keys);
  const kept = [];
  const places = [];
  for (let i = 0; i < rows.length; i++) {
    if (filter.columns.some((c) => keys.has(filterKey(cell(i, c))))) {
      kept.push(rows[i]);
      places.push(i);
    }
  }
  let highest = null;
  if (filter.id_column !== undefined && filter.id_column !== null) {
    const prefix = (filter.id_prefix ?? "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const pattern = new RegExp(`^${prefix}([0-9]+)$`, "i");
    let best = "";
    for (let i = 0; i < rows.length; i++) {
      const value = cell(i, filter.id_column);
      const found = typeof value === "string" ? pattern.exec(value.trim()) : null;
      if (found && (highest === null || moreThan(found[1], best))) {
        best = found[1];
        highest = value.trim();
      }
    }
  }
  return { rows: kept, rows_at: places, highest_id: highest };
}
