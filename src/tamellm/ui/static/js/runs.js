// Runs: every run and tune folder under the server's runs folder, and one run's details: metrics,
// curves, confusion matrix, HPO history, data summary; load its model into the playground;
// compress it as a server job; compare two runs.
import { call, stream } from "./api.js";
import { $, el, errorLine, fill, num, scrollBox } from "./dom.js";
import { historySeries, lineChart } from "./chart.js";
import { py, sh, showHint } from "./hints.js";
import { compression } from "./models.js";

let wired = false;
const ticked = new Set();
const runPath = (name) => `/ui/api/runs/${encodeURIComponent(name).replace(/%2F/g, "/")}`;

function tick(name, box) {
  if (box.checked) ticked.add(name); else ticked.delete(name);
  $("#runs-compare").disabled = ticked.size !== 2;
}

export async function show() {
  if (!wired) {
    $("#runs-refresh").addEventListener("click", show);
    $("#runs-compare").addEventListener("click", () => compare([...ticked]));
    wired = true;
  }
  const body = $("#runs-table tbody");
  try {
    const answer = await call("/ui/api/runs");
    $("#runs-dir").textContent = answer.runs_dir;
    $("#runs-empty").hidden = answer.data.length > 0;
    ticked.clear();
    $("#runs-compare").disabled = true;
    fill(body, answer.data.map((run, i) => el("tr", { "data-testid": "runs-row", "data-run": run.name },
      el("td", {}, el("input", { type: "checkbox", id: `run-tick-${i}`, "aria-label": `Compare ${run.name}`,
        "data-testid": "runs-tick", onchange: (event) => tick(run.name, event.target) })),
      el("td", {}, el("button", { type: "button", class: "link", text: run.name, onclick: () => detail(run.name) })),
      el("td", { text: run.kind }), el("td", { text: run.task || "–" }), el("td", { text: run.strategy || "–" }),
      el("td", { text: run.primary_metric || "–" }), el("td", { class: "num", text: num(run.validation) }),
      el("td", { class: "num", text: num(run.test) }), el("td", { text: (run.finished || "").replace("T", " ") }))));
  } catch (error) {
    fill(body, el("tr", {}, el("td", { colspan: 9 }, errorLine(error))));
  }
}

function metricsTable(metrics) {
  const splits = Object.keys(metrics);
  const names = [];
  for (const s of splits) {
    for (const [k, v] of Object.entries(metrics[s] || {})) if (typeof v === "number" && !names.includes(k)) names.push(k);
  }
  if (!names.length) return null;
  return scrollBox("Metrics", el("table", { class: "table", "data-testid": "run-metrics" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "metric" }), splits.map((s) => el("th", { scope: "col", class: "num", text: s })))),
    el("tbody", {}, names.map((n) => el("tr", {}, el("th", { scope: "row", text: n }),
      splits.map((s) => el("td", { class: "num", text: num((metrics[s] || {})[n], 4) })))))));
}

function confusion(metrics) {
  for (const split of ["test", "validation"]) {
    const part = metrics[split] || {};
    if (!part.confusion_matrix || !part.labels) continue;
    const labels = part.labels.map(String);
    const max = Math.max(1, ...part.confusion_matrix.flat());
    return el("div", {}, el("h3", { text: `Confusion matrix (${split}): rows true, columns predicted` }),
      scrollBox("Confusion matrix", el("table", { class: "table confusion", "data-testid": "confusion-matrix" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "true \\ predicted" }), labels.map((l) => el("th", { scope: "col", text: l })))),
        el("tbody", {}, part.confusion_matrix.map((row, i) => el("tr", {}, el("th", { scope: "row", text: labels[i] }),
          row.map((count) => {
            const cell = el("td", { text: count });
            cell.style.backgroundColor = `rgba(43, 89, 195, ${(0.05 + 0.6 * (count / max)).toFixed(3)})`;
            return cell;
          })))))));
  }
  return null;
}

function curves(history, primary) {
  const box = el("div", { class: "charts", "data-testid": "run-curves" });
  const toggle = el("input", { type: "checkbox", id: "curves-log" });
  const draw = () => fill(box, ["loss", primary].filter(Boolean).filter((k, i, a) => a.indexOf(k) === i)
    .map((key) => lineChart(historySeries(history, key), { title: key === "loss" ? "Loss" : primary, yLabel: key, log: toggle.checked })));
  toggle.addEventListener("change", draw);
  draw();
  return el("div", {}, el("h3", { text: "Learning curves" }),
    el("div", { class: "check" }, toggle, el("label", { for: "curves-log", text: "Log scale" })), box);
}

