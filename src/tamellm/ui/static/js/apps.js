// Applications: ask a FAQ, read a sentiment monitor's entities and alerts, get recommendations.
// Each card shows only when the server runs that application (/ui/api/info "apps").
import { call } from "./api.js";
import { $, el, errorLine, fill, num, scrollBox, setOptions } from "./dom.js";
import { py, sh, showHint } from "./hints.js";

let wired = false;
const path = (name) => encodeURIComponent(name);

function busy(button, on) { button.disabled = on; button.setAttribute("aria-busy", on ? "true" : "false"); }

export function init(info) {
  const apps = info.apps || {};
  setOptions($("#faq-name"), (apps.faq || []).map((n) => ({ value: n, label: n })));
  setOptions($("#monitor-name"), (apps.monitor || []).map((n) => ({ value: n, label: n })));
  $("#card-faq").hidden = !(apps.faq || []).length;
  $("#card-monitor").hidden = !(apps.monitor || []).length;
  const recommenders = apps.recommend || [];
  setOptions($("#recommend-name"), recommenders.map((n) => ({ value: n, label: n })));
  $("#card-recommend").hidden = !recommenders.length;
  $("#apps-none").hidden = !($("#card-faq").hidden && $("#card-monitor").hidden && $("#card-recommend").hidden);
  if (!wired) {
    $("#faq-ask").addEventListener("click", ask);
    $("#faq-question").addEventListener("keydown", (event) => { if (event.key === "Enter") ask(); });
    $("#monitor-refresh").addEventListener("click", monitor);
    $("#recommend-submit").addEventListener("click", recommend);
    wired = true;
  }
}

async function ask() {
  const button = $("#faq-ask");
  const name = $("#faq-name").value;
  const question = $("#faq-question").value.trim();
  const out = $("#faq-result");
  if (!question) { fill(out, errorLine(new Error("Type a question first."))); return; }
  busy(button, true);
  try {
    const answer = await call(`/v1/faq/${path(name)}/ask`, { method: "POST", body: { question, top_k: 3 } });
    fill(out,
      el("p", { class: answer.handoff ? "error" : "winner", "data-testid": "faq-reply", "data-handoff": String(answer.handoff) },
        answer.handoff ? "Hand off to a person: " : "", answer.reply),
      answer.answers.length ? el("ol", { class: "ranked" }, answer.answers.map((a) => el("li", { "data-testid": "faq-answer" },
        el("span", { class: "score", text: num(a.score, 3) }), el("strong", { text: `[${a.id}] ${a.question}` }),
        el("br"), a.answer))) : null);
    showHint($("#faq-hint"),
      `from tamellm.apps.faq import FaqAssistant\nfaq = FaqAssistant.load("FAQ_DIR")  # the folder served as ${name}\n` +
      `print(faq.ask(${py(question)}).reply)`,
      `tamellm faq ask FAQ_DIR ${sh(question)}`);
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
}

async function monitor() {
  const button = $("#monitor-refresh");
  const name = $("#monitor-name").value;
  const out = $("#monitor-result");
  busy(button, true);
  try {
    const [entities, alerts] = await Promise.all([call(`/v1/monitor/${path(name)}/entities`),
      call(`/v1/monitor/${path(name)}/alerts?limit=20`)]);
    const numbers = (w) => (w ? Object.entries(w).filter(([k, v]) => k !== "window_start" && typeof v === "number")
      .map(([k, v]) => `${k} ${num(v, 2)}`).join(" · ") : "no closed window yet");
    fill(out,
      el("h3", { text: `Entities (${entities.entities.length})` }),
      entities.entities.length ? scrollBox("Monitored entities", el("table", { class: "table", "data-testid": "monitor-entities" },
        el("thead", {}, el("tr", {}, ["entity", "latest window", "numbers", "open episodes"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, entities.entities.map((e) => el("tr", {}, el("th", { scope: "row", text: e.entity }),
          el("td", { text: (e.latest_window || {}).window_start || "–" }), el("td", { text: numbers(e.latest_window) }),
          el("td", { text: e.active_episodes.join(", ") || "none" })))))) : el("p", { class: "muted", text: "No events yet." }),
      el("h3", { text: `Alerts (last ${alerts.alerts.length})` }),
      alerts.alerts.length ? el("ul", { "data-testid": "monitor-alerts" }, alerts.alerts.map((a) => el("li", {},
        `${a.window_start ?? ""} ${a.entity ?? ""}: ${a.rule ?? ""} (${a.kind ?? ""}) — ${(a.conditions || []).join(", ")}`)))
        : el("p", { class: "muted", text: "No alerts." }));
    showHint($("#monitor-hint"),
      `import httpx\nprint(httpx.get("${location.origin}/v1/monitor/${name}/alerts").json())`,
      `tamellm monitor report --state STATE.db   # the monitor's SQLite state file`);
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
}

async function recommend() {
  const button = $("#recommend-submit");
  const name = $("#recommend-name").value;
  const user = $("#recommend-user").value.trim() || null;
  const text = $("#recommend-text").value.trim() || null;
  const k = Number($("#recommend-k").value) || 5;
  const out = $("#recommend-result");
  busy(button, true);
  try {
    if (!user && !text) throw new Error("Give a user, a text, or both.");
    const answer = await call(`/v1/recommend/${path(name)}`, { method: "POST", body: { user, text, k } });
    fill(out, answer.items.map((item) => el("li", { "data-testid": "recommend-item" },
      el("span", { class: "score", text: num(item.score, 3) }), el("strong", { text: String(item.item) }),
      (item.reasons || []).length ? el("span", { class: "muted", "data-testid": "recommend-reasons",
        text: ` — ${item.reasons.map((r) => (typeof r === "string" ? r : r.text || r.type)).join("; ")}` }) : null)));
    if (!answer.items.length) fill(out, el("li", { class: "muted", text: "No recommendation." }));
    const pyOrNone = (v) => (v === null ? "None" : py(v));
    showHint($("#recommend-hint"),
      `from tamellm.apps.recommend import Recommender\nrec = Recommender.load("REC_DIR")  # the folder served as ${name}\n` +
      `print(rec.recommend(user=${pyOrNone(user)}, text=${pyOrNone(text)}, k=${k}).to_dict())`,
      ["tamellm recommend for REC_DIR", user ? `--user ${sh(user)}` : "", text ? `--text ${sh(text)}` : "", `-k ${k}`]
        .filter(Boolean).join(" "));
  } catch (error) {
    fill(out, errorLine(error));
  } finally {
    busy(button, false);
  }
}
