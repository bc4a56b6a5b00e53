// Train from the page: upload -> preview (inferred columns, validation report) -> a server job,
// followed live through server-sent events (learning curves and AutoTune's trial table as they
// are written); cancel; resume a stopped job; the result's model can be tried at once.
import { call, stream } from "./api.js";
import { $, el, errorLine, fill, num, scrollBox } from "./dom.js";
import { historySeries, lineChart } from "./chart.js";
import { sh, showHint } from "./hints.js";
import { detail as runDetail } from "./runs.js";

let upload = null;
let job = null;
let following = null;
let limit = 1048576;

export function init(info) {
  limit = info.max_upload_bytes;
  $("#train-limit").textContent = `Files up to ${(limit / 1048576).toFixed(1)} MB (tamellm serve --max-upload-mb N raises it).`;
  $("#train-file").addEventListener("change", preview);
  $("#train-task").addEventListener("change", preview);
  $("#train-start").addEventListener("click", start);
  $("#train-cancel").addEventListener("click", cancel);
  $("#train-resume").addEventListener("click", resume);
}

/** On showing the page: pick up a job that is still queued or running (it survives a reload). */
export async function show() {
  if (job) return;
  try {
    const answer = await call("/ui/api/jobs");
    const jobs = answer.data.filter((j) => j.kind === "train");
    const active = jobs.find((j) => j.status === "queued" || j.status === "running") || jobs[0];
    if (active) follow(active);
  } catch (_) { /* the banner says why */ }
}

function issueList(validation) {
  if (!validation) return null;
  if (!validation.issues.length) return el("p", { class: "muted", text: "Data report: no problems found." });
  return el("div", {}, el("h3", { text: `Data report: ${validation.ok ? "usable" : "errors to fix first"}` }),
    el("ul", { class: "issues", "data-testid": "train-issues" }, validation.issues.map((i) => el("li", { class: i.level },
      `${i.level}: ${i.message}`, i.rows && i.rows.length ? ` (rows ${i.rows.slice(0, 8).join(", ")}${i.rows.length > 8 ? ", …" : ""})` : "",
      el("br"), el("span", { class: "muted", text: `Fix: ${i.fix}` })))));
}

