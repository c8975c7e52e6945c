// @ts-check
// Small DOM helpers and the pieces every view shares: progress bar, error box, messages, the
// busy state of a command. Text always goes in as text nodes (`h` never parses markup), so a
// customer name or a service message can never become HTML in the pane.

import { ServiceError } from "./client.js";

/** `h("button", { class: "primary", onclick }, "Send")`: an element with attributes, event
 * handlers (`on…` functions) and children (strings become text nodes; null/false are skipped). */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "value" || name === "checked") {
      element[name] = value; // the live property, not the default the attribute sets
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Append children to `element`, skipping null/false (Element.append would write "null"). */
export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace everything inside `element` with `children`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let ids = 0;
/** A unique id for pairing a label with its input. */
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled form field; `control` gets the id, `help` is tied to it with aria-describedby. */
export function field(label, control, help = null) {
  const id = control.id || uid("field");
  control.id = id;
  const parts = [h("label", { for: id }, label), control];
  if (help) {
    const helpId = `${id}-help`;
    control.setAttribute("aria-describedby", helpId);
    parts.push(help instanceof Node ? withId(help, helpId) : h("p", { class: "help", id: helpId }, help));
  }
  return h("div", { class: "field" }, parts);
}

function withId(node, id) {
  node.id = id;
  return node;
}

/** A progress bar: `set(null)` is indeterminate (waiting for the service), `set(done, total)`
 * fills it. Hidden until first set; `hide()` removes it from view. */
export function progressBar(label) {
  const fillBar = h("div", { class: "progress-fill" });
  const text = h("span", { class: "progress-text" });
  const bar = h(
    "div",
    { class: "progress-track", role: "progressbar", "aria-label": label, "aria-valuemin": "0" },
    fillBar,
  );
  const root = h("div", { class: "progress", hidden: true }, bar, text);
  return {
    element: root,
    set(done, total, caption = "") {
      root.hidden = false;
      if (done === null || done === undefined || !total) {
        bar.classList.add("indeterminate");
        bar.removeAttribute("aria-valuenow");
        bar.removeAttribute("aria-valuemax");
        fillBar.style.width = "";
      } else {
        bar.classList.remove("indeterminate");
        const share = Math.max(0, Math.min(1, done / total));
        bar.setAttribute("aria-valuenow", String(done));
        bar.setAttribute("aria-valuemax", String(total));
        fillBar.style.width = `${(share * 100).toFixed(1)}%`;
      }
      text.textContent = caption;
    },
    hide() {
      root.hidden = true;
    },
  };
}

/** What a failed command shows: a title by kind, where it happened, what, and what to do. */
export function errorBox(t, error, { onRetry = null } = {}) {
  const info = describeError(t, error);
  const rows = [];
  if (info.where) rows.push(h("dt", {}, t("common.where")), h("dd", { class: "where" }, info.where));
  const box = h(
    "div",
    { class: `notice error kind-${info.kind}`, role: "alert" },
    h("p", { class: "notice-title" }, info.title),
    h("p", { class: "what" }, info.what),
    rows.length ? h("dl", {}, rows) : null,
    info.fix ? h("p", { class: "fix" }, h("strong", {}, `${t("common.fix")}: `), info.fix) : null,
    onRetry && info.retryable
      ? h("button", { type: "button", class: "secondary", onclick: onRetry }, t("common.retry"))
      : null,
  );
  return box;
}

// What the service and the client say an error is (api.js): what the user can do about it.
// "partial": Excel refused a write and the undo did not finish either (excel-apply.js).
const KINDS = ["input", "auth", "version", "retry", "workbook", "partial"];

/** The parts of any error a command can end with: the service's ServiceError, a network
 * failure (the service is not running), or an Excel error from Office.js. */
export function describeError(t, error) {
  if (error instanceof ServiceError) {
    const kind = KINDS.includes(error.kind) ? error.kind : "other";
    return {
      kind,
      title: t(`common.error.${kind}`),
      where: error.where || "",
      what: error.what || error.message,
      fix: error.fix || (kind === "auth" ? t("common.error.authFix") : ""),
      retryable: kind === "retry",
    };
  }
  if (error instanceof TypeError && /fetch|network|load failed/i.test(error.message)) {
    return {
      kind: "retry",
      title: t("common.error.retry"),
      where: "",
      what: t("common.error.network"),
      fix: t("common.error.networkFix"),
      retryable: true,
    };
  }
  return {
    kind: "other",
    title: t("common.error.other"),
    where: error?.debugInfo?.errorLocation || "",
    what: error?.message || String(error),
    fix: "",
    retryable: true,
  };
}

/** A list of the service's `message` actions (info, warning, error), newest last. */
export function messageList(t) {
  const list = h("ul", { class: "messages", "aria-label": t("common.messages") });
  const root = h("div", { class: "messages-wrap", hidden: true }, list);
  return {
    element: root,
    add(message) {
      const level = ["info", "warning", "error"].includes(message?.level) ? message.level : "info";
      list.append(h("li", { class: `message level-${level}` }, message?.text ?? String(message)));
      root.hidden = false;
    },
    clear() {
      list.replaceChildren();
      root.hidden = true;
    },
  };
}

/** A result line: the `summary` every command's result carries. */
export function summaryBox(t, text) {
  return h(
    "div",
    { class: "notice success", role: "status" },
    h("p", { class: "notice-title" }, t("common.done")),
    h("p", { class: "summary" }, text || ""),
  );
}

/**
 * Run one service command with the usual behaviour: the buttons of `busy` are disabled while it
 * runs, an indeterminate progress shows until onProgress gives numbers, messages are listed, and
 * errors are shown in `output` with a Retry button when trying again can help.
 * Returns the client's answer, or null when the command failed (the error is already shown).
 */
export async function runCommand(ctx, command, options, ui) {
  const { output, progress, messages, busy = [], caption = "", onProgress = null, retry } = ui;
  const buttons = busy.filter(Boolean);
  for (const button of buttons) button.disabled = true;
  if (output) output.replaceChildren();
  messages?.clear();
  progress?.set(null, null, caption);
  try {
    return await ctx.client.run(command, options, {
      onProgress(step) {
        // The pane's own caption: the service's label is its English ("Reading mail").
        progress?.set(step?.done, step?.total, caption || step?.label || "");
        onProgress?.(step);
      },
      onMessage(message) {
        messages?.add(message);
      },
    });
  } catch (error) {
    if (!(error instanceof ServiceError)) console.warn("xlcrm:", command, error);
    output?.append(errorBox(ctx.t, error, { onRetry: retry || null }));
    return null;
  } finally {
    progress?.hide();
    for (const button of buttons) button.disabled = false;
  }
}

/** A heading and a short explanation at the top of a view. */
export function intro(title, text) {
  return [h("h2", { class: "view-title" }, title), h("p", { class: "intro" }, text)];
}
