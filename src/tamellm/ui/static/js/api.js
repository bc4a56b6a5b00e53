// Calls to this server. The API key lives in sessionStorage (gone when the tab closes) and goes
// with every call as a Bearer token. Errors come back as Error objects with the server's message.
const KEY = "tamellm.apiKey";
const listeners = new Set();

export const getKey = () => sessionStorage.getItem(KEY) || "";
export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key); else sessionStorage.removeItem(KEY);
}
/** Called with every failed call's error (the page shows key problems in its banner). */
export const onError = (fn) => listeners.add(fn);

export class ApiError extends Error {
  constructor(status, message, code) { super(message); this.status = status; this.code = code; }
}

function headers(extra = {}) {
  const h = { ...extra };
  const key = getKey();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  let code = null;
  try {
    const body = await response.json();
    if (body && body.error) { message = body.error.message || message; code = body.error.code; }
  } catch (_) { /* not JSON */ }
  if (response.status === 413 && !code) message = `The request is too large for this server (${message})`;
  const error = new ApiError(response.status, message, code);
  listeners.forEach((fn) => fn(error));
  return error;
}

/** GET/POST/DELETE JSON; `body` is sent as JSON unless it is a Blob (sent raw) or FormData (multipart). */
export async function call(path, { method = "GET", body, signal, extraHeaders } = {}) {
  const init = { method, signal, headers: headers(extraHeaders) };
  if (body instanceof Blob || body instanceof FormData) init.body = body;
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  return response.json();
}

/**
 * Read a server-sent event stream (fetch, so that the key travels in a header, which EventSource
 * cannot do). `onEvent(data, eventName)` gets each event's data; resolves when the stream ends.
 */
export async function stream(path, { method = "GET", body, signal, onEvent }) {
  const init = { method, signal, headers: headers({ Accept: "text/event-stream" }) };
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(data.join("\n"), name);
    }
  }
}
