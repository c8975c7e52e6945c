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

export function render(ctx, root) {
  const { t } = ctx;
  const form = {
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
  };
  const buttons = {
    preview: h("button", { type: "button", class: "primary" }, t("campaign.preview")),
    test: h("button", { type: "button", class: "secondary" }, t("campaign.test")),
    send: h("button", { type: "button", class: "primary", disabled: true }, t("campaign.send")),
  };
  const segments = h("div", { class: "chips", role: "group", "aria-label": t("campaign.segment.choices") });
  const resume = h("div", { class: "resume-slot" });
  const progress = progressBar(t("campaign.sending"));
  const messages = messageList(t);
  const output = h("div", { class: "output", "aria-live": "polite" });
  const previewBox = h("div", { class: "preview" });
  const confirmBox = h("div", { class: "confirm-slot" });
  const all = () => [...Object.values(buttons), form.template];

  // The preview the Send button refers to; any change of template, name or customers makes it
  // stale, so nobody sends what they did not look at.
  let previewed = null;
  const current = () => ({
    template: form.template.value,
    name: form.name.value.trim(),
    where: form.where.value.trim(),
  });
  const sameAsPreview = () =>
    previewed !== null && JSON.stringify(current()) === JSON.stringify(previewed.options);
  function refreshSend() {
    buttons.send.disabled = !(sameAsPreview() && previewed.counts.send > 0);
    if (previewed && !sameAsPreview()) {
      previewBox.classList.add("stale");
      previewBox.setAttribute("data-stale", t("campaign.stale"));
    } else {
      previewBox.classList.remove("stale");
    }
  }
  for (const input of [form.template, form.name, form.where]) {
    input.addEventListener("input", () => {
      confirmBox.replaceChildren();
      refreshSend();
    });
  }

  // A name nobody has to think up: the template and the month (welcome-2026-03).
  let nameTouched = false;
  form.name.addEventListener("input", () => {
    nameTouched = form.name.value.trim() !== "";
  });
  form.template.addEventListener("change", suggestName);
  function suggestName() {
    if (nameTouched || !form.template.value) return;
    const base = form.template.value.split("/").pop();
    const now = new Date();
    form.name.value = `${base}-${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
  }

  async function loadTemplates() {
    const loading = h("option", { value: "" }, t("campaign.template.loading"));
    fill(form.template, loading);
    const answer = await runCommand(
      ctx,
      "campaign",
      { step: "templates" },
      { output, messages, busy: [], retry: loadTemplates },
    );
    if (!answer) return;
    const groups = new Map();
    for (const template of answer.result.templates || []) {
      const kind = template.kind === "shipped" ? "shipped" : "workbook";
      if (!groups.has(kind)) groups.set(kind, []);
      groups.get(kind).push(h("option", { value: template.name }, template.name));
    }
    const order = ["workbook", "shipped"].filter((kind) => groups.has(kind));
    fill(
      form.template,
      order.map((kind) =>
        h("optgroup", { label: t(`campaign.template.${kind}`) }, groups.get(kind)),
      ),
    );
    form.template.disabled = false;
    fill(
      segments,
      (answer.result.segments || []).map((segment) =>
        h(
          "button",
          {
            type: "button",
            class: "chip",
            title: segment.where,
            onclick: () => {
              form.where.value = segment.where;
              form.where.dispatchEvent(new Event("input"));
            },
          },
          segmentLabel(segment.label, ctx.lang),
        ),
      ),
    );
    suggestName();
    refreshSend();
  }

  async function preview() {
    if (!form.name.reportValidity()) return;
    const options = current();
    confirmBox.replaceChildren();
    const answer = await runCommand(
      ctx,
      "campaign",
      { step: "preview", ...options },
      {
        output,
        progress,
        messages,
        busy: all(),
        caption: t("campaign.previewing"),
        retry: preview,
      },
    );
    if (!answer) {
      previewed = null;
      previewBox.replaceChildren();
      refreshSend();
      return;
    }
    previewed = { options, counts: previewCounts(answer.result) };
    fill(previewBox, showPreview(t, answer.result));
    refreshSend();
  }

  async function testSend() {
    if (!form.name.reportValidity() || !form.testTo.reportValidity()) return;
    if (!form.testTo.value.trim()) {
      form.testTo.focus();
      return;
    }
    const answer = await runCommand(
      ctx,
      "campaign",
      { step: "test", ...current(), test_to: form.testTo.value.trim() },
      { output, progress, messages, busy: all(), caption: t("common.working"), retry: testSend },
    );
    if (answer) {
      const to = answer.result.sent_to ?? form.testTo.value.trim();
      output.append(summaryBox(t, answer.result.summary || t("campaign.test.sent", { to })));
    }
  }

  function confirmSend() {
    if (!sameAsPreview()) return;
    const n = previewed.counts.send;
    const { name } = previewed.options;
    const yes = h("button", { type: "button", class: "danger" }, t("campaign.send.yes", { n }));
    const no = h("button", { type: "button", class: "secondary" }, t("common.cancel"));
    const title = h(
      "p",
      { class: "notice-title", id: "campaign-confirm-title" },
      n === 1 ? t("campaign.send.confirmOne", { name }) : t("campaign.send.confirm", { name, n }),
    );
    // Office add-ins cannot use window.confirm, so the question is part of the pane.
    const box = h(
      "div",
      { class: "notice confirm", role: "alertdialog", "aria-labelledby": title.id },
      title,
      h("p", {}, t("campaign.send.confirmHelp")),
      h("div", { class: "actions" }, yes, no),
    );
    yes.addEventListener("click", () => {
      confirmBox.replaceChildren();
      send({ ...previewed.options, total: n });
    });
    no.addEventListener("click", () => {
      confirmBox.replaceChildren();
      buttons.send.focus();
    });
    fill(confirmBox, box);
    yes.focus();
  }

  let sending = false;
  async function send(campaign) {
    if (sending) return; // one loop per pane: a second would only wait for the first's claim
    sending = true;
    resume.replaceChildren();
    saveRunningCampaign(ctx.documentUrl, campaign);
    const { total, ...options } = campaign;
    try {
      const answer = await runCommand(
        ctx,
        "campaign",
        { step: "send", ...options },
        {
          output,
          progress,
          messages,
          busy: all(),
          caption: t("campaign.sending"),
          retry: () => send(campaign),
        },
      );
      if (answer) {
        forgetRunningCampaign(ctx.documentUrl);
        output.append(summaryBox(t, answer.result.summary || t("campaign.sent")));
        previewed = null;
        refreshSend();
      }
    } finally {
      sending = false;
    }
  }

  function offerResume() {
    const running = loadRunningCampaign(ctx.documentUrl);
    if (!running?.name || !running?.template) return;
    const go = h("button", { type: "button", class: "primary" }, t("campaign.resume.run"));
    const forget = h("button", { type: "button", class: "secondary" }, t("campaign.resume.forget"));
    go.addEventListener("click", () => {
      form.name.value = running.name;
      form.where.value = running.where || "";
      nameTouched = true;
      send(running);
    });
    forget.addEventListener("click", () => {
      forgetRunningCampaign(ctx.documentUrl);
      resume.replaceChildren();
    });
    fill(
      resume,
      h(
        "div",
        { class: "notice warning", role: "status" },
        h("p", { class: "notice-title" }, t("campaign.resume", { name: running.name })),
        h("div", { class: "actions" }, go, forget),
      ),
    );
  }

  buttons.preview.addEventListener("click", preview);
  buttons.test.addEventListener("click", testSend);
  buttons.send.addEventListener("click", confirmSend);

  const syntax = h(
    "a",
    { href: "filters.html", target: "_blank", rel: "noopener", class: "help-link" },
    t("campaign.segment.syntax"),
  );
  append(root, [
    ...intro(t("view.campaign"), t("campaign.intro")),
    resume,
    field(t("campaign.template"), form.template),
    field(t("campaign.name"), form.name, t("campaign.name.help")),
    field(
      t("campaign.segment"),
      form.where,
      h("p", { class: "help" }, t("campaign.segment.help"), " ", syntax),
    ),
    segments,
    h("div", { class: "actions" }, buttons.preview),
    progress.element,
    messages.element,
    output,
    previewBox,
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, t("campaign.test")),
      field(t("campaign.test.to"), form.testTo),
      h("div", { class: "actions" }, buttons.test),
    ),
    h("div", { class: "actions send-row" }, buttons.send),
    confirmBox,
  ]);
  offerResume();
  loadTemplates();
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
        srcdoc: sample.html || "",
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
