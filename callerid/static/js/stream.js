// The live connection: one EventSource per browser, shared by every board tab.
//
// Browsers open at most six HTTP/1.1 connections per host and each open stream holds one, so a
// seventh board tab would never load. One tab leads (it holds a Web Lock), follows /events and
// relays every event over a BroadcastChannel; the others listen. When the leader closes, the
// next tab takes the lock and resumes from the last event id it saw, so nothing is missed.
// Without Web Locks (plain http on a LAN address is not a secure context) every tab connects.

export const KINDS = [
  "call.ringing",
  "call.answered",
  "call.ended",
  "call.noted",
  "call.claimed",
  "call.called_back",
  "customer.updated",
  "callback.started",
  "callback.answered",
  "callback.ended",
  "text.received",
];
const LOCK = "callerid-board-stream";
const CHANNEL = "callerid-board";
// A 5 s timer that fires this late means the computer slept (hidden tabs run timers only once a
// minute, so less would reconnect every minute).
const SLEEP_GAP = 90000;

/** Retry-After as seconds: a number of seconds or an HTTP date; null when absent or unreadable. */
function seconds(header) {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

/**
 * The shared stream. Relayed events that arrive before ``start(after)`` are kept, so that none
 * falls between the snapshot and the stream. ``onEvent(kind, data, id)`` gets each event once,
 * in order; ``onStatus(status)`` gets "connecting", "open", "busy" (the server asked us to come
 * back later) or "offline"; ``onSignedOut()`` is called when the server says the login ended.
 */
export function createStream({ url, onEvent, onStatus, onSignedOut }) {
  let lastId = 0;
  let started = false;
  const early = [];
  let source = null;
  let leading = false;
  let status = "connecting";
  let retryDelay = 2000;
  let retryTimer = 0;
  const channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;
  // The page is going (a link, "Log out"): the stream closing is no news, and asking /events
  // why would answer 401 after a logout and send the screen to the login page a second time.
  let leaving = false;
  window.addEventListener("beforeunload", () => {
    leaving = true;
  });
  window.addEventListener("pageshow", () => {
    leaving = false; // back from the back-forward cache
  });

  function setStatus(next) {
    status = next;
    onStatus(next);
    if (leading && channel) channel.postMessage({ type: "status", status: next });
  }

  function deliver(kind, data, id) {
    if (id <= lastId) return; // replayed after a reconnect, or already in the snapshot
    lastId = id;
    onEvent(kind, data, id);
  }

  function open() {
    clearTimeout(retryTimer);
    if (source) source.close();
    if (!navigator.onLine) {
      setStatus("offline");
      return;
    }
    setStatus("connecting");
    // after= is only for this first request: on its own reconnects the browser sends
    // Last-Event-ID, which the server prefers.
    const stream = new EventSource(`${url}?after=${lastId}`);
    source = stream;
    stream.addEventListener("stream.open", () => {
      retryDelay = 2000;
      setStatus("open");
    });
    for (const kind of KINDS) {
      stream.addEventListener(kind, (message) => {
        const id = Number(message.lastEventId);
        if (channel && id > lastId) channel.postMessage({ type: "event", kind, data: message.data, id });
        deliver(kind, JSON.parse(message.data), id);
      });
    }
    stream.addEventListener("error", () => {
      if (stream.readyState === EventSource.CONNECTING) {
        setStatus("connecting"); // the browser retries by itself
        return;
      }
      // Closed for good: the server answered something other than a stream. EventSource never
      // retries then, nor says what the answer was, so ask once more and act on the status.
      stream.close();
      recover();
    });
  }

  /** Why /events refused: its status and Retry-After (seconds), or status 0 for no answer. */
  async function refusal() {
    const controller = new AbortController();
    try {
      const response = await fetch(`${url}?after=${lastId}`, {
        credentials: "same-origin",
        headers: { Accept: "text/event-stream" },
        signal: controller.signal,
      });
      controller.abort(); // only the status was wanted, not a second stream
      return { status: response.status, retryAfter: seconds(response.headers.get("Retry-After")) };
    } catch {
      return { status: 0, retryAfter: null };
    }
  }

  async function recover() {
    if (!leading || leaving) return;
    const { status: answer, retryAfter } = await refusal();
    if (leaving) return;
    if (answer === 401) {
      onSignedOut();
      return;
    }
    if (answer >= 200 && answer < 300) {
      open(); // it was passing: the server takes the stream now
      return;
    }
    const busy = answer === 429 || answer === 503;
    setStatus(busy ? "busy" : "offline");
    // Retry-After is the least we wait; each failure in a row doubles the wait (up to 30 s).
    const wait = Math.max((retryAfter ?? 0) * 1000, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
    retryTimer = setTimeout(open, wait);
  }

  function lead() {
    leading = true;
    open();
    window.addEventListener("offline", () => {
      if (source) source.close();
      setStatus("offline");
    });
    window.addEventListener("online", () => open());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && status !== "open") open();
    });
    let tick = Date.now();
    setInterval(() => {
      const now = Date.now();
      // Back from sleep: the old connection may be dead without knowing it. Start afresh.
      if (now - tick > SLEEP_GAP) open();
      tick = now;
    }, 5000);
  }

  const shared = Boolean(channel && navigator.locks);
  if (shared) {
    channel.addEventListener("message", ({ data: message }) => {
      if (message.type === "event" && !leading) {
        if (!started) early.push(message);
        else deliver(message.kind, JSON.parse(message.data), message.id);
      } else if (message.type === "status" && !leading) {
        onStatus(message.status);
      } else if (message.type === "hello" && leading) {
        channel.postMessage({ type: "status", status });
      }
    });
  }

  return {
    /** Begin from event id ``after``: lead if no other tab does, else listen to the leader. */
    start(after) {
      lastId = after;
      started = true;
      for (const message of early.splice(0)) {
        deliver(message.kind, JSON.parse(message.data), message.id);
      }
      if (!shared) {
        lead();
        return;
      }
      onStatus("connecting");
      channel.postMessage({ type: "hello" });
      // The callback's promise never settles: this tab leads until it closes.
      navigator.locks.request(LOCK, () => new Promise(() => lead()));
    },
  };
}
