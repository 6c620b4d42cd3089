// One-key shortcuts for the host with the phone in one hand: take the longest-ringing call, add a
// note, and "?" for the list. Keys typed into a field are the field's; one-key shortcuts can be
// turned off per screen (WCAG 2.1.4), since they can clash with a screen reader's own keys.

const KEY = "callerid.shortcuts";
const dialog = document.getElementById("shortcuts");
const toggle = document.getElementById("shortcuts-on");

function enabled() {
  return localStorage.getItem(KEY) !== "off";
}

// Fields that take typed text; a focused checkbox or button does not (and a dialog just closed
// may leave focus on its checkbox for a moment).
const TEXT_ENTRY =
  "input:not([type=checkbox], [type=radio], [type=button], [type=submit], [type=reset]), " +
  "textarea, select, [contenteditable='true']";

function typing(target) {
  return Boolean(target.closest?.(TEXT_ENTRY));
}

export function showHelp() {
  toggle.checked = enabled();
  if (!dialog.open) dialog.showModal();
}

/** ``actions``: {claim(), note()}, each doing its work and saying so if there is nothing to do. */
export function setUpShortcuts(actions) {
  toggle.addEventListener("change", () => localStorage.setItem(KEY, toggle.checked ? "on" : "off"));
  document.getElementById("shortcuts-open").addEventListener("click", showHelp);
  document.getElementById("shortcuts-close").addEventListener("click", () => dialog.close());
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (typing(event.target) || dialog.open) return;
    const action = { "?": showHelp, c: actions.claim, n: actions.note }[event.key];
    if (!action || (event.key !== "?" && !enabled())) return;
    event.preventDefault(); // the key must not land in the note field it opens
    action();
  });
}
