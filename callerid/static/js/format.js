// How times, durations and call states read on the board.

const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });

export function clock(iso) {
  return iso ? clockFormat.format(new Date(iso)) : "";
}

/** "Today 18:02", "Yesterday", "Fri 20 Nov". */
export function day(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (when.toDateString() === today.toDateString()) return `Today ${clock(iso)}`;
  if (when.toDateString() === yesterday.toDateString()) return `Yesterday ${clock(iso)}`;
  return dayFormat.format(when);
}

/** "Today 6:02 PM", "Yesterday 11:30 PM", "Fri, Nov 20, 11:30 PM": when a past call came. */
export function when(iso) {
  if (!iso) return "";
  const label = day(iso);
  return /^(Today|Yesterday) /.test(label) ? label : `${label}, ${clock(iso)}`;
}

/** "earlier today", "yesterday", "3 days ago", "3 weeks ago", "2 months ago": calendar days,
 * in this screen's time zone. */
export function since(iso, now = new Date()) {
  if (!iso) return "";
  const then = new Date(iso);
  const midnight = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((midnight(now) - midnight(then)) / 86400000);
  if (days <= 0) return "earlier today";
  if (days === 1) return "yesterday";
  if (days < 14) return `${days} days ago`;
  if (days < 60) return `${Math.floor(days / 7)} weeks ago`;
  if (days < 365) return `${Math.floor(days / 30)} months ago`;
  return "over a year ago";
}

/** "just now", "4 min ago", "2 h ago" for the recent strip. */
export function ago(iso, now = Date.now()) {
  if (!iso) return "";
  const minutes = Math.floor((now - new Date(iso).getTime()) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  return `${Math.floor(minutes / 60)} h ago`;
}

/** "0:07", "2:15", "1:02:03": how long since ``iso``, ticking on a ringing card. */
export function elapsed(iso, now = Date.now()) {
  const total = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

export function duration(seconds) {
  if (seconds == null) return "";
  const s = Number(seconds);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

const OUTCOMES = { booking: "Booking", question: "Question", complaint: "Complaint", other: "Other" };

export function outcome(value) {
  return OUTCOMES[value] || "";
}

/** Desks answered by a phone number show as "the desk phone"; named desks and people by name. */
export function answerer(answeredBy) {
  if (!answeredBy) return "";
  // A phone system's extension ("101", api/phone/events), not a number the desk dialled.
  if (/^\d{1,6}$/.test(answeredBy)) return `extension ${answeredBy}`;
  return /^[+\d][\d\s()-]*$/.test(answeredBy) ? "the desk phone" : answeredBy;
}