function tryModel(name) {
  const input = el("input", { id: "run-try-text", value: "great phone, I love it", "data-testid": "run-try-text" });
  const out = el("div", { class: "result", "data-testid": "run-try-result", "aria-live": "polite" });
  const button = el("button", { type: "button", text: "Predict", "data-testid": "run-try-submit" });
  button.addEventListener("click", async () => {
    try {
      const answer = await call(`/ui/api/runs/${encodeURIComponent(name).replace(/%2F/g, "/")}/predict`, { method: "POST", body: { input: input.value } });
      const r = answer.result;
      fill(out, el("p", {}, "Prediction: ", el("strong", { text: r.label ?? JSON.stringify(r) }),
        typeof r.score === "number" ? ` (${(r.score * 100).toFixed(1)} %)` : ""));
    } catch (error) { fill(out, errorLine(error)); }
  });
  return el("div", {}, el("h3", { text: "Try this run's model" }), el("label", { for: "run-try-text", text: "Text" }), input,
    el("div", { class: "row" }, button), out);
}

/** The HPO history: each trial's value in order, and the best so far. */
function hpoHistory(trials, metric, direction) {
  const done = trials.filter((t) => typeof t.value === "number" && typeof t.number === "number")
    .sort((a, b) => a.number - b.number);
  if (!done.length) return null;
  const better = direction === "minimize" ? Math.min : Math.max;
  let best = null;
  const bestSoFar = done.map((t) => { best = best === null ? t.value : better(best, t.value); return [t.number, best]; });
  return el("div", { "data-testid": "hpo-chart" }, el("h3", { text: "HPO history" }),
    lineChart([{ name: `trial ${metric || "value"}`, points: done.map((t) => [t.number, t.value]) },
      { name: "best so far", points: bestSoFar }], { title: `${metric || "value"} per trial`, xLabel: "trial", yLabel: metric || "value" }));
}

/** What the run was trained on (data.json): rows per split, the columns chosen and why, the data report. */
function dataSummary(data) {
  if (!data) return null;
  const rows = Object.entries(data.rows || {});
  const columns = data.columns || {};
  const issues = (data.validation_report || {}).issues || [];
  return el("div", { "data-testid": "run-data" }, el("h3", { text: "Data" }),
    rows.length ? el("p", { text: `Rows: ${rows.map(([k, v]) => `${k} ${v}`).join(" · ")}` }) : null,
    columns.text ? el("p", {}, "Text column ", el("strong", { text: columns.text }), columns.reason_text ? ` (${columns.reason_text})` : "",
      columns.label ? [". Label column ", el("strong", { text: columns.label }), columns.reason_label ? ` (${columns.reason_label})` : ""] : "", ".") : null,
    (data.files || []).length ? el("p", { class: "muted", text: `Files: ${data.files.map((f) => f.path).join(", ")}` }) : null,
    issues.length ? el("ul", { class: "issues" }, issues.map((i) => el("li", { class: i.level }, `${i.level}: ${i.message}`,
      i.fix ? el("span", { class: "muted", text: ` Fix: ${i.fix}` }) : null))) : null,
    (data.notes || []).length ? el("details", {}, el("summary", { text: "How the data was read and split" }),
      el("ul", {}, data.notes.map((n) => el("li", { text: n })))) : null);
}

/** Load the run's model into this server: it appears in every playground model list. */
function loadButton(name) {
  const out = el("span", { class: "muted", "data-testid": "run-load-result", "aria-live": "polite" });
  const button = el("button", { type: "button", text: "Load into the playground", "data-testid": "run-load" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    out.textContent = "Loading…";
    try {
      const answer = await call(`${runPath(name)}/load`, { method: "POST" });
      document.dispatchEvent(new CustomEvent("tamellm:models", { detail: answer.models }));
      fill(out, `Loaded as “${answer.loaded}”: pick it in the `, el("a", { href: "#playground", text: "Playground" }), ".");
    } catch (error) {
      fill(out, errorLine(error));
    } finally {
      button.disabled = false;
    }
  });
  return el("div", { class: "row" }, button, out);
}

