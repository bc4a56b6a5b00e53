// Playground: classification (+ Why?, faithfulness), named entities (+ Why?), summaries, similarity
// search and transcription.
import { call } from "./api.js";
import { $, el, errorLine, fill, num, setOptions } from "./dom.js";
import { faithfulnessTable, renderExplanation } from "./explanation.js";
import * as files from "./files.js";
import { py, sh, showHint } from "./hints.js";

let models = [];
let lastClassify = null;
let uploadLimit = 1048576;

const serving = (task) => models.filter((m) => m.tasks.includes(task));
const options = (list) => list.map((m) => ({ value: m.name, label: `${m.name} (${m.tasks[0]})` }));
const zeroShot = (name) => {
  const m = models.find((x) => x.name === name);
  return Boolean(m) && !m.tasks.includes("classify");
};
// The folder or catalog name a model was served from: what Python and the CLI take.
const sourceOf = (name) => (models.find((m) => m.name === name) || { source: name }).source;
const labelList = () => $("#classify-labels").value.split(",").map((s) => s.trim()).filter(Boolean);

function busy(button, on) { button.disabled = on; button.setAttribute("aria-busy", on ? "true" : "false"); }

/** Fill every model list from `list` (the served models); called again when a run's model is loaded. */
export function setModels(list) {
  models = list;
  const classifiers = [...serving("classify"), ...serving("zero-shot-classification")
    .filter((m) => !m.tasks.includes("classify"))];
  setOptions($("#classify-model"), options(classifiers), "no classifier loaded");
  setOptions($("#classify-compare"), [{ value: "", label: "no second model" }, ...options(classifiers)]);
  setOptions($("#summarize-model"), options(serving("generate")), "no chat model loaded");
  $("#summarize-submit").disabled = !serving("generate").length;
  setOptions($("#ner-model"), options(serving("ner")), "no NER model loaded");
  setOptions($("#similarity-model"), options(serving("embed")), "no embedding model loaded");
  setOptions($("#transcribe-model"), options(serving("transcribe")), "no speech model loaded");
  $("#card-transcribe").hidden = !serving("transcribe").length; // the speech extra and a Whisper model
  syncLabels();
}

export function init(info) {
  uploadLimit = info.max_upload_bytes;
  setModels(info.models);
  setOptions($("#explain-method"), [{ value: "", label: "default" },
    // "random" is the faithfulness baseline, not an explanation.
    ...info.explainers.filter((n) => n !== "random").map((n) => ({ value: n, label: n }))]);
  $("#classify-model").addEventListener("change", syncLabels);
  $("#classify-compare").addEventListener("change", syncLabels);
  $("#summarize-submit").addEventListener("click", summarize);
  $("#classify-submit").addEventListener("click", classify);
  $("#classify-explain").addEventListener("click", explain);
  $("#classify-faithfulness").addEventListener("click", measureFaithfulness);
  $("#transcribe-submit").addEventListener("click", transcribe);
  $("#ner-submit").addEventListener("click", ner);
  $("#ner-explain").addEventListener("click", explainNer);
  $("#similarity-submit").addEventListener("click", similarity);
  for (const card of ["classify", "ner", "summarize"]) files.attach(card, uploadLimit);
}

function syncLabels() {
  $("#classify-labels").disabled = !zeroShot($("#classify-model").value) && !zeroShot($("#classify-compare").value);
}

/** Classify `text` (or the text read from `file`) with `model` and draw the label and a bar per label into
 * `out`; returns the answer item. */
