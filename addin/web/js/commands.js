// @ts-check
// The ribbon's one-click commands (the manifest's ExecuteFunction actions; addin/officeaddin/
// ribbon.py names them). Office loads commands.html, the FunctionFile, in a page without a
// window and calls the function by name; it runs the command with the same client as the pane
// (the token from this service's own /api/v1/session, every call with X-Xlcrm-Client), then:
//   - on success it shows the sheet the command wrote (the Dashboard, the Reminders) and keeps
//     the result as the pane's status line;
//   - on failure it opens a small dialog (status.html) with what went wrong and what to do;
//   - a command that writes no sheet of its own (Run rules) opens that dialog on success too:
//     its result is the summary and the contracts to download, which the dialog offers (the
//     files are handed over in the add-in's storage, storage.js: saveRibbonFiles).
// Why not a notification: Excel has none for add-ins. The notification messages of the Office
// API (`item.notificationMessages`) are Outlook's, on a mail item; an Excel add-in can only show
// a dialog (Office.context.ui.displayDialogAsync, DialogApi 1.1) or write to its task pane,
// which in this add-in runs in another page (no shared runtime, so that Excel 2019 and the Mac
// keep working). So the result is the sheet itself plus the status line, and an error — which
// must not go unseen — is the dialog.

import { XlcrmClient } from "./client.js";
import { pickLanguage, translator } from "./i18n.js";
import { loadConnection, saveRibbonFiles, saveRibbonStatus } from "./storage.js";
import { summarize } from "./summaries.js";
import { describeError } from "./ui.js";

/** Function name in the manifest → the service command it runs (ribbon.py's FUNCTIONS). */
export const ONE_CLICK = { syncMail: "sync", refreshDashboard: "report", reminders: "reminders", runRules: "rules" };

/**
 * Run `command` to the end and describe the outcome in the Office display language.
 * @param {string} command
 * @param {{office?: any, excel?: any, fetch?: typeof fetch}} [env]
 * @returns {Promise<{command: string, lang: string, ok: boolean, title?: string, text: string,
 *   where?: string, fix?: string, at: number, popup?: boolean, files?: string[], lost?: string[]}>}
 */
export async function runOneClick(command, { office = globalThis.Office, excel = globalThis.Excel, fetch = globalThis.fetch } = {}) {
  const lang = pickLanguage(office?.context?.displayLanguage);
  const t = translator(lang);
  const { baseUrl, token } = loadConnection();
  const client = new XlcrmClient({ baseUrl, token: token || null, lang, excel, fetch });
  const name = t(`view.${command}`);
  let status;
  try {
    const answer = await client.run(command, {});
    const sheet = answer.result?.sheet;
    if (typeof sheet === "string" && sheet) {
      // The result a user sees at once: the sheet the command wrote (Worksheet.activate, 1.1).
      await excel
        .run(async (context) => {
          context.workbook.worksheets.getItem(sheet).activate();
          await context.sync();
        })
        .catch(() => {}); // only a view change: a sheet that went away is no failure
    }
    const summary = summarize(t, command, answer.result);
    status = { command, lang, ok: true, text: t("ribbon.ok", { command: name, summary }), at: Date.now() };
    if (!(typeof sheet === "string" && sheet)) {
      // Nothing to look at in the workbook: the dialog is the result, with the files.
      const names = answer.downloads.map((d) => d.name);
      const kept = saveRibbonFiles(await Promise.all(answer.downloads.map(stored)));
      // Names only in the dialog's address (the bytes are in storage), at most 50 of them.
      const lost = names.filter((n) => !kept.includes(n));
      Object.assign(status, { popup: true, files: names.slice(0, 50), lost: lost.slice(0, 50) });
    }
  } catch (error) {
    const info = describeError(t, error);
    status = {
      command,
      lang,
      ok: false,
      title: info.title,
      text: t("ribbon.failed", { command: name, what: info.what }),
      where: info.where || "",
      fix: info.fix || t("ribbon.openPane", { command: name }),
      at: Date.now(),
    };
  }
  saveRibbonStatus(status);
  return status;
}

/** A download as storage keeps it: its bytes in base64. */
async function stored(download) {
  const bytes = new Uint8Array(await download.blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { name: download.name, mediaType: download.mediaType, data: btoa(binary) };
}

/** The result dialog: status.html shows the status it is given in its address (a failure, or
 * a result with files). Calls `done` when the user closes it (Office ends the function file's
 * page at event.completed(), which would close the dialog with it). */
function showDialog(office, status, done) {
  const url = new URL("status.html", location.href);
  url.searchParams.set("s", JSON.stringify(status));
  const ui = office?.context?.ui;
  if (typeof ui?.displayDialogAsync !== "function") return done();
  ui.displayDialogAsync(url.href, { height: 35, width: 30, displayInIframe: true }, (result) => {
    if (result?.status !== "succeeded") return done();
    result.value.addEventHandler("dialogEventReceived", () => done()); // closed by the user
  });
}

/** The handler Office calls for the button: `event.completed()` exactly once, at the end. */
export function handler(command, office = globalThis.Office) {
  return (event) => {
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      event?.completed?.();
    };
    runOneClick(command, { office })
      .then((status) => (status.ok && !status.popup ? done() : showDialog(office, status, done)))
      .catch(() => done());
  };
}

const office = globalThis.Office;
if (office?.onReady) {
  office.onReady(() => {
    for (const [name, command] of Object.entries(ONE_CLICK)) {
      const run = handler(command, office);
      // Office.actions.associate where it exists; older Office calls the global by its name.
      globalThis[name] = run;
      if (typeof office.actions?.associate === "function") office.actions.associate(name, run);
    }
  });
}