/** Auto-compress the run's model as a server job; the candidates table shows when it ends. */
function compressForm(name, model, hint) {
  const drop = el("input", { id: "compress-drop", type: "number", min: "0", max: "1", step: "0.005", value: "0.01" });
  const methods = el("input", { id: "compress-methods", value: "dynamic-int8,onnx-int8", "data-testid": "compress-methods" });
  const status = el("p", { class: "status", "data-testid": "compress-status", "aria-live": "polite" });
  const button = el("button", { type: "button", text: "Compress", "data-testid": "run-compress" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    const body = { max_drop: Number(drop.value) || 0.01, methods: methods.value.trim() || null };
    try {
      const job = await call(`${runPath(name)}/compress`, { method: "POST", body });
      const data = job.options.data;
      showHint(hint, `import tamellm\nresult = tamellm.compress(${py(model)}, ${py(data)}, max_drop=${body.max_drop}` +
        `${body.methods ? `, methods=${py(body.methods)}` : ""}, output=${py(`${job.run_dir}/compressed`)})\nprint(result.chosen, result.path)`,
        `tamellm compress ${sh(model)} --data ${sh(data)} --max-drop ${body.max_drop}${body.methods ? ` --methods ${sh(body.methods)}` : ""} --output ${sh(`${job.run_dir}/compressed`)}`);
      const show = (view) => {
        status.textContent = `Compress job ${view.id}: ${view.status} · ${num(view.elapsed_s, 0)} s`;
        status.dataset.status = view.status;
        if (view.status === "failed") status.append(el("pre", { class: "error", text: view.error || "" }));
      };
      show(job);
      let last = job;
      await stream(`/ui/api/jobs/${job.id}/events`, { onEvent: (text) => { last = JSON.parse(text); show(last); } });
      if (last.status === "done") await detail(name, { keepHint: hint });
    } catch (error) {
      status.textContent = `Could not compress: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return el("div", {}, el("h3", { text: "Compress this model" }),
    el("p", { class: "muted", text: "Tries the methods on the run's own data file and keeps the fastest model within the accuracy budget (a server job, queued behind training)." }),
    el("div", { class: "row" },
      el("div", { class: "field" }, el("label", { for: "compress-drop", text: "Accuracy it may lose" }), drop),
      el("div", { class: "field grow" }, el("label", { for: "compress-methods", text: "Methods (comma-separated; empty: all)" }), methods),
      button), status);
}

export async function detail(name, { keepHint = null } = {}) {
  const node = $("#run-detail");
  fill(node, el("p", { class: "muted", text: `Loading ${name}…` }));
  try {
    const run = await call(runPath(name));
    const s = run.summary;
    const params = Object.entries(run.params || {}).filter(([, v]) => v === null || typeof v !== "object");
    const hint = el("div", { class: "hint" });
    fill(node, el("article", { class: "card detail" },
      el("h2", { text: `Run ${s.name}` }),
      el("p", { class: "muted", text: `${s.kind} · ${s.task || "?"} · ${s.strategy || "?"} · ${num(s.seconds, 1)} s${s.stopped_early ? " · stopped early" : ""}` }),
      metricsTable(run.metrics),
      run.history.length ? curves(run.history, s.primary_metric) : el("p", { class: "muted", text: "No metrics.jsonl in this folder." }),
      confusion(run.metrics),
      run.hpo ? hpoHistory(run.hpo, run.hpo_metric, run.hpo_direction) : null,
      run.hpo ? el("div", {}, el("h3", { text: "Trials" }), scrollBox("Trials", el("table", { class: "table" },
        el("thead", {}, el("tr", {}, ["trial", "strategy", "value", "state"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, run.hpo.map((t) => el("tr", {}, el("td", { text: t.number ?? t.trial ?? "" }),
          el("td", { text: (t.params || {}).strategy || "" }), el("td", { class: "num", text: num(t.value, 4) }),
          el("td", { text: t.state || "" }))))))) : null,
      dataSummary(run.data),
      params.length ? el("details", {}, el("summary", { text: "Parameters" }),
        el("dl", {}, params.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })]))) : null,
      s.model ? tryModel(s.name) : null,
      s.model ? loadButton(s.name) : null,
      run.compression ? el("div", { "data-testid": "run-compression" }, compression({ name: s.name, compression: run.compression })) : null,
      s.model ? compressForm(s.name, s.model, hint) : null,
      hint));
    if (keepHint) {
      hint.replaceChildren(...keepHint.childNodes);
    } else if (s.model) {
      showHint(hint, `import tamellm\nmodel = tamellm.load(${py(s.model)})\nprint(model.predict("great phone"))\nprint(tamellm.runs(${py(run.summary.path ? run.summary.path.replace(/\/[^/]+$/, "") : "runs")}))`,
        `tamellm runs ${sh((s.path || "").replace(/\/[^/]+$/, "") || "runs")}\ntamellm serve ${sh(s.model)}`);
    }
  } catch (error) {
    fill(node, errorLine(error));
  }
}

/** Two runs side by side: their metrics in one table, their learning curves on the same axes. */
export async function compare(names) {
  const node = $("#run-detail");
  fill(node, el("p", { class: "muted", text: `Loading ${names.join(" and ")}…` }));
  try {
    const runs = await Promise.all(names.map((n) => call(runPath(n))));
    const rows = [];
    for (const split of ["validation", "test"]) {
      const keys = [...new Set(runs.flatMap((r) => Object.entries(r.metrics[split] || {})
        .filter(([, v]) => typeof v === "number").map(([k]) => k)))];
      for (const k of keys) rows.push(el("tr", {}, el("th", { scope: "row", text: `${split} ${k}` }),
        runs.map((r) => el("td", { class: "num", text: num((r.metrics[split] || {})[k], 4) }))));
    }
    const primary = runs[0].summary.primary_metric;
    const series = (key) => runs.flatMap((r) => historySeries(r.history, key)
      .map((s) => ({ ...s, name: `${r.summary.name} ${s.name}` })));
    fill(node, el("article", { class: "card detail", "data-testid": "runs-comparison" },
      el("h2", { text: `${names[0]} vs ${names[1]}` }),
      scrollBox("Metrics of both runs", el("table", { class: "table" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "metric" }),
          runs.map((r) => el("th", { scope: "col", class: "num", text: r.summary.name })))),
        el("tbody", {}, rows))),
      el("div", { class: "charts" }, ["loss", primary].filter(Boolean).filter((k, i, a) => a.indexOf(k) === i)
        .map((key) => lineChart(series(key), { title: key, yLabel: key })))));
  } catch (error) {
    fill(node, errorLine(error));
  }
}
