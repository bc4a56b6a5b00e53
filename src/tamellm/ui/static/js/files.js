// A file instead of typed text on the playground's text cards (classify, named entities, summarize):
// chosen with the card's file picker or dropped on its text box. The server reads it (OCR for
// images and scans, the PDF text layer, Whisper for audio) and answers the text it read, which then
// replaces the text box, so "Why?" and a second model work on exactly that text.
import { $, el, fill } from "./dom.js";

let uploadLimit = 1048576;

const picker = (card) => $(`#${card}-file`);
const textBox = (card) => $(`#${card}-text`);
const readLine = (card) => $(`#${card}-read`);

/** Wire the picker and the drop target of `card` (the id prefix: "classify", "ner", "summarize"). */
export function attach(card, limit) {
  uploadLimit = limit || uploadLimit;
  const input = picker(card);
  const box = textBox(card);
  input.addEventListener("change", () => {
    const file = input.files[0];
    fill(readLine(card), file ? `${file.name} will be read when you run the card (typing text instead clears it).` : "");
  });
  // Typing means the text is wanted, not the file.
  box.addEventListener("input", () => { if (input.files.length) { input.value = ""; fill(readLine(card)); } });
  box.addEventListener("dragover", (event) => { event.preventDefault(); box.classList.add("drop"); });
  box.addEventListener("dragleave", () => box.classList.remove("drop"));
  box.addEventListener("drop", (event) => {
    box.classList.remove("drop");
    if (!event.dataTransfer || !event.dataTransfer.files.length) return; // dropped text: the browser inserts it
    event.preventDefault();
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event("change"));
  });
}

/** The chosen file of `card`, or null; an Error when it is over the server's upload limit. */
export function chosen(card) {
  const file = picker(card).files[0] || null;
  if (file && file.size > uploadLimit) {
    throw new Error(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; this server accepts files up to ` +
      `${(uploadLimit / 1048576).toFixed(1)} MB (tamellm serve --max-upload-mb N).`);
  }
  return file;
}

/** A multipart body: the file and the route's other fields (lists comma-joined, empty ones left out). */
export function form(file, fields) {
  const body = new FormData();
  body.append("file", file, file.name);
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null || value === "") continue;
    body.append(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  return body;
}

/** After an answer to a file: the read text goes into the text box, the line says where it came from. */
export function showRead(card, file, item) {
  const source = item.source || {};
  const parts = (source.segments || []).length;
  const unit = source.kind === "audio" ? "time spans" : source.kind === "pdf" ? "parts" : "lines";
  textBox(card).value = item.text;
  picker(card).value = "";
  fill(readLine(card), "Read from ", el("strong", { text: file.name }), ` (${source.kind || "file"}, ${parts} ${unit}): `,
    el("q", { "data-testid": `${card}-read-text`, text: item.text }));
}
