// Word attributions: each word coloured by its score (diverging: green pushes toward the label,
// red away from it), the score also written under the word, a legend, and a tab per class.
import { el, fill, num } from "./dom.js";

const POS = "26, 127, 55";
const NEG = "180, 35, 24";

function colour(score, scale, signed) {
  const strength = Math.min(1, Math.abs(score) / (scale || 1));
  const rgb = !signed || score >= 0 ? POS : NEG;
  return `rgba(${rgb}, ${(0.08 + 0.5 * strength).toFixed(3)})`;
}

function legend(signed) {
  const steps = signed ? [-1, -0.5, -0.2, 0.2, 0.5, 1] : [0.2, 0.5, 1];
  const swatches = steps.map((s) => {
    const box = el("span");
    box.style.backgroundColor = colour(s, 1, signed);
    return box;
  });
  return el("div", { class: "legend", "data-testid": "explanation-legend" },
    signed ? el("span", { text: "against the label" }) : el("span", { text: "less important" }),
    el("span", { class: "swatches", "aria-hidden": "true" }, swatches),
    el("span", { text: signed ? "toward the label" : "more important" }));
}

function words(list, signed) {
  const scale = Math.max(1e-9, ...list.map((w) => Math.abs(w.score)));
  return el("p", { class: "words", "data-testid": "explanation-words" }, list.map((w) => {
    const sign = w.score > 0 ? "+" : "";
    const span = el("span", {
      class: "word", "data-testid": "explanation-word", "data-score": String(w.score),
      "aria-label": `${w.word}: ${sign}${num(w.score, 3)}`,
    }, el("span", { class: "w", text: w.word }), el("span", { class: "s", "aria-hidden": "true", text: `${sign}${num(w.score, 2)}` }));
    span.style.backgroundColor = colour(w.score, scale, signed);
    return span;
  }));
}

/**
 * Render an explanation dict (as /v1/explain answers it) into `node`, with a tab per class or
 * entity. The tabs come from the explanation's `per_label` (asked for with all_labels) or, when
 * it holds one output only, from `labels` with `fetchFor(label)` fetching the others on demand.
 * `kind` names the outputs ("label" or "entity"). Returns {current: () => the shown explanation}.
 */
export function renderExplanation(node, explanation, { labels = [], fetchFor = null, kind = "label" } = {}) {
  const body = el("div", { class: "explanation-body", role: "tabpanel", "aria-label": "Word scores" });
  const title = el("h3");
  const meta = el("p", { class: "muted" });
  const perLabel = explanation.per_label || {};
  const cache = new Map(Object.entries(perLabel).map(([label, words]) => [label, { ...explanation, label, words }]));
  cache.set(explanation.label, explanation);
  const names = cache.size > 1 ? [...cache.keys()] : labels;
  let current = explanation;
  const show = (e) => {
    current = e;
    title.textContent = `Why “${e.label}”?`;
    meta.textContent = `Method: ${e.method}; ${num(e.seconds, 2)} s. Scores are written under each word ` +
      `(positive pushes toward the ${kind}).`;
    fill(body, words(e.words, e.signed !== false));
  };
  let tabs = null;
  if (names.length > 1 && (cache.size > 1 || fetchFor)) {
    tabs = el("div", { class: "tabs", role: "tablist", "aria-label": `Explain toward which ${kind}` });
    for (const label of names) {
      const tab = el("button", { type: "button", role: "tab", text: label,
        "aria-selected": String(label === explanation.label), "data-testid": "explanation-tab" });
      tab.addEventListener("click", async () => {
        tabs.querySelectorAll("button").forEach((b) => b.setAttribute("aria-selected", String(b === tab)));
        try {
          if (!cache.has(label)) cache.set(label, await fetchFor(label));
          show(cache.get(label));
        } catch (error) {
          fill(body, el("p", { class: "error", role: "alert", text: error.message }));
        }
      });
      tabs.append(tab);
    }
  }
  fill(node, title, meta, tabs, legend(explanation.signed !== false), body);
  show(explanation);
  return { current: () => current };
}

/** The faithfulness rows (/ui/api/faithfulness) as a table: the method against the random baseline. */
export function faithfulnessTable(rows) {
  const cell = (v) => el("td", { class: "num", text: num(v, 3) });
  return el("div", { "data-testid": "faithfulness" },
    el("h4", { text: "Faithfulness on this text (ERASER)" }),
    el("p", { class: "muted", text: "Comprehensiveness: how much the probability drops when the top-ranked words are " +
      "removed (higher is better). Sufficiency: how much it drops when only they are kept (lower is better). " +
      "Averaged over removing 1, 5, 10, 20 and 50 % of the words; random scores are the floor." }),
    el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Faithfulness" },
      el("table", { class: "table", "data-testid": "faithfulness-table" },
        el("thead", {}, el("tr", {}, ["method", "comprehensiveness ↑", "sufficiency ↓"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, rows.map((r) => el("tr", { "data-method": r.method }, el("th", { scope: "row", text: r.method }),
          cell(r.comprehensiveness), cell(r.sufficiency)))))));
}
