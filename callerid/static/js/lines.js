// Which lines (numbers the business answers) this screen watches: stored in this browser only.

const KEY = "callerid.hiddenLines";
const known = new Map(); // number -> label
const listeners = [];
let hidden = new Set(load());

const list = document.getElementById("lines-list");
const empty = document.getElementById("lines-empty");
const summary = document.getElementById("lines-summary");

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(saved) ? saved : [];
  } catch {
    return [];
  }
}

function save() {
  localStorage.setItem(KEY, JSON.stringify([...hidden]));
}

function render() {
  list.replaceChildren();
  for (const [number, label] of [...known].sort((a, b) => (a[1] || a[0]).localeCompare(b[1] || b[0]))) {
    const row = document.createElement("label");
    row.className = "check";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = number;
    box.checked = !hidden.has(number);
    box.addEventListener("change", () => {
      if (box.checked) hidden.delete(number);
      else hidden.add(number);
      save();
      renderSummary();
      for (const listener of listeners) listener();
    });
    const text = document.createElement("span");
    text.textContent = label ? `${label} (${number})` : number;
    row.append(box, " ", text);
    list.append(row);
  }
  empty.hidden = known.size > 0;
  renderSummary();
}

function renderSummary() {
  const shown = [...known.keys()].filter((number) => !hidden.has(number)).length;
  summary.textContent = shown === known.size ? "all" : `${shown} of ${known.size}`;
}

/** Add lines seen in the snapshot or on a card; new lines are watched unless unticked. */
export function addLines(lines) {
  let changed = false;
  for (const line of lines) {
    if (!line || !line.number) continue;
    if (known.get(line.number) !== (line.label || "")) {
      known.set(line.number, line.label || "");
      changed = true;
    }
  }
  if (changed) render();
}

export function isWatched(line) {
  return !line || !line.number || !hidden.has(line.number);
}

export function onChange(listener) {
  listeners.push(listener);
}

const panel = document.getElementById("lines");
document.addEventListener("click", (event) => {
  if (panel.open && !panel.contains(event.target)) panel.open = false;
});
panel.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && panel.open) {
    panel.open = false;
    panel.querySelector("summary").focus();
  }
});

render();
