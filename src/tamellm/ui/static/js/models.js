// Models: what this server has loaded, and the catalog of named models.
import { call } from "./api.js";
import { $, el, errorLine, fill } from "./dom.js";

export async function show() {
  try {
    const answer = await call("/ui/api/models");
    fill($("#loaded-table tbody"), answer.loaded.map((m) => el("tr", { "data-testid": "models-loaded-row" },
      el("td", { text: m.name }), el("td", { text: m.tasks.join(", ") }), el("td", { text: m.backend }), el("td", { text: m.source }))));
    fill($("#catalog-table tbody"), answer.catalog.map((m) => el("tr", { "data-testid": "models-catalog-row" },
      el("td", { text: m.name }), el("td", { text: m.task }), el("td", { text: m.role }), el("td", { text: m.params }),
      el("td", { text: m.license }), el("td", { text: m.installed ? "yes" : `no: ${m.install}` }))));
  } catch (error) {
    fill($("#loaded-table tbody"), el("tr", {}, el("td", { colspan: 4 }, errorLine(error))));
  }
}
