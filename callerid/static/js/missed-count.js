// The number beside "Missed calls" in the top bar: refetched (once per burst of events) when a
// call ends missed or someone calls a caller back, so it never needs a page reload.

import { request } from "./http.js";

const WAIT = 300; // ms: a replay after a reconnect brings many events; fetch once after them
let timer = 0;

function show(count) {
  const badge = document.querySelector("[data-missed-count]");
  if (!badge) return;
  badge.querySelector("[data-missed-number]").textContent = String(count);
  badge.hidden = count === 0;
}

async function fetchCount() {
  const badge = document.querySelector("[data-missed-count]");
  if (!badge) return;
  try {
    const answer = await request("GET", badge.dataset.missedCount);
    show(answer.open_callers); // callers, as /missed lists them
  } catch {
    // Offline or logged out: the stream's own status says so; the next event tries again.
  }
}

/** Refetch the count soon; several calls in a row cost one request. */
export function refreshMissedCount() {
  clearTimeout(timer);
  timer = setTimeout(fetchCount, WAIT);
}

/** Whether an event from /events can change the count. */
export function changesMissedCount(kind, data) {
  return kind === "call.called_back" || (kind === "call.ended" && Boolean(data.is_missed));
}
