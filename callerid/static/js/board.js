// The front-desk board: a card per call, kept up to date from the snapshot and the event stream.

import { announce, chime, notify, setUpNotifications, setUpSound } from "./alerts.js";
import {
  TERMINAL,
  answeredText,
  createCardElement,
  fill,
  headline,
  rankOf,
  showRingingFor,
  stateOf,
} from "./card.js";
import { refreshToken, request, setToken, toLogin, url } from "./http.js";
import { addLines, isWatched, onChange } from "./lines.js";
import { changesMissedCount, refreshMissedCount } from "./missed-count.js";
import { startCallBack } from "./callback.js";
import { nameTyped } from "./attach.js";
import { sampleCard } from "./sample.js";
import { setUpShortcuts } from "./shortcuts.js";
import { createStream } from "./stream.js";

const RECENT_MAX = 12;
const CALL_BACKS_MAX = 5; // call-backs listed, the latest first
// The customer's text fields the card's edit form changes (PATCH /board/customers/<id>).
const TEXT_FIELDS = ["name", "salutation", "preferred_name", "alerts", "pronunciation", "notes", "preferences"];
const ALERT_WITHIN = 120000; // ms: a call ringing longer than this when the page opens gets no chime
const TOKEN_EVERY = 30 * 60000; // CSRF tokens last an hour; the board stays open for days
// A call still "ringing" after this long lost its callbacks; the server's snapshot drops it too.
const RINGING_FOR = 10 * 60000;

const body = document.body;
const liveList = document.getElementById("live-cards");
const recentList = document.getElementById("recent-cards");
const entries = new Map(); // call_sid -> {card, element, notes, expanded, test, order, shownAt}
let serial = 0;
let me = "";
const SCREEN = screenId();

/** This tab's own id: "who claimed a call" is the screen, since several share one login.
 * sessionStorage belongs to the tab and survives a reload. */
function screenId() {
  const key = "callerid.screen";
  let id = sessionStorage.getItem(key);
  if (!id) {
    id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    sessionStorage.setItem(key, id);
  }
  return id;
}

/** Ringing cards are open; an answered one stays open on every screen unless someone claimed
 * it, and then only on the screen that did; past calls fold. */
function isOpen(entry) {
  const state = stateOf(entry.card);
  if (state === "ringing") return true;
  if (state !== "answered") return false;
  return !entry.claimed || entry.claimed.screen === SCREEN;
}

const STATUS_WORDS = {
  open: "Live",
  connecting: "Connecting…",
  busy: "Server busy · retrying",
  offline: "Offline · retrying",
};
// A screen without its stream this long says so across the whole width: the small status pill
// is easy to miss, and "Calls now" would still promise a card.
const WARN_AFTER = 5000;
const WARNINGS = {
  offline:
    "This screen is not connected, so new calls do not show here. Check this device's network " +
    "or Wi-Fi. It reconnects by itself and then shows every call it missed.",
  connecting:
    "This screen lost its connection to callerid, so new calls do not show here. It keeps " +
    "trying and then shows every call it missed; if this stays, check the network.",
  busy:
    "The callerid server is busy and asked this screen to wait, so new calls do not show here " +
    "yet. It reconnects by itself in a moment and then shows every call it missed.",
};
let warnTimer = 0;

function setStatus(status) {
  body.dataset.stream = status;
  document.getElementById("connection-text").textContent = STATUS_WORDS[status];
  const banner = document.getElementById("offline-banner");
  if (status === "open") {
    clearTimeout(warnTimer);
    warnTimer = 0;
    banner.hidden = true;
    return;
  }
  if (!banner.hidden) banner.textContent = WARNINGS[status];
  if (!warnTimer && banner.hidden) {
    warnTimer = setTimeout(() => {
      banner.textContent = WARNINGS[body.dataset.stream] || WARNINGS.offline;
      banner.hidden = false;
    }, WARN_AFTER);
  }
}

