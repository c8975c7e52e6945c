// @ts-check
// Mail-merge campaign: choose a template and the customers, preview what each would receive,
// send one sample to yourself, then send — after a confirmation that names the number of
// recipients. Sending runs in batches (the client loops while the service answers "more"); the
// campaign is remembered in the browser while it runs, so a pane closed half-way offers to
// continue, which the service makes safe (each customer gets at most one message per campaign).

import {
  forgetRunningCampaign,
  loadRunningCampaign,
  saveRunningCampaign,
} from "../storage.js";
import {
  append,
  field,
  fill,
  h,
  intro,
  messageList,
  progressBar,
  runCommand,
  summaryBox,
} from "../ui.js";

/**
 * Everything one campaign pane works with: its inputs, buttons and output slots, and the state
 * that ties them together (the preview the Send button refers to).
 * @typedef {object} CampaignView
 * @property {any} ctx the pane's context (client, t, lang, documentUrl)
 * @property {(key: string, vars?: object) => string} t
 * @property {{template: HTMLSelectElement, name: HTMLInputElement, where: HTMLTextAreaElement,
 *   testTo: HTMLInputElement}} form
 * @property {{preview: HTMLButtonElement, test: HTMLButtonElement, send: HTMLButtonElement}} buttons
 * @property {HTMLElement} segments
 * @property {HTMLElement} resume
 * @property {any} progress
 * @property {any} messages
 * @property {HTMLElement} output
 * @property {HTMLElement} previewBox
 * @property {HTMLElement} confirmBox
 * @property {{previewed: {options: CampaignOptions, counts: any} | null, nameTouched: boolean,
 *   sending: boolean}} state
 */

/** @typedef {{template: string, name: string, where: string}} CampaignOptions */

/** @param {any} ctx @param {HTMLElement} root */
export function render(ctx, root) {
  const view = makeView(ctx);
  watchChanges(view);
  view.buttons.preview.addEventListener("click", () => preview(view));
  view.buttons.test.addEventListener("click", () => testSend(view));
  view.buttons.send.addEventListener("click", () => confirmSend(view));
  append(root, layout(view));
  offerResume(view);
  loadTemplates(view);
}

/** @param {any} ctx @returns {CampaignView} */
function makeView(ctx) {
  const { t } = ctx;
  return {
    ctx,
    t,
    form: {
      template: h("select", { id: "campaign-template", required: true, disabled: true }),
      name: h("input", { id: "campaign-name", type: "text", required: true, autocomplete: "off" }),
      where: h("textarea", {
        id: "campaign-where",
        rows: "2",
        spellcheck: "false",
        placeholder: t("campaign.segment.placeholder"),
      }),
      testTo: h("input", {
        id: "campaign-test-to",
        type: "email",
        autocomplete: "email",
        placeholder: t("campaign.test.placeholder"),
      }),
    },
    buttons: {
      preview: h("button", { type: "button", class: "primary" }, t("campaign.preview")),
      test: h("button", { type: "button", class: "secondary" }, t("campaign.test")),
      send: h("button", { type: "button", class: "primary", disabled: true }, t("campaign.send")),
    },
    segments: h("div", { class: "chips", role: "group", "aria-label": t("campaign.segment.choices") }),
    resume: h("div", { class: "resume-slot" }),
    progress: progressBar(t("campaign.sending")),
    messages: messageList(t),
    output: h("div", { class: "output", "aria-live": "polite" }),
    previewBox: h("div", { class: "preview" }),
    confirmBox: h("div", { class: "confirm-slot" }),
    state: { previewed: null, nameTouched: false, sending: false },
  };
}

/** The pane's elements in order. @param {CampaignView} view */
function layout(view) {
  const { t, form, buttons } = view;
  const syntax = h(
    "a",
    { href: "filters.html", target: "_blank", rel: "noopener", class: "help-link" },
    t("campaign.segment.syntax"),
  );
  return [
    ...intro(t("view.campaign"), t("campaign.intro")),
    view.resume,
    field(t("campaign.template"), form.template),
    field(t("campaign.name"), form.name, t("campaign.name.help")),
    field(
      t("campaign.segment"),
      form.where,
      h("p", { class: "help" }, t("campaign.segment.help"), " ", syntax),
    ),
    view.segments,
    h("div", { class: "actions" }, buttons.preview),
    view.progress.element,
    view.messages.element,
    view.output,
    view.previewBox,
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, t("campaign.test")),
      field(t("campaign.test.to"), form.testTo),
      h("div", { class: "actions" }, buttons.test),
    ),
    h("div", { class: "actions send-row" }, buttons.send),
    view.confirmBox,
  ];
}