async function preview() {
  const file = $("#train-file").files[0];
  const out = $("#train-preview");
  upload = null;
  $("#train-start").disabled = true;
  if (!file) { fill(out); return; }
  if (file.size > limit) {
    fill(out, errorLine(new Error(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; this server accepts files up to ${(limit / 1048576).toFixed(1)} MB. Sample the file, or start the server with tamellm serve --max-upload-mb N.`)));
    return;
  }
  fill(out, el("p", { class: "muted", text: `Reading ${file.name}…` }));
  try {
    const task = $("#train-task").value;
    upload = await call(`/ui/api/uploads?task=${encodeURIComponent(task)}`, { method: "POST", body: file, extraHeaders: { "X-Filename": file.name } });
    const p = upload.preview;
    const inferred = p.inferred || {};
    fill(out,
      el("p", { "data-testid": "train-columns" }, `${p.total_rows} rows. Text column: `, el("strong", { text: inferred.text ?? "–" }),
        inferred.reason_text ? ` (${inferred.reason_text})` : "", ". Label column: ", el("strong", { text: inferred.label ?? "–" }),
        inferred.reason_label ? ` (${inferred.reason_label})` : "", "."),
      scrollBox("Data preview", el("table", { class: "table" },
        el("thead", {}, el("tr", {}, p.columns.map((c) => el("th", { scope: "col", text: c })))),
        el("tbody", {}, p.rows.map((row) => el("tr", {}, row.map((v) => el("td", { text: v ?? "" }))))))),
      issueList(p.validation));
    $("#train-start").disabled = Boolean(p.validation && !p.validation.ok);
  } catch (error) {
    fill(out, errorLine(error));
  }
}

function options() {
  const value = (id) => $(id).value.trim() || undefined;
  const epochs = Number($("#train-epochs").value);
  const trials = Math.round(Number($("#train-trials-count").value));
  return { task: $("#train-task").value, model: value("#train-model"), budget: value("#train-budget"),
    strategy: value("#train-strategy"), epochs: epochs > 0 ? epochs : undefined,
    trials: trials > 0 && !value("#train-strategy") ? trials : undefined };
}

function commandLine(o, data) {
  return ["tamellm train --data", sh(data), o.task !== "classify" ? `--task ${o.task}` : "", o.model ? `--model ${sh(o.model)}` : "",
    o.budget ? `--budget ${o.budget}` : "", o.strategy ? `--strategy ${o.strategy}` : "", o.epochs ? `--epochs ${o.epochs}` : "",
    o.trials ? `--trials ${o.trials}` : ""]
    .filter(Boolean).join(" ");
}

async function start() {
  if (!upload) return;
  const o = options();
  $("#train-start").disabled = true;
  try {
    const created = await call("/ui/api/jobs", { method: "POST", body: { upload_id: upload.upload_id, ...o } });
    const args = Object.entries(o).filter(([k, v]) => v !== undefined && k !== "task")
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
    showHint($("#train-hint"),
      // No strategy: `tamellm train` runs AutoTune, which is tamellm.tune in Python.
      `import tamellm\nresult = tamellm.${o.strategy ? "train" : "tune"}(${JSON.stringify(upload.filename)}${o.task !== "classify" ? `, task="${o.task}"` : ""}${args ? `, ${args}` : ""})\nprint(result.model_dir)`,
      commandLine(o, upload.filename));
    follow(created);
  } catch (error) {
    $("#train-status").textContent = `Could not start: ${error.message}`;
    $("#train-start").disabled = false;
  }
}

async function resume() {
  if (!job) return;
  $("#train-resume").disabled = true;
  try {
    const view = await call(`/ui/api/jobs/${job.id}/resume`, { method: "POST" });
    showHint($("#train-hint"), view.options.strategy
      ? `import tamellm\nresult = tamellm.train("DATA", run_dir=${JSON.stringify(view.run_dir)}, resume=True)  # the same data file`
      : `import tamellm\nresult = tamellm.tune("DATA", output=${JSON.stringify(view.run_dir)}, resume=True)  # the same data file`,
      `${commandLine(view.options, "DATA")} --output ${sh(view.run_dir)} --resume`);
    follow(view);
  } catch (error) {
    $("#train-status").textContent = `Could not resume: ${error.message}`;
    $("#train-resume").disabled = false;
  }
}

/** AutoTune's trials as they run: params, the validation metric so far, state. */
function trialTable(trials) {
  if (!trials || !trials.length) return null;
  const metric = trials.find((t) => t.metric)?.metric || "metric";
  const best = Math.max(...trials.map((t) => (typeof t.best === "number" ? t.best : -Infinity)));
  return el("div", {}, el("h3", { text: `Trials (${trials.length})` }),
    scrollBox("AutoTune trials", el("table", { class: "table", "data-testid": "trial-table" },
      el("thead", {}, el("tr", {}, ["trial", "strategy", "learning rate", "epochs", `best ${metric}`, `last ${metric}`, "evaluations", "state"]
        .map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, trials.map((t) => el("tr", { "data-testid": "trial-row", "data-state": t.state, class: t.best === best ? "best" : null },
        el("td", { text: t.number }), el("td", { text: t.params.strategy ?? "–" }),
        el("td", { class: "num", text: typeof t.params.learning_rate === "number" ? t.params.learning_rate.toExponential(1) : "–" }),
        el("td", { class: "num", text: t.params.epochs ?? "–" }),
        el("td", { class: "num", text: `${num(t.best, 4)}${t.best === best ? " ★" : ""}` }), el("td", { class: "num", text: num(t.last, 4) }),
        el("td", { class: "num", text: t.evaluations }), el("td", { text: t.state })))))));
}

async function cancel() {
  if (!job) return;
  try { render(await call(`/ui/api/jobs/${job.id}`, { method: "DELETE" })); }
  catch (error) { $("#train-status").textContent = `Could not cancel: ${error.message}`; }
}

function render(view) {
  job = view;
  const active = view.status === "queued" || view.status === "running";
  const where = view.status === "queued" && view.queue_position ? ` (${view.queue_position} job(s) before it)` : "";
  $("#train-status").textContent = `Job ${view.id}: ${view.status}${where} · ${num(view.elapsed_s, 0)} s · run ${view.run_name}`;
  $("#train-status").dataset.status = view.status;
  $("#train-cancel").disabled = !active;
  $("#train-start").disabled = active || !upload;
  $("#train-resume").hidden = !view.resumable;
  $("#train-resume").disabled = !view.resumable;
  const curve = $("#train-curve");
  const key = view.history.some((r) => typeof r.accuracy === "number") ? "accuracy" : "loss";
  fill(curve, view.history.length ? lineChart(historySeries(view.history, key), { title: `Validation ${key} (live)`, yLabel: key }) : null);
  fill($("#train-trials"), trialTable(view.trials));
  const out = $("#train-result");
  if (view.status === "done") {
    const r = view.result || {};
    const metrics = r.metrics || r.best_metrics || {};
    const validation = metrics.validation || r.validation || {};
    fill(out, el("div", { class: "card" }, el("h3", { text: "Finished" }),
      el("p", {}, "Model folder: ", el("code", { "data-testid": "train-model-dir", text: r.model || r.model_dir || `${view.run_dir}/model` })),
      typeof validation === "object" ? el("p", { text: Object.entries(validation).filter(([, v]) => typeof v === "number")
        .map(([k, v]) => `${k} ${num(v, 3)}`).join(" · ") }) : null,
      el("button", { type: "button", text: "Open the run", "data-testid": "train-open-run",
        onclick: () => { location.hash = "#runs"; runDetail(view.run_name); } })));
  } else if (view.status === "failed") {
    fill(out, el("pre", { class: "error", role: "alert", text: view.error || "The job failed." }));
  } else if (view.status === "cancelled" || view.status === "interrupted") {
    fill(out, el("p", { class: "muted", text: view.status === "cancelled" ? "Cancelled. Resume continues from the last checkpoint."
      : "Interrupted: the server stopped while this job ran. Resume continues from the last checkpoint." }));
  } else {
    fill(out);
  }
}

async function follow(view) {
  render(view);
  if (following) following.abort();
  if (!["queued", "running"].includes(view.status)) return;
  following = new AbortController();
  try {
    await stream(`/ui/api/jobs/${view.id}/events`, { signal: following.signal, onEvent: (data) => render(JSON.parse(data)) });
  } catch (error) {
    if (error.name !== "AbortError") $("#train-status").textContent = `Lost the job's events: ${error.message}`;
  }
}