/** Who the card is about, in a few words: for notifications and screen readers. */
function caller(card) {
  const number = card.from ? card.caller?.display : "";
  const line = card.line ? card.line.label || card.line.number : "";
  const customer = card.customer || {};
  return [
    headline(card),
    customer.name,
    customer.vip && "VIP",
    customer.alerts && `Alert: ${customer.alerts}`,
    number,
    line && `on ${line}`,
  ]
    .filter(Boolean)
    .join(", ");
}

/**
 * Add or redraw the card of ``card.call_sid``. A call never moves back (a replayed "ringing"
 * after "answered" only refreshes who the caller is); "answered by" once known is kept.
 */
function upsert(card, { kind = "snapshot", notes = [], test = false } = {}) {
  let entry = entries.get(card.call_sid);
  const before = entry ? stateOf(entry.card) : null;
  if (!entry) {
    // Notes and customer changes redraw cards on screen; they never bring back old calls.
    if (kind === "call.noted" || kind === "customer.updated") return;
    serial += 1;
    entry = { card, element: createCardElement(), notes: new Map(), expanded: null, test };
    entry.order = serial;
    entries.set(card.call_sid, entry);
  } else if (rankOf(card) < rankOf(entry.card)) {
    const { customer, greeting, also } = card;
    entry.card = { ...entry.card, customer, greeting, also };
  } else {
    entry.card = { ...entry.card, ...card, answered_by: card.answered_by || entry.card.answered_by };
  }
  if (card.claimed) entry.claimed = card.claimed;
  for (const note of [...(card.call_notes || []), ...notes]) entry.notes.set(note.id, note);
  if (card.line) addLines([card.line]);
  render(entry);
  const after = stateOf(entry.card);
  if (before && before !== after && !entry.element.hidden) {
    announce(`${caller(entry.card)}: ${answeredText(entry.card)}.`);
  }
}

function render(entry) {
  const { element, card } = entry;
  const expanded = entry.expanded ?? isOpen(entry);
  fill(element, card, { notes: [...entry.notes.values()], test: entry.test, expanded });
  // An ended call from a number someone can ring: one click calls them back.
  const callBack = element.querySelector('[data-action="call-back"]');
  callBack.hidden =
    body.dataset.callBacks !== "on" || entry.test || !card.from || rankOf(card) < TERMINAL;
  // The caller texted after this call (text.received): a badge with what they wrote.
  const reply = element.querySelector('[data-slot="reply"]');
  reply.hidden = !entry.reply;
  reply.textContent = entry.reply ? `Texted back: “${entry.reply.body}”` : "";
  element.hidden = !isWatched(card.line);
  place(entry);
  if (!element.hidden) firstShown(entry);
  showEmpty();
}

function newer(a, b) {
  const at = a.card.received_at || "";
  const bt = b.card.received_at || "";
  return at > bt || (at === bt && a.order > b.order);
}

/** Whether ``a`` goes above ``b`` on the board. Hosts answer in ring order: live calls put
 * ringing ones first, oldest first; the recent strip is newest first. */
function before(a, b, live) {
  if (!live) return newer(a, b);
  const ringingA = stateOf(a.card) === "ringing";
  const ringingB = stateOf(b.card) === "ringing";
  if (ringingA !== ringingB) return ringingA;
  return newer(b, a);
}

/** Live calls on top, ended ones in the recent strip. */
function place(entry) {
  const live = rankOf(entry.card) < TERMINAL;
  const list = live ? liveList : recentList;
  const { element } = entry;
  let next = null;
  for (const other of list.children) {
    if (other !== element && before(entry, entries.get(other.dataset.callSid), live)) {
      next = other;
      break;
    }
  }
  if (element.parentElement === list && element.nextElementSibling === next) return;
  const focused = element.contains(document.activeElement) ? document.activeElement : null;
  list.insertBefore(element, next);
  if (focused) focused.focus({ preventScroll: true });
  while (recentList.children.length > RECENT_MAX) {
    const oldest = recentList.lastElementChild;
    entries.delete(oldest.dataset.callSid);
    oldest.remove();
  }
}