/** Buttons and spinners a running command disables. @param {CampaignView} view */
const busy = (view) => [...Object.values(view.buttons), view.form.template];

/** What the form asks for now. @param {CampaignView} view @returns {CampaignOptions} */
function current(view) {
  return {
    template: view.form.template.value,
    name: view.form.name.value.trim(),
    where: view.form.where.value.trim(),
  };
}

/** @param {CampaignView} view */
function sameAsPreview(view) {
  const { previewed } = view.state;
  return previewed !== null && JSON.stringify(current(view)) === JSON.stringify(previewed.options);
}

/** The preview the Send button refers to; any change of template, name or customers makes it
 * stale, so nobody sends what they did not look at. @param {CampaignView} view */
function refreshSend(view) {
  const { previewed } = view.state;
  view.buttons.send.disabled = !(sameAsPreview(view) && previewed && previewed.counts.send > 0);
  if (previewed && !sameAsPreview(view)) {
    view.previewBox.classList.add("stale");
    view.previewBox.setAttribute("data-stale", view.t("campaign.stale"));
  } else {
    view.previewBox.classList.remove("stale");
  }
}

/** @param {CampaignView} view */
function watchChanges(view) {
  const { form } = view;
  for (const input of [form.template, form.name, form.where]) {
    input.addEventListener("input", () => {
      view.confirmBox.replaceChildren();
      refreshSend(view);
    });
  }
  form.name.addEventListener("input", () => {
    view.state.nameTouched = form.name.value.trim() !== "";
  });
  form.template.addEventListener("change", () => suggestName(view));
}

/** A name nobody has to think up: the template and the month (welcome-2026-03).
 * @param {CampaignView} view */
