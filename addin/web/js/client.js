// The task pane's way to run an xlcrm command: read what the service needs from the open
// workbook, ask the service, apply its answer — the cycle of docs/protocol.md. The UI calls
// only XlcrmClient; the pieces are exported for tests and for the UI's own needs.

import { PROTOCOL, ServiceError, call } from "./api.js";
import { applyActions, excelText } from "./excel-apply.js";
import { readInventory, readRanges } from "./excel-read.js";

export { ServiceError, applyActions, excelText, readInventory, readRanges };

/** Guard against a service that keeps answering "more" without moving on. */
const MAX_BATCHES = 100_000;

export class XlcrmClient {
  /** The token a local service handed to this page (a promise, fetched once). */
  #session = null;

  /**
   * @param {{baseUrl?: string, token?: string|null, fetch?: typeof fetch, excel?: any,
   *   lang?: string}} [options]  `baseUrl` without the trailing slash ("" when the task pane
   *   is served by the service itself); `token` the access token of a shared service (none:
   *   the service that served this page hands its own to it); `excel` the Office.js `Excel`
   *   namespace
   */
  constructor({ baseUrl = "", token = null, fetch = globalThis.fetch, excel = globalThis.Excel, lang = "en" } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = token;
    // Called unbound: window.fetch throws "Illegal invocation" when called as a method of
    // another object.
    this.fetch = (...args) => fetch(...args);
    this.excel = excel;
    this.lang = lang;
  }

  /** Where and how to call, with the token: the configured one, else the service's own
   * (asked once from /api/v1/session, which answers only this service's own pages). */
  async #conn() {
    const conn = { baseUrl: this.baseUrl, token: this.token, fetch: this.fetch, lang: this.lang };
    if (!conn.token) {
      this.#session ??= call(conn, "GET", "/api/v1/session").then((answer) => answer.token);
      try {
        conn.token = await this.#session;
      } catch (err) {
        this.#session = null; // asked again next time (the service may have been down)
        throw err;
      }
    }
    return conn;
  }

  /** One API call; a refused session token is forgotten, so the next call asks again. */
  async #call(method, path, payload = undefined, signal = undefined) {
    const conn = await this.#conn();
    try {
      return await call(conn, method, path, payload, signal);
    } catch (err) {
      if (err?.kind === "auth" && !this.token) this.#session = null;
      throw err;
    }
  }

  /** The commands the service offers: `{protocol, version, commands: [{name, title, needs_selection}]}`. */
  async commands() {
    return this.#call("GET", "/api/v1/commands");
  }

  /**
   * Run a command to the end: plan, read, run, apply; again with `next` while the service
   * answers "more". Each batch is applied (all or nothing) before the next is asked for, so a
   * cancelled or failed run leaves the workbook as the last finished batch left it.
   *
   * @param {string} command
   * @param {object} [options]
   * @param {{onProgress?: (p: {done: number, total: number, label?: string}) => void,
   *   onMessage?: (m: {level: string, text: string}) => void, signal?: AbortSignal}} [hooks]
   * @returns {Promise<{result: any, messages: {level: string, text: string}[],
   *   downloads: {name: string, mediaType: string, blob: Blob}[]}>}
   */
  async run(command, options = {}, { onProgress, onMessage, signal } = {}) {
    const messages = [];
    const downloads = [];
    const say = (message) => {
      messages.push(message);
      onMessage?.(message);
    };
    let current = options;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      signal?.throwIfAborted();
      const answer = await this.#once(command, current, signal);
      for (const message of answer.messages ?? []) say(message);
      const applied = await this.excel.run((context) =>
        applyActions(context, answer.actions ?? [], { lang: this.lang, operation: answer.operation }),
      );
      downloads.push(...applied.downloads);
      for (const message of applied.messages) say(message);
      if (answer.progress) onProgress?.(answer.progress);
      if (answer.status !== "more") return { result: answer.result ?? null, messages, downloads };
      current = answer.next ?? current;
    }
    throw new ServiceError({ kind: "retry", what: `${command}: the service did not finish after ${MAX_BATCHES} batches` });
  }

  /** One batch up to the actions: inventory → plan → (reads → run), or the plan's own answer. */
  async #once(command, options, signal) {
    const seen = await this.excel.run((context) => readInventory(context));
    const request = { protocol: PROTOCOL, command, options, ...seen };
    const plan = await this.#call("POST", "/api/v1/plan", request, signal);
    // "read" (the usual answer): read plan.reads and run. "done"/"more": the plan is the
    // answer itself (Sync mail with no new mail finishes here without reading a table).
    if (plan.status === "done" || plan.status === "more") return plan;
    const tables = await this.excel.run((context) => readRanges(context, plan.reads ?? {}));
    signal?.throwIfAborted();
    return this.#call("POST", "/api/v1/run", { ...request, tables }, signal);
  }
}