// Cards shown whole when many ring; later ones shrink to a row (see fitCards).
const WHOLE_CARDS = 3;

/** Several calls ringing: compact cards, so every caller's greeting and claim button fit on one
 * screen; an answered card beside ringing ones shrinks to what the talk needs. Past three, the
 * later callers shrink to their band, alert line, greeting and claim button, so that ten fit in
 * one scroll. */
function fitCards() {
  const shown = [...liveList.children].filter((element) => !element.hidden);
  const ringing = shown.filter((element) => element.dataset.state === "ringing");
  liveList.classList.toggle("cards--many", ringing.length >= 2);
  liveList.classList.toggle("cards--busy", ringing.length >= 1 && shown.length > ringing.length);
  for (const element of liveList.children) {
    element.classList.toggle("card--mini", ringing.indexOf(element) >= WHOLE_CARDS);
  }
}

function tick() {
  const now = Date.now();
  for (const element of liveList.children) {
    const entry = entries.get(element.dataset.callSid);
    if (entry && element.dataset.state === "ringing") showRingingFor(element, entry.card, now);
  }
}

function showEmpty() {
  fitCards();
  const visible = (list) => [...list.children].some((element) => !element.hidden);
  document.getElementById("live-empty").hidden = visible(liveList);
  document.getElementById("recent-empty").hidden = visible(recentList);
}

/** The first time this screen shows a ringing card: tell the server (screen-pop time), ring. */
function firstShown(entry) {
  if (entry.shownAt) return;
  entry.shownAt = Math.round(performance.timeOrigin + performance.now());
  entry.element.dataset.shownAt = String(entry.shownAt);
  const { card } = entry;
  if (stateOf(card) !== "ringing") return;
  if (!entry.test) {
    request("POST", url("shown", card.call_sid), undefined, { keepalive: true }).catch(() => {});
  }
  if (Date.now() - Date.parse(card.received_at) < ALERT_WITHIN) {
    chime();
    notify(headline(card), caller(card), card.call_sid);
    announce(`Incoming call: ${caller(card)}.`, "call");
  }
}

/** A call-back's progress, one line each: "Calling back Anna Moors, by desk: ringing …". */
function showCallBack(data) {
  const list = document.getElementById("callback-list");
  let item = list.querySelector(`[data-callback-id="${data.callback_id}"]`);
  if (!item) {
    item = document.createElement("li");
    item.className = "callbacks__item";
    item.dataset.callbackId = String(data.callback_id);
    list.prepend(item);
  }
  item.dataset.status = data.status;
  item.textContent = data.words;
  while (list.children.length > CALL_BACKS_MAX) list.lastElementChild.remove();
  document.getElementById("callbacks").hidden = false;
}

async function callBack(entry, button) {
  button.disabled = true;
  try {
    const callback = await startCallBack(url("callBack", entry.card.call_sid));
    status(entry, callback.words);
    showCallBack(callback);
  } catch (error) {
    status(entry, error.message);
  } finally {
    button.disabled = false;
  }
}

function onEvent(kind, data) {
  if (changesMissedCount(kind, data)) refreshMissedCount();
  if (kind === "text.received") {
    const entry = entries.get(data.call_sid);
    if (entry) {
      entry.reply = data;
      render(entry);
      announce(`${caller(entry.card)} texted back: ${data.body}`);
    }
    return;
  }
  if (kind.startsWith("callback.")) {
    showCallBack(data); // a call we place: never a card, never a caller ringing
    return;
  }
  if (kind === "call.called_back") return; // no card to draw: only the count changes
  if (kind === "call.claimed") {
    const entry = entries.get(data.call_sid);
    if (entry) {
      entry.claimed = data;
      render(entry);
    }
    return;
  }
  if (kind === "customer.updated") {
    for (const card of data.cards || []) upsert(card, { kind });
  } else if (kind === "call.noted") {
    upsert(data, { kind, notes: data.note ? [data.note] : [] });
  } else {
    upsert(data, { kind });
  }
}

