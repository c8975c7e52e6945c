// @ts-check
// Settings: the workbook's shared settings (get/put through the service, written to its Settings
// sheet), a password per mailbox or transport URL (sent once to the service, which keeps it in
// the computer's keyring — the field is cleared and the password never shown again), and the
// address and token of a shared service (kept in this browser, never in the workbook).

import { loadConnection, saveConnection } from "../storage.js";
import { append, field, fill, h, intro, messageList, progressBar, runCommand, summaryBox, uid } from "../ui.js";

export function render(ctx, root) {
  const { t } = ctx;
  const progress = progressBar(t("settings.load"));
  const messages = messageList(t);
  const output = h("div", { class: "output", "aria-live": "polite" });
  const form = h("form", { class: "settings-form", novalidate: true });
  const secrets = h("div", { class: "secrets" });
  const save = h("button", { type: "submit", class: "primary", disabled: true }, t("settings.save"));
  // The values as loaded, so that saving writes only what the user changed.
  let loaded = new Map();
  let inputs = new Map();

  async function load() {
    const answer = await runCommand(
      ctx,
      "settings",
      { step: "get" },
      { output, progress, messages, busy: [save], caption: t("settings.load"), retry: load },
    );
    if (!answer) return;
    showSettings(answer.result.settings || []);
    showSecrets(answer.result.secrets || {});
    save.disabled = false;
  }

  function showSettings(settings) {
    loaded = new Map(settings.map((s) => [s.key, s.value ?? ""]));
    inputs = new Map();
    const fields = settings.map((setting) => {
      const control = controlFor(setting);
      inputs.set(setting.key, control);
      return field(setting.label || setting.key, control, setting.help || null);
    });
    fill(form, fields, h("div", { class: "actions" }, save));
  }

  function showSecrets(known) {
    const urls = Object.keys(known);
    if (!urls.length) {
      fill(secrets, h("p", { class: "help" }, t("settings.passwords.none")));
      return;
    }
    fill(secrets, urls.map((url) => secretRow(url, known[url])));
  }

  function secretRow(url, stored) {
    const badge = h("span", { class: `badge ${stored ? "ok" : "missing"}` });
    const setBadge = (isStored) => {
      badge.className = `badge ${isStored ? "ok" : "missing"}`;
      badge.textContent = isStored ? t("settings.password.stored") : t("settings.password.missing");
    };
    setBadge(stored);
    const input = h("input", {
      type: "password",
      id: uid("secret"),
      autocomplete: "new-password",
      spellcheck: "false",
    });
    const button = h("button", { type: "button", class: "secondary" }, t("settings.password.save"));
    const result = h("div", { class: "output", "aria-live": "polite" });
    async function store() {
      if (!input.value) {
        input.focus();
        return;
      }
      const secret = input.value;
      // Cleared before the request: the password is not kept in the pane a moment longer.
      input.value = "";
      const answer = await runCommand(
        ctx,
        "secret",
        { url, secret },
        { output: result, busy: [button], retry: null },
      );
      if (answer?.result?.stored) {
        setBadge(true);
        result.append(summaryBox(t, answer.result.summary || t("settings.password.saved")));
      }
    }
    button.addEventListener("click", store);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        store();
      }
    });
    return h(
      "div",
      { class: "secret" },
      h("div", { class: "secret-head" }, h("code", { class: "url" }, url), badge),
      h("label", { for: input.id, class: "visually-hidden" }, t("settings.password.label", { url })),
      h("div", { class: "inline" }, input, button),
      result,
    );
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    for (const [key, control] of inputs) {
      if (control.value !== String(loaded.get(key) ?? "")) values[key] = control.value;
    }
    const answer = await runCommand(
      ctx,
      "settings",
      { step: "put", values },
      { output, progress, messages, busy: [save], caption: t("common.working"), retry: null },
    );
    if (!answer) return;
    output.append(summaryBox(t, answer.result.summary || t("settings.saved")));
    // A new mailbox URL needs its password row: read the settings and secrets back.
    if (answer.result.settings) showSettings(answer.result.settings);
    else for (const [key, value] of Object.entries(values)) loaded.set(key, value);
    if (answer.result.secrets) showSecrets(answer.result.secrets);
  });

  append(root, [
    ...intro(t("view.settings"), t("settings.intro")),
    progress.element,
    messages.element,
    output,
    form,
    h(
      "section",
      { class: "group", "aria-labelledby": "settings-passwords" },
      h("h3", { id: "settings-passwords" }, t("settings.passwords")),
      h("p", { class: "help" }, t("settings.passwords.help")),
      secrets,
    ),
    connectionSection(ctx),
  ]);
  load();
}

function controlFor(setting) {
  const value = setting.value ?? "";
  const id = uid(`setting-${setting.key}`);
  if (setting.kind === "int") {
    return h("input", { id, type: "number", min: "0", step: "1", inputmode: "numeric", value: String(value) });
  }
  if (setting.kind === "list") {
    return h("textarea", { id, rows: "2", spellcheck: "false", value: String(value) });
  }
  return h("input", { id, type: "text", spellcheck: "false", value: String(value) });
}

/** The shared service's address and token. Always shown, even when the service cannot be
 * reached: this is where a wrong address gets fixed. */
function connectionSection(ctx) {
  const { t } = ctx;
  const saved = loadConnection();
  const url = h("input", {
    id: "service-url",
    type: "url",
    spellcheck: "false",
    placeholder: t("settings.service.urlPlaceholder"),
    value: saved.baseUrl,
  });
  const token = h("input", {
    id: "service-token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    value: saved.token,
  });
  const button = h("button", { type: "button", class: "secondary" }, t("settings.service.save"));
  const result = h("div", { class: "output", "aria-live": "polite" });
  button.addEventListener("click", () => {
    if (!url.reportValidity()) return;
    saveConnection({ baseUrl: url.value, token: token.value });
    ctx.reconnect();
    fill(result, summaryBox(t, t("settings.service.saved")));
  });
  return h(
    "section",
    { class: "group", "aria-labelledby": "settings-service" },
    h("h3", { id: "settings-service" }, t("settings.service")),
    h("p", { class: "help" }, t("settings.service.help")),
    field(t("settings.service.url"), url),
    field(t("settings.service.token"), token),
    h("div", { class: "actions" }, button),
    result,
  );
}
