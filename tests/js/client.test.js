// The whole cycle against a fake service (a fetch function answering as docs/protocol.md
// says) and a mocked workbook (office-addin-mock with excel-mock.js): no Excel, no server.

import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Book, excelFor } from "./excel-mock.js";
import { ServiceError, XlcrmClient } from "../../addin/web/js/client.js";
import { GZIP_THRESHOLD } from "../../addin/web/js/api.js";

function book() {
  return new Book({
    sheets: [
      {
        name: "Customers",
        cells: {
          A1: "ID", B1: "Name", C1: "Email", D1: "Created", E1: "Notes",
          A2: "C0001", B2: "张伟", C2: "zw@hd.cn", D2: 45292, E2: "private notes not to be sent",
        },
      },
      { name: "Deals", cells: { A1: "ID", A5: "D0001" } },
    ],
    tables: [{ name: "Customers", sheet: "Customers", address: "A1:E2" }],
    selection: { sheet: "Deals", address: "A5:H7" },
  });
}

/** A fake service: `routes[path]` answers each call (a function of the parsed body); like
 * a local xlcrm serve, it hands its token to the page at /api/v1/session. */
const SESSION_TOKEN = "per-install-token";
function service(routes) {
  routes = { "/api/v1/session": () => ({ protocol: 1, token: SESSION_TOKEN }), ...routes };
  const calls = []; // the API calls but the session: what the commands cost
  const all = []; // every call, the session included
  const fetch = async (url, init = {}) => {
    const path = new URL(url, "http://pane.example").pathname;
    let body = null;
    if (init.body) {
      const raw = Buffer.from(init.body);
      const text = init.headers["Content-Encoding"] === "gzip" ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
      body = JSON.parse(text);
    }
    const call = { path, method: init.method, headers: init.headers, body, size: init.body?.length ?? 0 };
    all.push(call);
    if (path !== "/api/v1/session") calls.push(call);
    const answer = routes[path](body, calls.length);
    if (answer instanceof Response) return answer;
    return new Response(JSON.stringify(answer), { status: 200, headers: { "Content-Type": "application/json" } });
  };
  return { fetch, calls, all };
}

const reads = { customers: { sheet: "Customers", table: "Customers", address: "A1:E2", columns: [0, 2, 3] } };

