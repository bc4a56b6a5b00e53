// DOM helpers. Text always goes in through textContent: a user's string is never parsed as HTML.

/** Build an element: el("div", {class: "x", "data-testid": "y"}, "text", child, ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** A number with `digits` decimals, or "–". */
export function num(value, digits = 3) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

/** An error line (role=alert) for a card. */
export function errorLine(error) {
  return el("p", { class: "error", role: "alert", "data-testid": "card-error", text: error.message || String(error) });
}

/** Fill a <select> with options [{value, label}], keeping the current choice when it is still there. */
export function setOptions(select, options, emptyLabel) {
  const previous = select.value;
  const items = options.map((o) => el("option", { value: o.value, text: o.label }));
  if (!items.length && emptyLabel) items.push(el("option", { value: "", text: emptyLabel }));
  fill(select, items);
  if (options.some((o) => o.value === previous)) select.value = previous;
}

/** A horizontally scrollable box for a wide table, reachable by keyboard (and named for screen readers). */
export function scrollBox(label, table) {
  return el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": label }, table);
}
