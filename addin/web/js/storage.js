// @ts-check
// What the pane remembers between openings, in the browser storage of the add-in — never in the
// workbook, which is shared with colleagues and mailed around: the address and token of a shared
// xlcrm service, and the campaign that was still sending when the pane was closed.

const CONNECTION = "xlcrm.connection";
const RUNNING = "xlcrm.campaign.running";

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    return null; // storage disabled (private mode) or a value from an older version
  }
}

function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

/** `{ baseUrl, token }`: empty strings mean the service that served this page, no token. */
export function loadConnection() {
  const saved = read(CONNECTION) || {};
  return { baseUrl: saved.baseUrl || "", token: saved.token || "" };
}

export function saveConnection({ baseUrl, token }) {
  const url = (baseUrl || "").trim().replace(/\/+$/, "");
  return write(CONNECTION, url || token ? { baseUrl: url, token: token || "" } : null);
}

// A campaign is remembered per workbook: continuing a send in another workbook would be wrong.
function runningKey(documentUrl) {
  return documentUrl ? `${RUNNING}:${documentUrl}` : RUNNING;
}

/** The campaign still sending in this workbook: `{ template, name, where, claim?, total }`. */
export function loadRunningCampaign(documentUrl) {
  return read(runningKey(documentUrl));
}

export function saveRunningCampaign(documentUrl, campaign) {
  write(runningKey(documentUrl), campaign);
}

export function forgetRunningCampaign(documentUrl) {
  write(runningKey(documentUrl), null);
}

// The result of the last one-click ribbon command (commands.js), which the pane shows as its
// status line: the function file that ran it has no window of its own.
const RIBBON_STATUS = "xlcrm.ribbon.status";

/** `{ command, ok, text, where?, fix?, at }` or null. */
export function loadRibbonStatus() {
  return read(RIBBON_STATUS);
}

export function saveRibbonStatus(status) {
  return write(RIBBON_STATUS, status);
}

export { RIBBON_STATUS };

// The files of the last one-click command (Run rules' contracts), for the dialog that offers
// them: the function file that received them cannot show a page, and the dialog is another
// page of this origin, which shares this storage (as the pane shares the status line). Kept
// as base64 under a budget well inside the browser's 5 MB of storage; what does not fit is
// not kept, and the dialog says how to get it another way.
const RIBBON_FILES = "xlcrm.ribbon.files";
const FILES_BUDGET = 3_000_000; // characters of base64

/**
 * @param {{name: string, mediaType: string, data: string}[]} files  data: base64
 * @returns {string[]} the names of the files kept
 */
export function saveRibbonFiles(files) {
  const kept = [];
  let used = 0;
  for (const file of files) {
    if (used + file.data.length > FILES_BUDGET) continue;
    used += file.data.length;
    kept.push(file);
  }
  if (!write(RIBBON_FILES, kept.length ? kept : null)) return [];
  return kept.map((f) => f.name);
}

/** @returns {{name: string, mediaType: string, data: string}[]} */
export function loadRibbonFiles() {
  const files = read(RIBBON_FILES);
  return Array.isArray(files) ? files : [];
}