describe("run", () => {
  it("posts the inventory, reads only the asked columns, applies the answer", async () => {
    const wb = book();
    const { fetch, calls } = service({
      "/api/v1/plan": () => ({ protocol: 1, status: "read", reads }),
      "/api/v1/run": () => ({
        protocol: 1,
        status: "done",
        actions: [
          { type: "write", sheet: "Customers", address: "B2", values: [["张伟（已同步）"]] },
          { type: "message", level: "info", text: "同步了 1 封邮件" },
        ],
        result: { new_mail: 1 },
        messages: [{ level: "warning", text: "1 message skipped" }],
      }),
    });
    const client = new XlcrmClient({ baseUrl: "https://crm.example/", token: "s3cret", fetch, excel: excelFor(wb), lang: "zh" });
    const seen = [];
    const out = await client.run("sync", { tickets: false }, { onMessage: (m) => seen.push(m) });

    expect(calls.map((c) => c.path)).toEqual(["/api/v1/plan", "/api/v1/run"]);
    const [plan, run] = calls;
    expect(plan.headers.Authorization).toBe("Bearer s3cret");
    expect(plan.body).toMatchObject({
      protocol: 1,
      command: "sync",
      options: { tickets: false },
      selection: { sheet: "Deals", address: "A5:H7" },
      state: {},
    });
    expect(plan.body.inventory.tables).toEqual([
      { name: "Customers", sheet: "Customers", address: "A1:E2", headers: ["ID", "Name", "Email", "Created", "Notes"] },
    ]);
    expect(plan.body).not.toHaveProperty("tables");
    // Exactly the asked columns: the notes column never leaves the workbook.
    expect(run.body.tables).toEqual({
      customers: {
        sheet: "Customers", table: "Customers", address: "A1:E2", columns: [0, 2, 3],
        header: ["ID", "Name", "Email", "Created", "Notes"],
        rows: [["C0001", "zw@hd.cn", 45292]],
        last_used_row: 2,
      },
    });
    expect(JSON.stringify(run.body.tables)).not.toContain("private notes");
    expect(run.body.inventory).toEqual(plan.body.inventory);

    expect(wb.value("Customers", "B2")).toBe("张伟（已同步）");
    expect(out).toEqual({
      result: { new_mail: 1 },
      messages: [{ level: "warning", text: "1 message skipped" }, { level: "info", text: "同步了 1 封邮件" }],
      downloads: [],
    });
    expect(seen).toEqual(out.messages);
  });

  it("finishes at the plan when it answers done, without reading or running", async () => {
    const wb = book();
    const { fetch, calls } = service({
      "/api/v1/plan": () => ({ protocol: 1, status: "done", actions: [{ type: "state", items: { "mailbox:x": "7" } }], result: { new_mail: 0 }, messages: [] }),
      "/api/v1/run": () => {
        throw new Error("run must not be called");
      },
    });
    const out = await new XlcrmClient({ fetch, excel: excelFor(wb) }).run("sync");
    expect(calls.map((c) => c.path)).toEqual(["/api/v1/plan"]);
    expect(out.result).toEqual({ new_mail: 0 });
    expect(wb.value("_xlcrm", "B2")).toBe("7");
  });

  it("runs again with next while the service answers more, reporting progress", async () => {
    const wb = book();
    const total = 3;
    const { fetch, calls } = service({
      "/api/v1/plan": () => ({ protocol: 1, reads }),
      "/api/v1/run": (body) => {
        const batch = body.options.batch ?? 0;
        const done = batch + 1;
        return {
          protocol: 1,
          status: done < total ? "more" : "done",
          actions: [
            { type: "write", sheet: "Deals", address: `B${done}`, values: [[`sent ${done}`]] },
            { type: "download", name: `报价-${done}.pdf`, media_type: "application/pdf", data: Buffer.from(`pdf ${done}`).toString("base64") },
          ],
          progress: { done, total, label: "Sending" },
          next: { step: "send", batch: done },
          result: { sent: done },
          messages: [],
        };
      },
    });
    const progress = [];
    const out = await new XlcrmClient({ fetch, excel: excelFor(wb) }).run("campaign", { step: "send" }, { onProgress: (p) => progress.push(p) });
    expect(progress).toEqual([1, 2, 3].map((done) => ({ done, total, label: "Sending" })));
    expect(calls.filter((c) => c.path === "/api/v1/run").map((c) => c.body.options)).toEqual([
      { step: "send" },
      { step: "send", batch: 1 },
      { step: "send", batch: 2 },
    ]);
    expect([1, 2, 3].map((n) => wb.value("Deals", `B${n}`))).toEqual(["sent 1", "sent 2", "sent 3"]);
    expect(out.result).toEqual({ sent: 3 });
    expect(await Promise.all(out.downloads.map((d) => d.blob.text()))).toEqual(["pdf 1", "pdf 2", "pdf 3"]);
  });

  it("stops between batches when cancelled", async () => {
    const wb = book();
    const controller = new AbortController();
    const { fetch, calls } = service({
      "/api/v1/plan": () => ({ protocol: 1, status: "more", actions: [], progress: { done: 1, total: 9 }, next: { n: 1 } }),
    });
    const run = new XlcrmClient({ fetch, excel: excelFor(wb) }).run("campaign", {}, { onProgress: () => controller.abort(), signal: controller.signal });
    await expect(run).rejects.toThrow(/abort/i);
    expect(calls).toHaveLength(1);
  });

  it("gzips a big body and says so", async () => {
    const cells = { A1: "ID", B1: "Name" };
    for (let r = 2; r <= 5000; r++) {
      cells[`A${r}`] = `C${String(r).padStart(5, "0")}`;
      cells[`B${r}`] = `客户名称 ${r}`;
    }
    const wb = new Book({ sheets: [{ name: "Customers", cells }], selection: { sheet: "Customers", address: "A1" } });
    const bigReads = { c: { sheet: "Customers", address: "A1:B5000", columns: [0, 1] } };
    const { fetch, calls } = service({
      "/api/v1/plan": () => ({ protocol: 1, reads: bigReads }),
      "/api/v1/run": () => ({ protocol: 1, status: "done", actions: [], result: null, messages: [] }),
    });
    await new XlcrmClient({ fetch, excel: excelFor(wb) }).run("dedupe");
    const [plan, run] = calls;
    expect(plan.headers["Content-Encoding"]).toBeUndefined();
    expect(run.headers["Content-Encoding"]).toBe("gzip");
    // The fake service decompressed it: the rows are all there, and it was worth it.
    expect(run.body.tables.c.rows).toHaveLength(4999);
    expect(run.body.tables.c.rows[4998]).toEqual(["C05000", "客户名称 5000"]);
    const plain = new TextEncoder().encode(JSON.stringify(run.body)).length;
    expect(plain).toBeGreaterThan(GZIP_THRESHOLD);
    expect(run.size).toBeLessThan(plain / 3);
  });

  it("lists the commands", async () => {
    const list = { protocol: 1, version: "0.1.0", commands: [{ name: "sync", title: { en: "Sync mail", zh: "同步邮件" }, needs_selection: false }] };
    const { fetch, all } = service({ "/api/v1/commands": () => list });
    expect(await new XlcrmClient({ baseUrl: "http://127.0.0.1:8765", fetch }).commands()).toEqual(list);
    expect(all.map((c) => c.path)).toEqual(["/api/v1/session", "/api/v1/commands"]);
    expect(all[0].headers.Authorization).toBeUndefined();
    expect(all[1].method).toBe("GET");
    expect(all[1].headers.Authorization).toBe(`Bearer ${SESSION_TOKEN}`);
  });
});

