// Call back in one click: start a call-back (POST /api/calls/<sid>/call-back) and follow it.
// The board follows call-backs through its event stream; the missed-calls and customer pages,
// which have none, ask GET /api/callbacks/<id> once a second until it has ended.

import { request } from "./http.js";

const FOLLOW_EVERY = 1000; // ms
const FOLLOW_FOR = 15 * 60000; // ms: a call-back with no news this long is over anyway

/** Ask for a call-back; resolves with its progress so far, rejects with the reason in words. */
export async function startCallBack(startUrl) {
  const answer = await request("POST", startUrl);
  return answer.callback;
}

/** Show ``callback.words`` in ``status`` until the call-back ends. */
async function follow(followUrl, callback, status) {
  const until = Date.now() + FOLLOW_FOR;
  let current = callback;
  status.textContent = current.words;
  while (current.status !== "ended" && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY));
    try {
      current = (await request("GET", followUrl + current.callback_id)).callback;
      status.textContent = current.words;
    } catch {
      // A moment offline: ask again at the next tick.
    }
  }
  return current;
}

/** Buttons with data-call-back="<start url>" and data-follow="<url without the id>", each
 * beside a role="status" element with data-call-back-status. */
function wirePageButtons() {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-call-back]");
    if (!button) return;
    const status = button.parentElement.querySelector("[data-call-back-status]");
    button.disabled = true;
    try {
      const callback = await startCallBack(button.dataset.callBack);
      await follow(button.dataset.follow, callback, status);
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
}

wirePageButtons();
