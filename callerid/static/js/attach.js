// Naming a new caller who is already a customer: as the name is typed, suggest who it might be
// (at most five: name, the last two digits of another number, the last call), attach the
// caller's number to one of them, and offer Undo for the minute the server allows.

import { day } from "./format.js";
import { request, url } from "./http.js";

const WAIT = 250; // ms after the last key before asking: one request per pause, not per key
const MIN_LETTERS = 3;
const timers = new WeakMap();

function slot(element, name) {
  return element.querySelector(`[data-slot="${name}"]`);
}

/** The name field of ``element``'s save form changed: ask, after a pause, who it might be. */
export function nameTyped(element, callSid, name, onAttached) {
  clearTimeout(timers.get(element));
  const letters = name.replace(/[^\p{L}]/gu, "").length;
  if (letters < MIN_LETTERS) {
    show(element, callSid, [], onAttached);
    return;
  }
  timers.set(
    element,
    setTimeout(async () => {
      try {
        const answer = await request("GET", `${url("suggestions", callSid)}?name=${encodeURIComponent(name)}`);
        show(element, callSid, answer.suggestions, onAttached);
      } catch {
        show(element, callSid, [], onAttached);
      }
    }, WAIT),
  );
}

function show(element, callSid, suggestions, onAttached) {
  const list = slot(element, "suggestions");
  list.replaceChildren();
  for (const suggestion of suggestions) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button suggest__pick";
    const about = [
      suggestion.number_hint && `number ending ${suggestion.number_hint}`,
      suggestion.last_call_at && `last call ${day(suggestion.last_call_at)}`,
    ].filter(Boolean);
    button.textContent = `Add to ${suggestion.name}${about.length ? ` (${about.join(", ")})` : ""}`;
    button.addEventListener("click", () => attach(element, callSid, suggestion, onAttached));
    const row = document.createElement("li");
    row.append(button);
    list.append(row);
  }
  element.querySelector('[data-part="suggest"]').hidden = suggestions.length === 0;
}

async function attach(element, callSid, suggestion, onAttached) {
  const status = slot(element, "card-status");
  try {
    const answer = await request("POST", url("attach", callSid), { customer_id: suggestion.customer_id });
    status.textContent = `Added this number to ${answer.name}.`;
    show(element, callSid, [], onAttached);
    offerUndo(element, callSid, answer);
    onAttached();
  } catch (error) {
    status.textContent = error.message;
  }
}

function offerUndo(element, callSid, answer) {
  const button = element.querySelector('[data-action="undo-attach"]');
  const left = Date.parse(answer.undo_until) - Date.now() - 2000; // a margin for the round trip
  button.hidden = false;
  button.textContent = `Undo: not ${answer.name}`;
  button.onclick = async () => {
    button.disabled = true;
    try {
      await request("POST", url("undo", callSid), { customer_id: answer.customer_id });
      slot(element, "card-status").textContent = "Undone: a new caller again.";
      button.hidden = true;
    } catch (error) {
      slot(element, "card-status").textContent = error.message;
    } finally {
      button.disabled = false;
    }
  };
  setTimeout(() => {
    button.hidden = true;
  }, Math.max(0, Math.min(left, 60000)));
}