describe("the trust boundary (docs/security.md)", () => {
  it("asks the serving service for its token once and sends it, with the client header, on every call", async () => {
    const { fetch, all: calls } = service({
      "/api/v1/plan": () => ({ protocol: 1, status: "read", reads }),
      "/api/v1/run": () => ({ protocol: 1, status: "done", actions: [], result: {} }),
    });
    const client = new XlcrmClient({ fetch, excel: excelFor(book()) });
    await client.run("sync");
    await client.run("sync");
    expect(calls.map((c) => c.path)).toEqual([
      "/api/v1/session",
      "/api/v1/plan",
      "/api/v1/run",
      "/api/v1/plan",
      "/api/v1/run",
    ]);
    for (const call of calls) expect(call.headers["X-Xlcrm-Client"]).toBe("taskpane");
    for (const call of calls.slice(1)) {
      expect(call.headers.Authorization).toBe(`Bearer ${SESSION_TOKEN}`);
      expect(call.headers["Content-Type"]).toBe("application/json");
    }
  });

  it("a configured token (a shared service) is sent and the session is never asked", async () => {
    const { fetch, all: calls } = service({ "/api/v1/commands": () => ({ protocol: 1, commands: [] }) });
    await new XlcrmClient({ token: "team-token", fetch }).commands();
    expect(calls.map((c) => c.path)).toEqual(["/api/v1/commands"]);
    expect(calls[0].headers.Authorization).toBe("Bearer team-token");
  });

  it("a service that hands out no token asks for it in Settings, and is asked again next time", async () => {
    let refusals = 1;
    const { fetch, all: calls } = service({
      "/api/v1/session": () =>
        refusals-- > 0
          ? new Response(JSON.stringify({ error: { kind: "auth", what: "this xlcrm service does not hand out its access token", fix: "enter the token" } }), { status: 401 })
          : { protocol: 1, token: "later" },
      "/api/v1/commands": () => ({ protocol: 1, commands: [] }),
    });
    const client = new XlcrmClient({ fetch });
    await expect(client.commands()).rejects.toMatchObject({ kind: "auth", status: 401 });
    await client.commands();
    expect(calls.map((c) => c.path)).toEqual(["/api/v1/session", "/api/v1/session", "/api/v1/commands"]);
    expect(calls[2].headers.Authorization).toBe("Bearer later");
  });
});

