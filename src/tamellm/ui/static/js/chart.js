// A small SVG line chart (learning curves): no library, nothing inline for the CSP to refuse.
import { el } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const COLOURS = ["#2b59c3", "#d9480f", "#1a7f37", "#8250df", "#bf8700", "#0a7ea4"];
const W = 640, H = 300, L = 64, R = 16, T = 28, B = 42;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function ticks(lo, hi, n = 5) {
  if (hi === lo) return [lo];
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

// Tick labels with enough digits to tell the ticks of a narrow range apart.
function formatter(lo, hi, ticks = 5) {
  const step = (Math.abs(hi - lo) || Math.abs(hi) || 1) / (ticks - 1);
  const digits = Math.min(8, Math.max(0, Math.ceil(-Math.log10(step)) + 1));
  return (v) => (Math.abs(v) >= 1e5 ? v.toExponential(2) : v.toFixed(digits));
}

/**
 * Draw `series` ([{name, points: [[x, y], ...]}]) into a new <figure>; `log` puts y on a log10 scale.
 * Returns the figure (with a data table for screen readers).
 */
export function lineChart(series, { title = "", xLabel = "step", yLabel = "", log = false } = {}) {
  const usable = series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!log || y > 0)) }))
    .filter((s) => s.points.length);
  const figure = el("figure", { class: "chart", "data-testid": "chart" });
  if (!usable.length) {
    figure.append(el("figcaption", { class: "muted", text: `${title}: no points yet` }));
    return figure;
  }
  const ty = (y) => (log ? Math.log10(y) : y);
  const xs = usable.flatMap((s) => s.points.map((p) => p[0]));
  const ys = usable.flatMap((s) => s.points.map((p) => ty(p[1])));
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
  const px = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y) => H - B - ((ty(y) - y0) / (y1 - y0)) * (H - T - B);
  const fy = formatter(log ? 10 ** y0 : y0, log ? 10 ** y1 : y1);
  const fx = formatter(x0, x1);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title} (${usable.length} series)` });
  root.append(svg("text", { x: L, y: 18, "font-size": 14, "font-weight": 600, fill: "#1b1f24" }, title + (log ? " (log scale)" : "")));
  for (const v of ticks(y0, y1)) {
    const y = H - B - ((v - y0) / (y1 - y0)) * (H - T - B);
    root.append(svg("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#e5e8ec" }));
    root.append(svg("text", { x: L - 6, y: y + 4, "font-size": 11, "text-anchor": "end", fill: "#57606a" }, fy(log ? 10 ** v : v)));
  }
  for (const v of ticks(x0, x1)) {
    root.append(svg("text", { x: px(v), y: H - B + 16, "font-size": 11, "text-anchor": "middle", fill: "#57606a" }, Number.isInteger(x0) && Number.isInteger(x1) ? Math.round(v) : fx(v)));
  }
  root.append(svg("text", { x: (L + W - R) / 2, y: H - 6, "font-size": 12, "text-anchor": "middle", fill: "#57606a" }, xLabel));
  root.append(svg("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#8c959f" }));
  root.append(svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: "#8c959f" }));
  usable.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const d = s.points.map(([x, y], j) => `${j ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
    root.append(svg("path", { d, fill: "none", stroke: colour, "stroke-width": 2 }));
    for (const [x, y] of s.points) root.append(svg("circle", { cx: px(x), cy: py(y), r: 3, fill: colour }));
    root.append(svg("text", { x: W - R - 4, y: T + 14 + 14 * i, "font-size": 12, "text-anchor": "end", fill: colour }, s.name));
  });
  figure.append(root);
  const table = el("table", { class: "sr-only" }, el("caption", { text: title }),
    el("tr", {}, el("th", { text: "series" }), el("th", { text: xLabel }), el("th", { text: yLabel || "value" })),
    usable.flatMap((s) => s.points.map(([x, y]) => el("tr", {}, el("td", { text: s.name }), el("td", { text: x }), el("td", { text: y })))));
  figure.append(table);
  return figure;
}

/** Learning-curve series for `key` from metrics.jsonl rows (one series per split, or per trial). */
export function historySeries(rows, key) {
  const groups = new Map();
  for (const row of rows) {
    const value = row[key] ?? (row.metrics || {})[key];
    if (typeof value !== "number" || typeof row.step !== "number") continue;
    const name = [row.trial && `trial ${row.trial}`, row.split || "validation"].filter(Boolean).join(" ");
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push([row.step, value]);
  }
  return [...groups].map(([name, points]) => ({ name, points }));
}
