// "Code for every action": the same call in Python and on the command line, with copy buttons.
import { el, fill } from "./dom.js";

const q = (s) => JSON.stringify(String(s));
const sh = (s) => (/^[A-Za-z0-9_./:=,-]+$/.test(String(s)) ? String(s) : `'${String(s).replace(/'/g, "'\\''")}'`);
export { q as py, sh };

function block(title, code) {
  const copy = el("button", { type: "button", text: "Copy", "aria-label": `Copy the ${title} code` });
  copy.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(code); copy.textContent = "Copied"; }
    catch (_) { copy.textContent = "Select and copy"; }
    setTimeout(() => { copy.textContent = "Copy"; }, 1500);
  });
  return [el("div", { class: "code-head" }, el("span", { text: title }), copy), el("pre", {}, el("code", { text: code }))];
}

/** Show the Python and CLI equivalents of an action in `node`. */
export function showHint(node, python, cli) {
  fill(node, el("details", { "data-testid": "code-hint" }, el("summary", { text: "Code for this" }),
    block("Python", python), cli ? block("Command line", cli) : null));
}