function status(entry, text) {
  entry.element.querySelector('[data-slot="card-status"]').textContent = text;
}

async function claim(entry, button) {
  const { card } = entry;
  if (entry.test) {
    entry.claimed = { claimed_by: me, screen: SCREEN };
    upsert({ ...card, status: "in-progress", answered_by: `${me} (test)` }, { kind: "local" });
    return;
  }
  button.disabled = true;
  try {
    const answer = await request("POST", url("claim", card.call_sid), { screen: SCREEN });
    if (answer.claimed) entry.claimed = { claimed_by: answer.answered_by, screen: SCREEN };
    upsert({ ...card, status: answer.status, answered_by: answer.answered_by }, { kind: "local" });
    // The button is gone now: keep the keyboard on this card.
    if (document.activeElement === button || button.hidden) {
      entry.element.querySelector('[data-action="note"]').focus();
    }
  } catch (error) {
    status(entry, `Could not take the call: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

function form(entry, name) {
  return entry.element.querySelector(`form[data-form="${name}"]`);
}

function openForm(entry, name, open) {
  const target = form(entry, name);
  const button = entry.element.querySelector(`[data-action="${name}"]`);
  target.hidden = !open;
  button.setAttribute("aria-expanded", String(open));
  if (open) {
    if (name === "edit") prefill(target, entry.card.customer);
    target.querySelector("input:not([type=hidden]), textarea").focus();
  } else {
    button.focus();
  }
}

function prefill(target, customer) {
  for (const field of TEXT_FIELDS) {
    target.elements[field].value = customer[field] || "";
  }
  target.elements.vip.checked = Boolean(customer.vip);
  target.elements.do_not_greet.checked = Boolean(customer.do_not_greet);
  target.querySelector('[data-slot="edit-status"]').textContent = "";
}

async function submit(entry, target) {
  const { card } = entry;
  const name = target.dataset.form;
  const say = (text) => {
    target.querySelector('[role="status"]').textContent = text;
  };
  const button = target.querySelector('button[type="submit"]');
  button.disabled = true;
  say("Saving…");
  try {
    if (name === "save-caller") {
      const saved = await request("POST", url("caller", card.call_sid), {
        name: target.elements.name.value,
      });
      say(`Saved. Next time: "Welcome back".`);
      announce(`Saved ${saved.name}.`);
    } else if (name === "note") {
      const choice = target.querySelector('input[name="outcome"]:checked');
      const answer = await request("POST", url("notes", card.call_sid), {
        body: target.elements.body.value,
        ...(choice ? { outcome: choice.value } : {}),
      });
      upsert({ ...entry.card, outcome: answer.outcome }, { kind: "local", notes: answer.note ? [answer.note] : [] });
      target.reset();
      say("");
      openForm(entry, "note", false);
      status(entry, "Note saved.");
    } else if (name === "edit") {
      const fields = target.elements;
      await request("PATCH", body.dataset.customerUrl + card.customer.id, {
        ...Object.fromEntries(TEXT_FIELDS.map((field) => [field, fields[field].value])),
        vip: fields.vip.checked,
        do_not_greet: fields.do_not_greet.checked,
      });
      say("");
      openForm(entry, "edit", false);
      status(entry, "Customer saved.");
    }
  } catch (error) {
    say(error.message);
  } finally {
    button.disabled = false;
  }
}

function entryOf(node) {
  const element = node.closest(".card");
  return element ? entries.get(element.dataset.callSid) : null;
}

function wire() {
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    const entry = button && entryOf(button);
    if (!entry) return;
    const action = button.dataset.action;
    if (action === "claim") claim(entry, button);
    if (action === "call-back") callBack(entry, button);
    if (action === "details") {
      entry.expanded = entry.element.classList.contains("is-collapsed");
      render(entry);
    }
    if (action === "note" || action === "edit") openForm(entry, action, form(entry, action).hidden);
    if (action === "note-cancel") openForm(entry, "note", false);
    if (action === "edit-cancel") openForm(entry, "edit", false);
    if (action === "dismiss") {
      entries.delete(entry.card.call_sid);
      entry.element.remove();
      showEmpty();
      document.querySelector("#tools > summary").focus();
    }
  });
  document.addEventListener("submit", (event) => {
    const target = event.target.closest("form[data-form]");
    const entry = target && entryOf(target);
    if (!entry) return;
    event.preventDefault();
    submit(entry, target);
  });
  document.addEventListener("input", (event) => {
    const field = event.target.closest?.('form[data-form="save-caller"] input[name="name"]');
    const entry = field && entryOf(field);
    if (entry && !entry.test) {
      nameTyped(entry.element, entry.card.call_sid, field.value, () => form(entry, "save-caller").reset());
    }
  });
  document.addEventListener("keydown", (event) => {
    const target = event.key === "Escape" && event.target.closest?.("form[data-form]");
    const entry = target && entryOf(target);
    if (entry && (target.dataset.form === "note" || target.dataset.form === "edit")) {
      openForm(entry, target.dataset.form, false);
    }
  });
  document.getElementById("test-call").addEventListener("click", () => {
    upsert(sampleCard(), { kind: "test", test: true });
  });
  onChange(() => {
    for (const entry of entries.values()) render(entry);
  });
}

function shownEntries() {
  return [...liveList.children]
    .filter((element) => !element.hidden)
    .map((element) => entries.get(element.dataset.callSid))
    .filter(Boolean);
}

/** "c": "I've got it" for the call that has rung longest (the first ringing card). */
function claimLongestRinging() {
  const entry = shownEntries().find((e) => stateOf(e.card) === "ringing");
  if (!entry) {
    announce("No call is ringing.");
    return;
  }
  claim(entry, entry.element.querySelector('[data-action="claim"]'));
}

/** "n": a note on the call this screen took, else the first call on the board. */
function noteCurrentCall() {
  const shown = shownEntries();
  const entry = shown.find((e) => e.claimed?.screen === SCREEN) || shown[0];
  if (!entry || entry.test) {
    announce("No call to add a note to.");
    return;
  }
  openForm(entry, "note", true);
}

function dropStaleRinging() {
  for (const entry of [...entries.values()]) {
    const age = Date.now() - Date.parse(entry.card.received_at);
    if (stateOf(entry.card) === "ringing" && !entry.test && age > RINGING_FOR) {
      entries.delete(entry.card.call_sid);
      entry.element.remove();
    }
  }
  showEmpty();
}

async function snapshot() {
  for (let delay = 2000; ; delay = Math.min(delay * 2, 30000)) {
    try {
      return await request("GET", body.dataset.liveUrl);
    } catch {
      setStatus("offline");
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

async function start() {
  setUpSound();
  setUpNotifications();
  wire();
  setUpShortcuts({ claim: claimLongestRinging, note: noteCurrentCall });
  const stream = createStream({
    url: body.dataset.eventsUrl,
    onEvent,
    onStatus: setStatus,
    onSignedOut: toLogin,
  });
  const first = await snapshot();
  me = first.user.name;
  setToken(first.csrf_token);
  addLines(first.lines);
  for (const card of [...first.recent].reverse()) upsert(card);
  for (const card of [...first.live].reverse()) upsert(card);
  for (const callback of first.callbacks) showCallBack(callback); // oldest first: newest on top
  body.dataset.ready = "true";
  stream.start(first.position);
  refreshMissedCount(); // calls may have been missed since the page was drawn
  setInterval(() => refreshToken().catch(() => {}), TOKEN_EVERY);
  setInterval(dropStaleRinging, 30000);
  setInterval(tick, 1000);
}

start();
