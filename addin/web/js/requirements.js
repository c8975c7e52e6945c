// @ts-check
// Which Excel JavaScript API the running Excel has (requirement sets, "ExcelApi 1.9"). The
// manifest asks for the lowest set that everything the add-in calls unconditionally needs
// (addin/officeaddin/manifest.py, EXCEL_API_MIN); the few newer calls are made only where
// `supports` says so, with an older way or a clear message otherwise. tests/test_office_api.py
// holds the table of every Office.js API the JavaScript calls and checks both.

/** The sets the JavaScript tests for, and what it does without them. */
export const OPTIONAL = {
  // Workbook.getSelectedRanges: a selection of several blocks; else getSelectedRange (1.1),
  // the single block.
  selection: "1.9",
  // Range.dataValidation: drop-down lists on new tables; else none, with a warning.
  dropdowns: "1.8",
  // Table.resize: rows appended by writing the cells under the table (co-authoring safe), and
  // a new column at a table's right; else rows.add (1.1), and a clear error for a column.
  resize: "1.13",
  // Worksheet.pageLayout, page breaks and RangeFormat.indentLevel: how a report sheet prints
  // and its indents; else Excel's defaults (no reason to fail an answer).
  layout: "1.9",
};

/**
 * Whether this Excel has ExcelApi `version`. Outside an Office host (no
 * Office.context.requirements: the unit tests' model of a current Excel) everything is there.
 * @param {string} version
 * @param {any} [office]
 */
export function supports(version, office = globalThis.Office) {
  const requirements = office?.context?.requirements;
  if (typeof requirements?.isSetSupported !== "function") return true;
  return Boolean(requirements.isSetSupported("ExcelApi", version));
}
