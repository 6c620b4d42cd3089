// How a ringing call gets attention: a chime made with WebAudio (no audio file), a browser
// notification when the board is not in front, and words for screen readers.

const SOUND_KEY = "callerid.sound";
let audio = null;
let soundOn = localStorage.getItem(SOUND_KEY) === "on";
const soundButton = document.getElementById("sound-toggle");
const soundLabel = document.getElementById("sound-label");
const soundHint = document.getElementById("sound-hint");

function context() {
  const AudioContext = window.AudioContext || window.webkitAudioContext;
  if (!audio && AudioContext) audio = new AudioContext();
  return audio;
}

function showSound() {
  soundButton.setAttribute("aria-pressed", String(soundOn));
  soundLabel.textContent = soundOn ? "Sound on" : "Sound off";
  // Browsers start audio only after someone has touched the page.
  soundHint.hidden = !(soundOn && audio && audio.state !== "running");
}

function unlock() {
  if (soundOn && context()?.state === "suspended") {
    audio.resume().then(showSound, showSound);
  }
}

/** Two soft bell tones, falling: noticeable at a busy desk, calm in a quiet one. */
export function chime() {
  if (!soundOn) return;
  const ac = context();
  if (!ac) return;
  if (ac.state === "suspended") ac.resume().catch(() => {});
  const start = ac.currentTime + 0.03;
  for (const [frequency, offset] of [[659.25, 0], [523.25, 0.32]]) {
    for (const [overtone, level] of [[1, 0.28], [2.01, 0.06]]) {
      const oscillator = ac.createOscillator();
      const gain = ac.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency * overtone;
      const at = start + offset;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(level, at + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 1.2);
      oscillator.connect(gain).connect(ac.destination);
      oscillator.start(at);
      oscillator.stop(at + 1.25);
    }
  }
}

export function setUpSound() {
  soundButton.addEventListener("click", () => {
    soundOn = !soundOn;
    localStorage.setItem(SOUND_KEY, soundOn ? "on" : "off");
    if (soundOn) {
      context()?.resume().finally(showSound);
      chime();
    }
    showSound();
  });
  for (const kind of ["pointerdown", "keydown"]) {
    document.addEventListener(kind, unlock, { capture: true, passive: true });
  }
  if (soundOn) context();
  showSound();
}

// Notifications: permission is asked only when someone presses the button, never on load.
const notifyButton = document.getElementById("notify-enable");
const notifyNote = document.getElementById("notify-note");

function showNotify() {
  let note = "";
  if (!("Notification" in window) || !window.isSecureContext) {
    note = "Notifications need HTTPS.";
  } else if (Notification.permission === "granted") {
    note = "Notifications on";
  } else if (Notification.permission === "denied") {
    note = "Notifications are blocked in this browser's settings.";
  }
  notifyButton.hidden = note !== "";
  notifyNote.hidden = note === "";
  notifyNote.textContent = note;
}

export function setUpNotifications() {
  notifyButton.addEventListener("click", async () => {
    await Notification.requestPermission();
    showNotify();
  });
  showNotify();
}

/** Tell someone who is looking at another window; the tag keeps one notification per call. */
export function notify(title, body, tag) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  try {
    const notification = new Notification(title, { body, tag });
    notification.addEventListener("click", () => {
      window.focus();
      notification.close();
    });
  } catch {
    // Some platforms only allow notifications from a service worker; the card is enough.
  }
}

const regions = {
  call: document.getElementById("announce-calls"),
  change: document.getElementById("announce-changes"),
};

const CALLS_KEPT = 5;

/**
 * Say ``text`` to screen readers. "call" interrupts and queues: each call is a new line added to
 * the region, so a second call ringing a moment later is read after the first, not instead of
 * it. "change" waits its turn and replaces what it said before.
 */
export function announce(text, kind = "change") {
  const region = regions[kind];
  if (kind === "call") {
    const line = document.createElement("p");
    line.textContent = text;
    region.append(line);
    while (region.children.length > CALLS_KEPT) region.firstElementChild.remove();
    return;
  }
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}