async function classifyInto(out, text, model, testIds, file = null) {
  const labels = zeroShot(model) ? labelList() : undefined;
  const body = file ? files.form(file, { model, labels }) : { model: model || undefined, input: text, labels };
  const answer = await call("/v1/classify", { method: "POST", body });
  const item = answer.data[0];
  const ranked = Object.entries(item.scores).sort((a, b) => b[1] - a[1]);
  fill(out,
    el("p", { class: "model-name", text: answer.model }),
    el("p", { class: "winner" }, "Label: ", el("strong", { "data-testid": testIds.label, text: item.label }),
      ` (${(item.score * 100).toFixed(1)} %)`),
    el("div", { "aria-label": `Probability per label, ${answer.model}`, role: "list" }, ranked.map(([label, p]) => {
      const bar = el("span");
      bar.style.width = `${Math.max(0, Math.min(100, p * 100)).toFixed(1)}%`;
      return el("div", { class: "bar-row", role: "listitem", "data-testid": testIds.bar },
        el("span", { text: label }), el("div", { class: "bar", "aria-hidden": "true" }, bar),
        el("span", { class: "num", text: `${(p * 100).toFixed(1)} %` }));
    })));
  return { answer, item, labels };
}

async function classify() {
  const button = $("#classify-submit");
  let text = $("#classify-text").value;
  const model = $("#classify-model").value;
  const second = $("#classify-compare").value;
  const out = $("#classify-result");
  let file, read = false;
  try { file = files.chosen("classify"); } catch (error) { fill(out, errorLine(error)); return; }
  if (file) fill(out, el("span", { class: "muted", text: `Reading ${file.name}…` }));
  busy(button, true);
  $("#classify-explain").disabled = true;
  $("#classify-faithfulness").disabled = true;
  shownExplanation = null;
  fill($("#classify-explanation"));
  fill($("#classify-compare-result"));
  try {
    const { answer, item, labels } = await classifyInto(out, text, model,
      { label: "classify-result-label", bar: "classify-bar" }, file);
    if (file) { files.showRead("classify", file, item); text = item.text; read = true; }
    lastClassify = { text, model: answer.model, labels, label: item.label, classes: Object.keys(item.scores) };
    $("#classify-explain").disabled = false;
    const lab = labels ? `, labels=${JSON.stringify(labels)}` : "";
    const cliLabels = labels ? ` --labels ${sh(labels.join(","))}` : "";
    if (file) {
      showHint($("#classify-hint"), `import tamellm\ntamellm.classify_files([${py(file.name)}]${lab}, model=${py(sourceOf(answer.model))})`,
        `tamellm classify --input ${sh(file.name)} --model ${sh(sourceOf(answer.model))}${cliLabels} --json`);
    } else {
      showHint($("#classify-hint"), `import tamellm\ntamellm.classify(${py(text)}${lab}, model=${py(sourceOf(answer.model))})`,
        `tamellm classify ${sh(text)} --model ${sh(sourceOf(answer.model))}${cliLabels}`);
    }
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
  if (second && (!file || read)) { // with a file, the second model reads the text the first call read
    try {
      await classifyInto($("#classify-compare-result"), text, second, { label: "compare-result-label", bar: "compare-bar" });
    } catch (error) {
      fill($("#classify-compare-result"), errorLine(error));
    }
  }
}

async function summarize() {
  const button = $("#summarize-submit");
  const text = $("#summarize-text").value;
  const model = $("#summarize-model").value || undefined;
  const words = Number($("#summarize-words").value) || 30;
  const out = $("#summarize-result");
  let file;
  try { file = files.chosen("summarize"); } catch (error) { fill(out, errorLine(error)); return; }
  busy(button, true);
  fill(out, el("span", { class: "muted", text: file ? `Reading ${file.name}, then summarizing…` : "Summarizing…" }));
  try {
    const body = file ? files.form(file, { model, max_words: words }) : { model, input: text, max_words: words };
    const answer = await call("/v1/summarize", { method: "POST", body });
    if (file) files.showRead("summarize", file, answer.data[0]);
    fill(out, answer.data[0].summary);
    const input = file ? `--input ${sh(file.name)}` : sh(text);
    showHint($("#summarize-hint"), file
      ? `import tamellm\ntamellm.summarize_files([${py(file.name)}], model=${py(sourceOf(answer.model))}, max_words=${words})`
      : `import tamellm\ntamellm.summarize(${py(text)}, model=${py(sourceOf(answer.model))}, max_words=${words})`,
    `tamellm summarize ${input} --model ${sh(sourceOf(answer.model))} --max-words ${words}`);
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
}

let shownExplanation = null;

async function explain() {
  if (!lastClassify) return;
  const button = $("#classify-explain");
  const out = $("#classify-explanation");
  const method = $("#explain-method").value || undefined;
  const { text, model, labels, classes } = lastClassify;
  busy(button, true);
  $("#classify-faithfulness").disabled = true;
  fill(out, el("p", { class: "muted", text: "Explaining…" }));
  try {
    // The predicted class first (one attribution pass, the quickest answer); each other class's tab
    // asks for its own scores when opened. NER asks for every entity at once (its tabs need the names).
    const ask = async (label) => (await call("/v1/explain",
      { method: "POST", body: { model, input: text, method, labels, label } })).explanation;
    shownExplanation = renderExplanation(out, await ask(undefined), { labels: classes, fetchFor: ask });
    $("#classify-faithfulness").disabled = false;
    const m = method ? `, method=${py(method)}` : "";
    const lab = labels ? `, labels=${JSON.stringify(labels)}` : "";
    showHint($("#classify-hint"), `import tamellm\ne = tamellm.explain(${py(text)}, model=${py(sourceOf(model))}${lab}${m})\nprint(e.words)`,
      `tamellm explain ${sh(sourceOf(model))} ${sh(text)}${method ? ` --method ${method}` : ""}${labels ? ` --labels ${sh(labels.join(","))}` : ""}`);
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
}

let lastNer = null;

async function ner() {
  const button = $("#ner-submit");
  let text = $("#ner-text").value;
  const model = $("#ner-model").value || undefined;
  const out = $("#ner-result");
  let file;
  try { file = files.chosen("ner"); } catch (error) { fill(out, errorLine(error)); return; }
  busy(button, true);
  $("#ner-explain").disabled = true;
  fill($("#ner-explanation"));
  try {
    const body = file ? files.form(file, { model }) : { model, input: text };
    const answer = await call("/v1/ner", { method: "POST", body });
    if (file) { files.showRead("ner", file, answer.data[0]); text = answer.data[0].text; } // offsets index into it
    const entities = [...answer.data[0].entities].sort((a, b) => a.start - b.start);
    const parts = [];
    let at = 0;
    for (const e of entities) {
      if (e.start < at) continue; // overlapping spans: keep the first
      parts.push(text.slice(at, e.start));
      parts.push(el("mark", { class: "ent", "data-testid": "ner-entity", "data-label": e.label,
        title: e.score == null ? e.label : `${e.label} ${num(e.score, 2)}` },
        text.slice(e.start, e.end), el("span", { class: "tag", text: e.label })));
      at = e.end;
    }
    parts.push(text.slice(at));
    fill(out, entities.length ? parts : el("span", { class: "muted", text: "No entities found." }));
    lastNer = { text, model: answer.model };
    $("#ner-explain").disabled = !entities.length;
    showHint($("#ner-hint"), `import tamellm\ntamellm.ner(${py(text)}, model=${py(sourceOf(answer.model))})`,
      `tamellm ner ${sh(text)} --model ${sh(sourceOf(answer.model))}`);
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
}

/** The faithfulness of the shown explanation's method on this text, beside random scores. */
async function measureFaithfulness() {
  if (!lastClassify || !shownExplanation) return;
  const button = $("#classify-faithfulness");
  const out = $("#classify-faithfulness-result");
  const { text, model, labels } = lastClassify;
  const method = shownExplanation.current().method;
  busy(button, true);
  fill(out, el("p", { class: "muted", text: "Measuring (removes words and re-runs the model)…" }));
  try {
    const answer = await call("/ui/api/faithfulness", { method: "POST", body: { model, input: text, method, labels } });
    fill(out, faithfulnessTable(answer.data));
    showHint($("#classify-hint"),
      `import tamellm\nrows = tamellm.compare_explainers(${py(sourceOf(model))}, [${py(text)}], methods=[${py(method)}]` +
      `${labels ? `, labels=${JSON.stringify(labels)}` : ""})\nprint(rows)`,
      `tamellm explain --compare ${sh(sourceOf(model))} --data texts.txt${labels ? ` --labels ${sh(labels.join(","))}` : ""}   # one text per line`);
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
}

/** Which words made the model find each entity (a tab per entity). */
async function explainNer() {
  if (!lastNer) return;
  const button = $("#ner-explain");
  const out = $("#ner-explanation");
  const method = $("#explain-method").value || undefined;
  busy(button, true);
  fill(out, el("p", { class: "muted", text: "Explaining…" }));
  try {
    const answer = await call("/v1/explain",
      { method: "POST", body: { model: lastNer.model, input: lastNer.text, method, all_labels: true } });
    renderExplanation(out, answer.explanation, { kind: "entity" });
    showHint($("#ner-hint"), `import tamellm\ne = tamellm.explain(${py(lastNer.text)}, model=${py(sourceOf(lastNer.model))}${method ? `, method=${py(method)}` : ""})\nprint(e.words)`,
      `tamellm explain ${sh(sourceOf(lastNer.model))} ${sh(lastNer.text)}${method ? ` --method ${method}` : ""}`);
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
}

async function transcribe() {
  const button = $("#transcribe-submit");
  const file = $("#transcribe-file").files[0];
  const model = $("#transcribe-model").value;
  const out = $("#transcribe-result");
  if (!file) { fill(out, errorLine(new Error("Choose an audio file (wav, mp3, flac, ogg) first."))); return; }
  if (file.size > uploadLimit) {
    fill(out, errorLine(new Error(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; this server accepts ` +
      `files up to ${(uploadLimit / 1048576).toFixed(1)} MB (tamellm serve --max-upload-mb N).`)));
    return;
  }
  busy(button, true);
  fill(out, el("span", { class: "muted", text: "Transcribing…" }));
  try {
    const form = new FormData();
    form.append("file", file, file.name);
    if (model) form.append("model", model);
    const answer = await call("/v1/audio/transcriptions", { method: "POST", body: form });
    fill(out, el("span", { "data-testid": "transcribe-text", text: answer.text }),
      answer.language ? el("span", { class: "muted", text: ` (${answer.language})` }) : null);
    showHint($("#transcribe-hint"), `import tamellm\nprint(tamellm.transcribe(${py(file.name)}, model=${py(sourceOf(model))}).text)`,
      `tamellm transcribe ${sh(file.name)} --model ${sh(sourceOf(model))}`);
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
}

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i += 1) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / (Math.sqrt(na * nb) || 1);
}

async function similarity() {
  const button = $("#similarity-submit");
  const query = $("#similarity-query").value;
  const lines = $("#similarity-lines").value.split("\n").map((s) => s.trim()).filter(Boolean);
  const model = $("#similarity-model").value || undefined;
  const out = $("#similarity-result");
  busy(button, true);
  try {
    if (!query.trim() || !lines.length) throw new Error("Type a query and at least one line to search.");
    const answer = await call("/v1/embeddings", { method: "POST", body: { model, input: [query, ...lines] } });
    const [q, ...rest] = answer.data.map((d) => d.embedding);
    const ranked = lines.map((line, i) => ({ line, score: cosine(q, rest[i]) })).sort((a, b) => b.score - a.score);
    fill(out, ranked.map((r) => el("li", { "data-testid": "similarity-item" },
      el("span", { class: "score", text: num(r.score, 3) }), r.line)));
    showHint($("#similarity-hint"),
      `import tamellm\ntamellm.similarity(${py(query)}, ${JSON.stringify(lines)}, model=${py(sourceOf(answer.model))})`,
      `tamellm embed ${sh(query)} --model ${sh(sourceOf(answer.model))} --json`);
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
}