function suggestName(view) {
  const { form } = view;
  if (view.state.nameTouched || !form.template.value) return;
  const base = form.template.value.split("/").pop();
  const now = new Date();
  form.name.value = `${base}-${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
}

/** @param {CampaignView} view */
async function loadTemplates(view) {
  const { t, form } = view;
  fill(form.template, h("option", { value: "" }, t("campaign.template.loading")));
  const answer = await runCommand(
    view.ctx,
    "campaign",
    { step: "templates" },
    { output: view.output, messages: view.messages, busy: [], retry: () => loadTemplates(view) },
  );
  if (!answer) return;
  fill(form.template, templateOptions(t, answer.result.templates || []));
  form.template.disabled = false;
  fill(view.segments, (answer.result.segments || []).map((s) => segmentChip(view, s)));
  suggestName(view);
  refreshSend(view);
}

/** The templates grouped: the workbook's own first, then the shipped ones.
 * @param {(key: string) => string} t @param {{name: string, kind: string}[]} templates */
function templateOptions(t, templates) {
  const groups = new Map();
  for (const template of templates) {
    const kind = template.kind === "shipped" ? "shipped" : "workbook";
    if (!groups.has(kind)) groups.set(kind, []);
    groups.get(kind).push(h("option", { value: template.name }, template.name));
  }
  return ["workbook", "shipped"]
    .filter((kind) => groups.has(kind))
    .map((kind) => h("optgroup", { label: t(`campaign.template.${kind}`) }, groups.get(kind)));
}

/** A suggested segment: a click puts its filter into the Customers box.
 * @param {CampaignView} view @param {{where: string, label: any}} segment */
function segmentChip(view, segment) {
  const { where } = view.form;
  return h(
    "button",
    {
      type: "button",
      class: "chip",
      title: segment.where,
      onclick: () => {
        where.value = segment.where;
        where.dispatchEvent(new Event("input"));
      },
    },
    segmentLabel(segment.label, view.ctx.lang),
  );
}

/** @param {CampaignView} view */
async function preview(view) {
  const { t } = view;
  if (!view.form.name.reportValidity()) return;
  const options = current(view);
  view.confirmBox.replaceChildren();
  const answer = await runCommand(
    view.ctx,
    "campaign",
    { step: "preview", ...options },
    {
      output: view.output,
      progress: view.progress,
      messages: view.messages,
      busy: busy(view),
      caption: t("campaign.previewing"),
      retry: () => preview(view),
    },
  );
  if (!answer) {
    view.state.previewed = null;
    view.previewBox.replaceChildren();
    refreshSend(view);
    return;
  }
  view.state.previewed = { options, counts: previewCounts(answer.result) };
  fill(view.previewBox, showPreview(t, answer.result));
  refreshSend(view);
}

/** @param {CampaignView} view */
async function testSend(view) {
  const { t, form } = view;
  if (!form.name.reportValidity() || !form.testTo.reportValidity()) return;
  if (!form.testTo.value.trim()) {
    form.testTo.focus();
    return;
  }
  const answer = await runCommand(
    view.ctx,
    "campaign",
    { step: "test", ...current(view), test_to: form.testTo.value.trim() },
    {
      output: view.output,
      progress: view.progress,
      messages: view.messages,
      busy: busy(view),
      caption: t("common.working"),
      retry: () => testSend(view),
    },
  );
  if (answer) {
    const to = answer.result.sent_to ?? form.testTo.value.trim();
    view.output.append(summaryBox(t, answer.result.summary || t("campaign.test.sent", { to })));
  }
}

/** Office add-ins cannot use window.confirm, so the question is part of the pane.
 * @param {CampaignView} view */
function confirmSend(view) {
  const { t, state } = view;
  if (!sameAsPreview(view) || !state.previewed) return;
  const n = state.previewed.counts.send;
  const { options } = state.previewed;
  const yes = h("button", { type: "button", class: "danger" }, t("campaign.send.yes", { n }));
  const no = h("button", { type: "button", class: "secondary" }, t("common.cancel"));
  yes.addEventListener("click", () => {
    view.confirmBox.replaceChildren();
    send(view, { ...options, total: n });
  });
  no.addEventListener("click", () => {
    view.confirmBox.replaceChildren();
    view.buttons.send.focus();
  });
  fill(view.confirmBox, confirmation(t, options.name, n, yes, no));
  yes.focus();
}

/** The question before sending, naming the campaign and the number of recipients.
 * @param {(key: string, vars?: object) => string} t @param {string} name @param {number} n
 * @param {HTMLElement} yes @param {HTMLElement} no */
function confirmation(t, name, n, yes, no) {
  const title = h(
    "p",
    { class: "notice-title", id: "campaign-confirm-title" },
    n === 1 ? t("campaign.send.confirmOne", { name }) : t("campaign.send.confirm", { name, n }),
  );
  return h(
    "div",
    { class: "notice confirm", role: "alertdialog", "aria-labelledby": title.id },
    title,
    h("p", {}, t("campaign.send.confirmHelp")),
    h("div", { class: "actions" }, yes, no),
  );
}

/** Send in batches until the service says done; remembered in the browser meanwhile, so a
 * closed pane offers to continue. @param {CampaignView} view
 * @param {CampaignOptions & {total?: number}} campaign */
async function send(view, campaign) {
  const { t, ctx, state } = view;
  if (state.sending) return; // one loop per pane: a second would only wait for the first's claim
  state.sending = true;
  view.resume.replaceChildren();
  saveRunningCampaign(ctx.documentUrl, campaign);
  const { total, ...options } = campaign;
  try {
    const answer = await runCommand(
      ctx,
      "campaign",
      { step: "send", ...options },
      {
        output: view.output,
        progress: view.progress,
        messages: view.messages,
        busy: busy(view),
        caption: t("campaign.sending"),
        retry: () => send(view, campaign),
      },
    );
    if (answer) {
      forgetRunningCampaign(ctx.documentUrl);
      view.output.append(summaryBox(t, answer.result.summary || t("campaign.sent")));
      state.previewed = null;
      refreshSend(view);
    }
  } finally {
    state.sending = false;
  }
}

/** A campaign this browser was sending when the pane closed: continue or forget it.
 * @param {CampaignView} view */
function offerResume(view) {
  const { t, ctx, form } = view;
  const running = loadRunningCampaign(ctx.documentUrl);
  if (!running?.name || !running?.template) return;
  const go = h("button", { type: "button", class: "primary" }, t("campaign.resume.run"));
  const forget = h("button", { type: "button", class: "secondary" }, t("campaign.resume.forget"));
  go.addEventListener("click", () => {
    form.name.value = running.name;
    form.where.value = running.where || "";
    view.state.nameTouched = true;
    send(view, running);
  });
  forget.addEventListener("click", () => {
    forgetRunningCampaign(ctx.documentUrl);
    view.resume.replaceChildren();
  });
  fill(
    view.resume,
    h(
      "div",
      { class: "notice warning", role: "status" },
      h("p", { class: "notice-title" }, t("campaign.resume", { name: running.name })),
      h("div", { class: "actions" }, go, forget),
    ),
  );
}

/** A segment's label: text, or one text per language ({en, zh}). */
function segmentLabel(label, lang) {
  if (label && typeof label === "object") return label[lang] ?? label.en ?? "";
  return String(label ?? "");
}

const total = (byKey) => Object.values(byKey || {}).reduce((sum, n) => sum + n, 0);

/** A preview's numbers: `would_send`, `skipped` (by reason) and `already` (sent by an earlier
 * run, by status) as the service's CampaignPreview gives them; `counts` {send, skip, done} is
 * the same in the shape the protocol notes first described. */
function previewCounts(result) {
  if (result.counts) {
    const { send = 0, skip = {}, done = 0 } = result.counts;
    return { send, skip, done };
  }
  return { send: result.would_send ?? 0, skip: result.skipped || {}, done: total(result.already) };
}

/** Counts, problems and samples of a preview (nothing was written or sent). */
function showPreview(t, result) {
  const counts = previewCounts(result);
  const stats = h(
    "div",
    { class: "stats" },
    stat("send", counts.send, t("campaign.count.send")),
    stat("skip", total(counts.skip), t("campaign.count.skip")),
    stat("done", counts.done, t("campaign.count.done")),
  );
  const reasons = Object.entries(counts.skip).filter(([, n]) => n > 0);
  const parts = [h("h3", {}, t("campaign.counts")), stats];
  if (reasons.length) {
    parts.push(
      h(
        "ul",
        { class: "reasons" },
        reasons.map(([reason, n]) => h("li", {}, h("span", { class: "count" }, String(n)), " ", reason)),
      ),
    );
  }
  const problems = result.problems || [];
  if (problems.length) {
    parts.push(
      h("h3", {}, `${t("campaign.problems")} (${problems.length})`),
      h(
        "ul",
        { class: "problems" },
        problems.map((p) =>
          h(
            "li",
            {},
            h("span", { class: "where" }, p.where || p.customer_id || p.customer || ""),
            " ",
            h("span", { class: "what" }, p.what || ""),
          ),
        ),
      ),
    );
  }
  const samples = result.samples || [];
  if (samples.length) parts.push(h("h3", {}, t("campaign.samples")), sampleViewer(t, samples));
  return parts;
}

function stat(kind, n, label) {
  return h("div", { class: `stat stat-${kind}` }, h("span", { class: "stat-n" }, String(n)), h("span", { class: "stat-label" }, label));
}

/** One sample at a time, with previous/next. The e-mail's HTML goes into a sandboxed iframe
 * (no scripts, no same-origin access, no navigation of the pane): it is the customer-facing
 * document, and must never become part of the pane's own DOM. */
/* A plain-text template's sample (no HTML part): its text as a mail program shows it, in the
 * same sandboxed frame, escaped so the text is never read as markup. */
function plainDocument(text) {
  const escaped = text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  return `<!doctype html><meta charset="utf-8"><pre style="white-space:pre-wrap;font:14px/1.5 system-ui,sans-serif;margin:12px">${escaped}</pre>`;
}

function sampleViewer(t, samples) {
  let index = 0;
  const position = h("span", { class: "sample-position", "aria-live": "polite" });
  const previous = h("button", { type: "button", class: "icon", "aria-label": t("campaign.sample.previous") }, "‹");
  const next = h("button", { type: "button", class: "icon", "aria-label": t("campaign.sample.next") }, "›");
  const card = h("div", { class: "sample-card" });
  function show() {
    const sample = samples[index];
    position.textContent = t("campaign.sample.of", { n: index + 1, total: samples.length });
    previous.disabled = index === 0;
    next.disabled = index === samples.length - 1;
    const who = sample.name || sample.customer_id || sample.to;
    fill(
      card,
      h(
        "dl",
        { class: "headers" },
        h("dt", {}, t("campaign.sample.to")),
        h("dd", { class: "sample-to" }, sample.to || ""),
        h("dt", {}, t("campaign.sample.subject")),
        h("dd", { class: "sample-subject" }, sample.subject || ""),
      ),
      h("iframe", {
        class: "sample-frame",
        sandbox: "",
        referrerpolicy: "no-referrer",
        title: t("campaign.sample.frame", { name: who }),
        srcdoc: sample.html ?? plainDocument(sample.text ?? ""),
      }),
    );
  }
  previous.addEventListener("click", () => {
    index = Math.max(0, index - 1);
    show();
  });
  next.addEventListener("click", () => {
    index = Math.min(samples.length - 1, index + 1);
    show();
  });
  show();
  return h(
    "div",
    { class: "samples" },
    samples.length > 1 ? h("div", { class: "sample-nav" }, previous, position, next) : null,
    card,
  );
}
