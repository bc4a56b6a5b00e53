// Chat with streaming (OpenAI-style server-sent events), a Stop button and live tokens/s.
import { stream } from "./api.js";
import { $, el, errorLine, setOptions } from "./dom.js";
import { py, sh, showHint } from "./hints.js";

let history = [];
let controller = null;
let models = [];

/** Fill the model list from the served models (again when a run's model is loaded). */
export function setModels(list) {
  models = list;
  setOptions($("#chat-model"), list.filter((m) => m.tasks.includes("generate"))
    .map((m) => ({ value: m.name, label: m.name })), "no chat model loaded");
  if (!controller) $("#chat-send").disabled = !$("#chat-model").value;
}

export function init(info) {
  setModels(info.models);
  $("#chat-send").addEventListener("click", send);
  $("#chat-stop").addEventListener("click", () => controller && controller.abort());
  $("#chat-clear").addEventListener("click", () => { history = []; $("#chat-log").replaceChildren(); });
  $("#chat-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) send();
  });
}

function bubble(role, text) {
  const body = el("span", { class: "text", text });
  const node = el("div", { class: `msg msg-${role}`, "data-testid": role === "user" ? "chat-message-user" : "chat-message-assistant" },
    el("span", { class: "who", text: role === "user" ? "You" : "Model" }), body);
  $("#chat-log").append(node);
  return body;
}

async function send() {
  const input = $("#chat-input");
  const text = input.value.trim();
  if (!text || controller) return;
  input.value = "";
  const model = $("#chat-model").value || undefined;
  const maxTokens = Number($("#chat-max-tokens").value) || 128;
  history.push({ role: "user", content: text });
  bubble("user", text);
  const answer = bubble("assistant", "");
  const log = $("#chat-log");
  const speed = $("#chat-speed");
  controller = new AbortController();
  $("#chat-send").disabled = true;
  $("#chat-stop").disabled = false;
  let tokens = 0;
  let first = null;
  let reply = "";
  const started = performance.now();
  try {
    await stream("/v1/chat/completions", {
      method: "POST", signal: controller.signal,
      body: { model, messages: history, stream: true, max_tokens: maxTokens },
      onEvent: (data) => {
        if (data === "[DONE]") return;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const piece = chunk.choices[0].delta.content || "";
        if (!piece) return;
        tokens += 1;
        first = first || performance.now();
        reply += piece;
        answer.textContent = reply;
        log.scrollTop = log.scrollHeight;
        const seconds = (performance.now() - first) / 1000;
        if (tokens > 1 && seconds > 0) speed.textContent = `${((tokens - 1) / seconds).toFixed(1)} tokens/s`;
      },
    });
  } catch (error) {
    if (error.name === "AbortError") {
      answer.parentElement.dataset.stopped = "true";
      answer.parentElement.append(el("span", { class: "who", "data-testid": "chat-stopped", text: "(stopped)" }));
    } else {
      answer.parentElement.append(errorLine(error));
    }
  } finally {
    history.push({ role: "assistant", content: reply });
    const total = (performance.now() - started) / 1000;
    if (tokens) speed.textContent = `${tokens} tokens in ${total.toFixed(1)} s (${(tokens / total).toFixed(1)} tokens/s)`;
    controller = null;
    $("#chat-send").disabled = !$("#chat-model").value;
    $("#chat-stop").disabled = true;
    const source = (models.find((m) => m.name === model) || { source: model || "smollm2-135m-instruct" }).source;
    showHint($("#chat-hint"),
      `import tamellm\nfor piece in tamellm.chat(${py(text)}, model=${py(source)}, stream=True):\n    print(piece, end="", flush=True)`,
      `tamellm chat --model ${sh(source)}`);
  }
}
