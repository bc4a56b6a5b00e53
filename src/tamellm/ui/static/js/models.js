// Models: what this server has loaded, and the catalog of named models.
import { call } from "./api.js";
import { $, el, errorLine, fill, num, scrollBox } from "./dom.js";

const mb = (bytes) => (typeof bytes === "number" ? `${(bytes / 1048576).toFixed(1)} MB` : "–");

/** The candidates table of a compressed folder ({name, compression}); also used by the Runs page. */
export function compression(m) {
  const c = m.compression;
  return el("div", { "data-testid": "compression-table" },
    el("h3", { text: `${m.name}: compression candidates (chosen: ${c.chosen}, accuracy budget ${num(c.max_drop, 3)})` }),
    c.warning ? el("p", { class: "error", text: c.warning }) : null,
    scrollBox(`Compression candidates of ${m.name}`, el("table", { class: "table" },
      el("thead", {}, el("tr", {}, ["method", "size", "accuracy", "latency p50 (ms)", "texts/s", "chosen"]
        .map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, c.rows.map((r) => el("tr", {}, el("td", { text: r.method }), el("td", { class: "num", text: mb(r.size_bytes) }),
        el("td", { class: "num", text: num(r.accuracy, 4) }), el("td", { class: "num", text: num(r.latency_p50_ms, 1) }),
        el("td", { class: "num", text: num(r.throughput, 0) }), el("td", { text: r.chosen ? "✓ chosen" : "" })))))));
}

export async function show() {
  try {
    const answer = await call("/ui/api/models");
    fill($("#loaded-table tbody"), answer.loaded.map((m) => el("tr", { "data-testid": "models-loaded-row" },
      el("td", { text: m.name }), el("td", { text: m.tasks.join(", ") }), el("td", { text: m.backend }),
      el("td", { class: "num", text: mb(m.size_bytes) }), el("td", { text: m.source }))));
    fill($("#compression-tables"), answer.loaded.filter((m) => m.compression).map(compression));
    fill($("#catalog-table tbody"), answer.catalog.map((m) => el("tr", { "data-testid": "models-catalog-row" },
      el("td", { text: m.name }), el("td", { text: m.task }), el("td", { text: m.role }), el("td", { text: m.params }),
      el("td", { text: m.license }), el("td", { text: m.installed ? "yes" : `no: ${m.install}` }))));
  } catch (error) {
    fill($("#loaded-table tbody"), el("tr", {}, el("td", { colspan: 5 }, errorLine(error))));
  }
}
