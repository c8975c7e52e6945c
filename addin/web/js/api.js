// @ts-check
// HTTP to the xlcrm service (docs/protocol.md): JSON bodies, gzip for big ones, the access
// token, and the service's error bodies turned into ServiceError so the task pane can show
// where, what and how to fix it.

import { translator } from "./i18n.js";

export const PROTOCOL = 1;

/** Sent on every API call. A page on another site cannot add it to a "simple" request (a
 * form post, a no-cors fetch), so its browser must ask the service first, and the service
 * grants no cross-origin access: the call never happens (docs/security.md). */
export const CLIENT_HEADER = "X-Xlcrm-Client";
export const CLIENT_NAME = "taskpane";

/** Bodies above this many bytes are gzip-compressed when the browser can: a run request
 * carrying a few thousand customers shrinks about tenfold, small ones are not worth it. */
export const GZIP_THRESHOLD = 64 * 1024;

/** "zh", "zh-CN", "zh-Hans-CN" … : the task pane speaks Chinese; anything else English. */
export function isChinese(lang) {
  return String(lang || "").toLowerCase().startsWith("zh");
}

/** Client-side texts in the task pane's language (from the one table in i18n.js). */
export function texts(lang) {
  const t = translator(isChinese(lang) ? "zh" : "en");
  return {
    unreachable: t("api.unreachable"),
    unreachableFix: t("api.unreachableFix"),
    trouble: t("api.trouble"),
    tryAgain: t("api.tryAgain"),
    notJson: t("api.notJson"),
    /** @param {unknown} got */
    version: (got) => t("api.version", { got, protocol: PROTOCOL }),
    versionFix: t("api.versionFix"),
    /** @param {number} status */
    status: (status) => t("api.status", { status }),
  };
}

/**
 * An error the task pane shows: `kind` says what the user can do about it — `input` (fix the
 * workbook or the options; nothing was changed), `auth` (enter the access token), `version`
 * (update one side), `retry` (service or network trouble: try again), `workbook` (Excel
 * refused a change; the workbook was left unchanged).
 */
export class ServiceError extends Error {
  /**
   * @param {{kind: string, where?: string|null, what: string, fix?: string|null,
   *          status?: number}} fields
   */
  constructor({ kind, where = null, what, fix = null, status = 0 }, options = undefined) {
    super(where ? `${where}: ${what}` : what, options);
    this.name = "ServiceError";
    this.kind = kind;
    this.where = where;
    this.what = what;
    this.fix = fix;
    this.status = status;
  }
}

/** The kind an HTTP status means when the body does not say (a proxy's bare 502 page). */
function kindOfStatus(status) {
  if (status === 401 || status === 403) return "auth";
  if (status === 409) return "version";
  if (status >= 500 || status === 0 || status === 429) return "retry";
  return "input";
}

/** ServiceError from a failed response: the `{"error": {...}}` body when there is one. */
async function errorFrom(response, lang) {
  const t = texts(lang);
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null; // a bare gateway page or an empty body: described by the status alone
  }
  const error = body && typeof body === "object" ? body.error : null;
  // Every xlcrm error carries where, message and hint; services before them said what and fix.
  const message = error && typeof error === "object" ? (error.message ?? error.what) : null;
  if (typeof message === "string") {
    return new ServiceError({
      kind: typeof error.kind === "string" ? error.kind : kindOfStatus(response.status),
      where: error.where ?? null,
      what: message,
      fix: error.hint ?? error.fix ?? null,
      status: response.status,
    });
  }
  const kind = kindOfStatus(response.status);
  return new ServiceError({
    kind,
    what: kind === "retry" ? `${t.trouble} (HTTP ${response.status})` : t.status(response.status),
    fix: kind === "retry" ? t.tryAgain : null,
    status: response.status,
  });
}

/** The body as bytes, gzip-compressed when it is big and the browser has CompressionStream. */
export async function encodeBody(payload) {
  const bytes = new TextEncoder().encode(JSON.stringify(payload));
  if (bytes.length <= GZIP_THRESHOLD || typeof globalThis.CompressionStream !== "function") {
    return { body: bytes, gzip: false };
  }
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return { body: new Uint8Array(await new Response(stream).arrayBuffer()), gzip: true };
}

/**
 * One call to the service. Resolves to the parsed JSON answer; rejects with ServiceError.
 * @param {{baseUrl: string, token: string|null, fetch: typeof fetch, lang: string}} conn
 * @param {string} method
 * @param {string} path  e.g. "/api/v1/plan"
 * @param {object|undefined} payload  posted as JSON
 * @param {AbortSignal|undefined} signal
 */
export async function call(conn, method, path, payload = undefined, signal = undefined) {
  const t = texts(conn.lang);
  const headers = {
    Accept: "application/json",
    "Accept-Language": conn.lang || "en",
    [CLIENT_HEADER]: CLIENT_NAME,
  };
  if (conn.token) headers.Authorization = `Bearer ${conn.token}`;
  // same-origin credentials only, and never a cached answer: each call is a command.
  /** @type {RequestInit & {headers: Record<string, string>}} */
  const init = { method, headers, signal, credentials: "same-origin", cache: "no-store" };
  if (payload !== undefined) {
    const { body, gzip } = await encodeBody(payload);
    headers["Content-Type"] = "application/json";
    if (gzip) headers["Content-Encoding"] = "gzip";
    init.body = body;
  }
  let response;
  try {
    response = await conn.fetch(`${conn.baseUrl}${path}`, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err; // the user cancelled: not a failure
    throw new ServiceError(
      { kind: "retry", what: `${t.unreachable}: ${err?.message ?? err}`, fix: t.unreachableFix },
      { cause: err },
    );
  }
  if (!response.ok) throw await errorFrom(response, conn.lang);
  let answer;
  try {
    answer = await response.json();
  } catch (err) {
    throw new ServiceError(
      { kind: "retry", what: t.notJson, fix: t.tryAgain, status: response.status },
      { cause: err },
    );
  }
  if (answer && typeof answer === "object" && "protocol" in answer && answer.protocol !== PROTOCOL) {
    throw new ServiceError({
      kind: "version",
      what: t.version(answer.protocol),
      fix: t.versionFix,
      status: response.status,
    });
  }
  return answer;
}
