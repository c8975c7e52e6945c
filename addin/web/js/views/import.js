// @ts-check
// Import: customers (or deals, products) from a file the user picks. The file travels to the
// service base64-encoded inside the command's options; a preview (dry run) comes first and shows
// what would change and every problem, then the same file is imported for real.

import { append, field, fill, h, intro, messageList, progressBar, runCommand, summaryBox } from "../ui.js";

// The service takes files up to 20 MB (sent base64-encoded, a third larger, in the options).
const MAX_BYTES = 20 * 1024 * 1024;
const TABLES = ["customers", "deals", "products"];

export function render(ctx, root) {
  const { t } = ctx;
  const file = h("input", {
    id: "import-file",
    type: "file",
    accept: ".csv,.txt,.tsv,.xlsx,.vcf,.vcard,.json,text/csv,application/json,text/vcard",
  });
  const table = h(
    "select",
    { id: "import-table" },
    TABLES.map((name) => h("option", { value: name }, t(`import.table.${name}`))),
  );
  const previewButton = h("button", { type: "button", class: "secondary" }, t("import.preview"));
  const importButton = h("button", { type: "button", class: "primary", disabled: true }, t("import.run"));
  const progress = progressBar(t("import.running"));
  const messages = messageList(t);
  const output = h("div", { class: "output", "aria-live": "polite" });
  const report = h("div", { class: "import-report" });
  // What the last preview was made of: importing needs a preview of the same file and table.
  let previewed = null;

  function reset() {
    previewed = null;
    importButton.disabled = true;
    report.replaceChildren();
    output.replaceChildren();
  }
  file.addEventListener("change", reset);
  table.addEventListener("change", reset);

  async function options(dryRun) {
    const chosen = file.files?.[0];
    if (!chosen) return null;
    if (chosen.size > MAX_BYTES) {
      fill(output, h("div", { class: "notice error", role: "alert" }, h("p", {}, t("import.tooLarge"))));
      return null;
    }
    return {
      file_name: chosen.name,
      data: await base64(chosen),
      table: table.value,
      dry_run: dryRun,
    };
  }

  async function run(dryRun) {
    const opts = await options(dryRun);
    if (!opts) {
      if (!file.files?.[0]) file.focus();
      return;
    }
    const again = () => run(dryRun);
    const answer = await runCommand(ctx, "import", opts, {
      output,
      progress,
      messages,
      busy: [previewButton, importButton],
      caption: t("import.running"),
      retry: again,
    });
    if (!answer) {
      importButton.disabled = true;
      return;
    }
    fill(report, counts(t, answer.result), problems(answer.result.problems || []));
    output.append(summaryBox(t, answer.result.summary));
    if (dryRun) {
      previewed = file.files[0];
      output.append(h("p", { class: "help" }, t("import.dryRun")));
      importButton.disabled = false;
    } else {
      previewed = null;
      importButton.disabled = true;
    }
  }

  previewButton.addEventListener("click", () => run(true));
  importButton.addEventListener("click", () => {
    if (previewed && previewed === file.files?.[0]) run(false);
  });

  append(root, [
    ...intro(t("view.import"), t("import.intro")),
    field(t("import.file"), file, t("import.file.help")),
    field(t("import.table"), table),
    h("div", { class: "actions" }, previewButton, importButton),
    progress.element,
    messages.element,
    output,
    report,
  ]);
}

function counts(t, result) {
  const keys = ["inserted", "updated", "unchanged"];
  return h(
    "div",
    { class: "stats" },
    keys.map((key) =>
      h(
        "div",
        { class: `stat stat-${key}` },
        h("span", { class: "stat-n" }, String(result[key] ?? 0)),
        h("span", { class: "stat-label" }, t(`import.count.${key}`)),
      ),
    ),
    h(
      "div",
      { class: "stat stat-problems" },
      h("span", { class: "stat-n" }, String((result.problems || []).length)),
      h("span", { class: "stat-label" }, t("import.count.problems")),
    ),
  );
}

// A problem is a string ("contacts.csv:14: …") or an object with where/what; both are shown.
function problems(list) {
  if (!list.length) return null;
  return h(
    "ul",
    { class: "problems" },
    list.map((p) =>
      typeof p === "string"
        ? h("li", {}, p)
        : h("li", {}, h("span", { class: "where" }, p.where || ""), " ", h("span", { class: "what" }, p.what || "")),
    ),
  );
}

/** The file's bytes as base64, in chunks: one String.fromCharCode call over megabytes would
 * overflow the call stack. */
async function base64(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
