// Runs: every run and tune folder under the server's runs folder, and one run's details.
import { call } from "./api.js";
import { $, el, errorLine, fill, num, scrollBox } from "./dom.js";
import { historySeries, lineChart } from "./chart.js";
import { py, sh, showHint } from "./hints.js";

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

export async function detail(name) {
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
      run.hpo ? el("div", {}, el("h3", { text: "Trials" }), scrollBox("Trials", el("table", { class: "table" },
        el("thead", {}, el("tr", {}, ["trial", "strategy", "value", "state"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, run.hpo.map((t) => el("tr", {}, el("td", { text: t.number ?? t.trial ?? "" }),
          el("td", { text: (t.params || {}).strategy || "" }), el("td", { class: "num", text: num(t.value, 4) }),
          el("td", { text: t.state || "" }))))))) : null,
      params.length ? el("details", {}, el("summary", { text: "Parameters" }),
        el("dl", {}, params.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })]))) : null,
      s.model ? tryModel(s.name) : null,
      hint));
    if (s.model) {
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
