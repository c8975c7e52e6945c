// @ts-check
// A1 addresses as the protocol uses them: "A1:P1001" without a sheet prefix, the same form
// the Python side parses with its own A1 parser. Excel's own answers carry the sheet
// ("'客户 2024'!A1:P9"), so they go through `stripSheet` before they leave the client.

/** Excel's grid: the largest row and column a range may reach. */
export const MAX_ROWS = 1048576;
export const MAX_COLS = 16384;

/**
 * @typedef {{r1: number, c1: number, r2: number, c2: number}} Box
 * 0-based, inclusive: A1 is {r1: 0, c1: 0, r2: 0, c2: 0}.
 */

/** "A" → 0, "AB" → 27. */
export function columnIndex(letters) {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** 0 → "A", 27 → "AB". */
export function columnLetters(index) {
  let n = index + 1;
  let out = "";
  while (n > 0) {
    const rem = (n - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

const CELL = /^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$/;

function parseCell(text) {
  const m = CELL.exec(text);
  if (!m) return null;
  const c = columnIndex(m[1]);
  const r = Number(m[2]) - 1;
  if (r < 0 || r >= MAX_ROWS || c < 0 || c >= MAX_COLS) return null;
  return { r, c };
}

/**
 * "B2:D10" or "B2" → Box; throws on anything else (whole columns, named ranges, a sheet
 * prefix): the protocol only ever sends plain rectangles.
 * @param {string} address
 * @returns {Box}
 */
export function parseAddress(address) {
  if (typeof address !== "string") throw new Error(`not an A1 address: ${String(address)}`);
  const [first, second, extra] = address.trim().split(":");
  const a = parseCell(first);
  const b = second === undefined ? a : parseCell(second);
  if (!a || !b || extra !== undefined) throw new Error(`not an A1 address: ${address}`);
  return {
    r1: Math.min(a.r, b.r),
    c1: Math.min(a.c, b.c),
    r2: Math.max(a.r, b.r),
    c2: Math.max(a.c, b.c),
  };
}

/** Box → "B2:D10" ("B2" for one cell, as Excel writes it). */
export function formatAddress({ r1, c1, r2, c2 }) {
  const a = `${columnLetters(c1)}${r1 + 1}`;
  const b = `${columnLetters(c2)}${r2 + 1}`;
  return a === b ? a : `${a}:${b}`;
}

/** Rows and columns of a box. */
export function boxSize(box) {
  return { rows: box.r2 - box.r1 + 1, cols: box.c2 - box.c1 + 1 };
}

/**
 * Excel's address of a range ("Deals!A5:H7", "'My Sheet'!A1", "'O''Brien'!B2") without the
 * sheet part. The sheet name is taken from the last "!" that is outside quotes.
 * @param {string} address
 */
export function stripSheet(address) {
  let quoted = false;
  let bang = -1;
  for (let i = 0; i < address.length; i++) {
    const ch = address[i];
    if (ch === "'") quoted = !quoted;
    else if (ch === "!" && !quoted) bang = i;
  }
  return bang < 0 ? address : address.slice(bang + 1);
}