describe("errors", () => {
  const failing = (status, body) =>
    service({
      "/api/v1/plan": () =>
        new Response(body === undefined ? "" : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }),
    });

  it.each([
    [400, { kind: "input", where: "Customers!D14", what: "不是有效的日期", fix: "请输入 2024-03-01 这样的日期" }],
    [401, { kind: "auth", where: null, what: "The service needs the access token", fix: "Enter it in Settings" }],
    [409, { kind: "version", where: null, what: "protocol 2 is not spoken here", fix: "Update the add-in" }],
    [503, { kind: "retry", where: "imaps://mail.example.cn:993", what: "connection refused", fix: null }],
  ])("HTTP %i: the error body becomes a ServiceError", async (status, error) => {
    const wb = book();
    const before = wb.snapshot();
    const { fetch } = failing(status, { error });
    const err = await new XlcrmClient({ fetch, excel: excelFor(wb) }).run("sync").catch((e) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect({ kind: err.kind, where: err.where, what: err.what, fix: err.fix, status: err.status }).toEqual({ ...error, status });
    expect(err.message).toBe(error.where ? `${error.where}: ${error.what}` : error.what);
    expect(wb.snapshot()).toEqual(before);
  });

  it("the service's where, message and hint (the fields of every xlcrm error) are shown", async () => {
    const error = { kind: "input", where: "Customers!D14", message: "不是有效的日期", hint: "请输入 2024-03-01 这样的日期" };
    const { fetch } = failing(400, { error });
    const err = await new XlcrmClient({ fetch, excel: excelFor(book()) }).run("sync").catch((e) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect({ kind: err.kind, where: err.where, what: err.what, fix: err.fix }).toEqual({
      kind: "input",
      where: "Customers!D14",
      what: "不是有效的日期",
      fix: "请输入 2024-03-01 这样的日期",
    });
    expect(err.message).toBe("Customers!D14: 不是有效的日期");
  });

  it("an error the service names by a code is worded in the pane's language", async () => {
    const error = {
      kind: "input",
      where: "Settings!B5",
      message: "the workbook does not say which mailbox to use (Mailbox / 邮箱)",
      hint: "put its URL in the Settings sheet's '邮箱' row",
      code: "settings.no_mailbox",
      params: { row: "邮箱" },
    };
    const { fetch } = failing(400, { error });
    const err = await new XlcrmClient({ fetch, excel: excelFor(book()), lang: "zh-CN" }).run("sync").catch((e) => e);
    expect({ where: err.where, what: err.what, fix: err.fix }).toEqual({
      where: "Settings!B5",
      what: "工作簿中没有指定要使用的邮箱。",
      fix: "请在“设置”表的“邮箱”一行填写邮箱地址，例如 imaps://sales@corp.cn@imap.exmail.qq.com",
    });
    // A code this pane does not know (a newer service): the service's own text.
    const { fetch: newer } = failing(400, { error: { ...error, code: "settings.something_new" } });
    const other = await new XlcrmClient({ fetch: newer, excel: excelFor(book()), lang: "zh-CN" }).run("sync").catch((e) => e);
    expect(other.what).toBe(error.message);
  });

  it("passes the answer's operation id to the workbook writer: a replayed answer changes nothing", async () => {
    const wb = book();
    const answer = {
      protocol: 1,
      status: "done",
      operation: "0123456789abcdef0123456789abcdef",
      actions: [{ type: "append_rows", sheet: "Customers", table: "Customers", address: "A3:E3", values: [["C0002", "李娜", "", 45300, ""]] }],
    };
    const { fetch } = service({ "/api/v1/plan": () => answer });
    const client = new XlcrmClient({ fetch, excel: excelFor(wb) });
    await client.run("import");
    const once = wb.snapshot();
    await client.run("import"); // the same answer again
    expect(wb.snapshot()).toEqual(once);
    expect(wb.table("Customers").box.r2).toBe(2);
  });

  it("a gateway's 502 without a body is kind retry", async () => {
    const { fetch } = failing(502, undefined);
    const err = await new XlcrmClient({ fetch, excel: excelFor(book()) }).run("sync").catch((e) => e);
    expect(err).toMatchObject({ kind: "retry", status: 502 });
  });

  it("a network failure is kind retry, in the pane's language", async () => {
    const fetch = async () => {
      throw new TypeError("Failed to fetch");
    };
    const err = await new XlcrmClient({ fetch, excel: excelFor(book()), lang: "zh-CN" }).run("sync").catch((e) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect(err.kind).toBe("retry");
    expect(err.what).toBe("无法连接 xlcrm 服务: Failed to fetch");
    expect(err.fix).toContain("重试");
  });

  it("an answer in another protocol version is kind version", async () => {
    const { fetch } = service({ "/api/v1/commands": () => ({ protocol: 2, commands: [] }) });
    await expect(new XlcrmClient({ fetch }).commands()).rejects.toMatchObject({ kind: "version" });
  });
});
