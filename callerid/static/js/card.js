// Draw a call's card from its event payload. Every value from the server goes in with
// textContent: customer data is never parsed as HTML.

import {
  answerer,
  clock,
  day,
  duration,
  elapsed,
  outcome,
  plural,
  since,
  when,
} from "./format.js";

export const RANK = {
  queued: 0,
  initiated: 0,
  ringing: 1,
  "in-progress": 2,
  completed: 3,
  busy: 3,
  "no-answer": 3,
  canceled: 3,
  failed: 3,
};
export const TERMINAL = 3;

export function rankOf(card) {
  return RANK[card.status] ?? 1;
}

/** "ringing", "answered", "missed" or "ended": the card's colour and words. */
export function stateOf(card) {
  const rank = rankOf(card);
  if (rank < RANK["in-progress"]) return "ringing";
  if (rank < TERMINAL) return "answered";
  return card.is_missed ? "missed" : "ended";
}

const STATE_WORDS = { ringing: "Ringing", answered: "On the phone", missed: "Missed", ended: "Ended" };
const template = document.getElementById("card-template");
let serial = 0;

export function createCardElement() {
  const element = template.content.firstElementChild.cloneNode(true);
  serial += 1;
  const greeting = element.querySelector('[data-slot="greeting"]');
  greeting.id = `card-${serial}-greeting`;
  element.setAttribute("aria-labelledby", greeting.id);
  return element;
}

function slot(element, name) {
  return element.querySelector(`[data-slot="${name}"]`);
}

function part(element, name) {
  return element.querySelector(`[data-part="${name}"]`);
}

function setText(element, name, text) {
  const node = slot(element, name);
  node.textContent = text || "";
  node.hidden = !text;
  return node;
}

function item(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.textContent = text;
  return node;
}

/** The headline: who the desk is talking to, or what kind of caller it is. */
export function headline(card) {
  if (card.customer) return card.greeting;
  if (card.caller_kind === "withheld") return "Number withheld";
  if (card.caller_kind === "invalid") return "Unrecognised number";
  if (card.caller_kind === "address") return card.caller?.display || "Internet caller";
  return "New caller";
}

/** A past call's title: who called (the name, else the number), not the greeting. */
function pastHeadline(card) {
  if (card.customer) return card.customer.name || headline(card);
  return card.from ? card.caller?.display || card.from : headline(card);
}

/** "Last called 3 weeks ago: booking, with Marco · 12 calls before": the history at a glance. */
function lastCall(customer) {
  if (!customer) return "";
  const [last] = customer.recent_calls || [];
  if (!last) return "First call on record";
  const who = answerer(last.answered_by);
  const what = last.is_missed ? "missed" : (outcome(last.outcome) || "answered").toLowerCase();
  const withWhom = who && !last.is_missed && who !== "the desk phone" ? `, with ${who}` : "";
  const count = plural(customer.calls_count || 0, "call");
  return `Last called ${since(last.received_at)}: ${what}${withWhom} · ${count} before`;
}

export function answeredText(card) {
  const state = stateOf(card);
  const who = answerer(card.answered_by);
  if (state === "ringing") return "";
  if (state === "answered") return who ? `Answered by ${who}` : "Answered";
  if (state === "missed") return "Missed call: nobody answered";
  const length = card.duration != null ? ` · ${duration(card.duration)}` : "";
  return (who ? `Answered by ${who}` : "Answered") + length;
}

