// The page's entry point: navigation, the API key, and the start of every section.
import { call, getKey, onError, setKey } from "./api.js";
import { $ } from "./dom.js";
import * as apps from "./apps.js";
import * as chat from "./chat.js";
import * as models from "./models.js";
import * as playground from "./playground.js";
import * as runs from "./runs.js";
import * as train from "./train.js";

const SECTIONS = ["playground", "train", "runs", "models", "apps"];
const shown = { runs: runs.show, models: models.show, train: train.show };
let info = null;

function banner(message) {
  const node = $("#banner");
  node.textContent = message || "";
  node.hidden = !message;
}

function route() {
  const name = SECTIONS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "playground";
  for (const section of SECTIONS) {
    $(`#section-${section}`).hidden = section !== name;
    const link = $(`nav a[data-section="${section}"]`);
    if (section === name) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  if (info && shown[name]) shown[name](info);
}

async function start() {
  try {
    info = await call("/ui/api/info");
  } catch (error) {
    if (error.status === 401) {
      banner(getKey() ? `${error.message}: enter a valid API key above.`
        : "This server needs an API key: enter it above and press Save key.");
      $("#api-key").focus();
    } else {
      banner(`Could not reach the server: ${error.message}`);
    }
    return;
  }
  banner("");
  playground.init(info);
  chat.init(info);
  train.init(info);
  apps.init(info);
  route();
  document.body.dataset.ready = "true"; // every control is wired: tests and scripts can start
}

// A run's model was loaded into the server's pool (Runs page): every model list takes it.
document.addEventListener("tamellm:models", (event) => {
  if (info) info.models = event.detail;
  playground.setModels(event.detail);
  chat.setModels(event.detail);
});

onError((error) => {
  if (error.status === 401) banner(`${error.message}: enter a valid API key above.`);
});

$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setKey($("#api-key").value.trim());
  $("#api-key").value = "";
  start();
});
window.addEventListener("hashchange", () => { route(); $("#main").focus(); });
route();
start();