/** Fill ``element`` from ``card``; forms being typed into are left alone. */
export function fill(element, card, { notes = [], test = false, expanded = null } = {}) {
  const state = stateOf(card);
  const customer = card.customer;
  const caller = card.caller || {};
  element.dataset.state = state;
  element.dataset.callSid = card.call_sid;
  element.dataset.known = customer ? "true" : "false";
  element.dataset.test = test ? "true" : "false";
  element.classList.toggle("card--vip", Boolean(customer?.vip));

  slot(element, "state").textContent = STATE_WORDS[state];
  slot(element, "vip").hidden = !customer?.vip;
  slot(element, "test").hidden = !test;
  setText(element, "line", card.line ? card.line.label || card.line.number : "");
  const time = slot(element, "time");
  time.dateTime = card.received_at || "";
  // Past calls (the recent strip) say who called and when, not what to say on picking up.
  const past = rankOf(card) >= TERMINAL;
  time.textContent = past ? when(card.received_at) : clock(card.received_at);
  showRingingFor(element, card);
  setText(element, "alerts", customer?.alerts || "");
  part(element, "alert").hidden = !customer?.alerts;

  slot(element, "greeting").textContent = past ? pastHeadline(card) : headline(card);
  setText(element, "pronunciation", customer?.pronunciation ? `Say it: ${customer.pronunciation}` : "");
  setText(element, "name", customer && !past ? customer.name : "");
  setText(element, "number", card.from && (customer || !past) ? caller.display : "");
  setText(element, "last", past ? "" : lastCall(customer));
  const where = [caller.place, caller.country, caller.line_type, caller.carrier].filter(Boolean);
  setText(element, "where", card.from ? where.join(" · ") : "");
  fillChips(slot(element, "chips"), customer);
  const result = past && outcome(card.outcome) ? ` · ${outcome(card.outcome)}` : "";
  setText(element, "answered", answeredText(card) + result);

  setText(element, "occasion", customer?.occasion || "");
  setText(element, "notes", customer?.notes || "");
  part(element, "notes").hidden = !customer?.notes;
  setText(element, "preferences", customer?.preferences || "");
  part(element, "preferences").hidden = !customer?.preferences;
  fillHistory(element, customer);
  part(element, "also").hidden = !(card.also && card.also.length);
  slot(element, "also").textContent = (card.also || []).map((other) => other.name).join(", ");
  part(element, "withheld").hidden = card.caller_kind !== "withheld";
  fillCallNotes(element, card, notes);
  part(element, "save-caller").hidden = Boolean(customer) || !card.from || test;

  const claim = element.querySelector('[data-action="claim"]');
  claim.hidden = rankOf(card) >= RANK["in-progress"] || Boolean(card.answered_by);
  element.querySelector('[data-action="edit"]').hidden = !customer || test;
  element.querySelector('[data-action="note"]').hidden = test;
  element.querySelector('[data-action="dismiss"]').hidden = !test;

  // Ringing cards show everything; answered and past ones fold up unless someone opened them.
  const open = expanded ?? state === "ringing";
  element.classList.toggle("is-collapsed", !open);
  const toggle = element.querySelector('[data-action="details"]');
  toggle.setAttribute("aria-expanded", String(open));
  toggle.textContent = open ? "Hide details" : "Show details";
  toggle.hidden = state === "ringing";
}

/** How long a ringing call has rung ("0:42"), in its band; empty once it is answered. */
export function showRingingFor(element, card, now = Date.now()) {
  const ringing = stateOf(card) === "ringing" && card.received_at;
  setText(element, "for", ringing ? `for ${elapsed(card.received_at, now)}` : "");
}

function fillChips(list, customer) {
  list.replaceChildren();
  if (!customer) {
    list.hidden = true;
    return;
  }
  if (customer.do_not_greet) list.append(item("li", "chip chip--quiet", "Do not greet by name"));
  for (const tag of customer.tags || []) list.append(item("li", "chip", tag));
  list.hidden = list.children.length === 0;
}

function fillHistory(element, customer) {
  const section = part(element, "history");
  const list = slot(element, "history");
  list.replaceChildren();
  if (!customer) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const count = customer.calls_count || 0;
  slot(element, "history-title").textContent = count
    ? `${plural(count, "earlier call")}`
    : "First call on record";
  for (const call of customer.recent_calls || []) {
    const row = document.createElement("li");
    row.className = "history__call";
    row.append(item("span", "history__when", day(call.received_at)));
    const what = call.is_missed ? "Missed" : outcome(call.outcome) || "Answered";
    row.append(item("span", `history__what${call.is_missed ? " is-missed" : ""}`, what));
    const who = answerer(call.answered_by);
    if (who && !call.is_missed) row.append(item("span", "history__who", `by ${who}`));
    for (const note of call.notes || []) row.append(item("span", "history__note", note));
    list.append(row);
  }
}

function fillCallNotes(element, card, notes) {
  const list = slot(element, "call-notes");
  list.replaceChildren();
  for (const note of notes) {
    const row = document.createElement("li");
    row.className = "call-note";
    row.append(item("span", "call-note__body", note.body));
    const by = [note.author, clock(note.created_at)].filter(Boolean).join(" · ");
    if (by) row.append(item("span", "call-note__by", by));
    list.append(row);
  }
  const label = outcome(card.outcome);
  setText(element, "outcome", label ? `Outcome: ${label}` : "");
  part(element, "call-notes").hidden = !label && notes.length === 0;
}
