// JSON requests from the board: session cookie plus the CSRF token in an X-CSRFToken header.

const body = document.body.dataset;
let token = document.querySelector('meta[name="csrf-token"]')?.content || "";

export class RequestFailed extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Use a fresh token for JSON writes and for the logout form (tokens expire after an hour). */
export function setToken(value) {
  if (!value) return;
  token = value;
  for (const field of document.querySelectorAll("[data-csrf-field]")) field.value = value;
}

// Set while the page is going away (a link, "Log out"): a request refused with 401 because of
// that logout must not send the screen to the login page over the navigation already under way.
let leaving = false;
window.addEventListener("beforeunload", () => {
  leaving = true;
});
window.addEventListener("pageshow", () => {
  leaving = false;
});

export function toLogin() {
  if (!leaving) window.location.assign(body.loginUrl);
}

export async function refreshToken() {
  const data = await request("GET", body.tokenUrl);
  setToken(data.csrf_token);
}

/**
 * Send a JSON request; resolve with the parsed answer (null for 204). A 401 sends the screen to
 * the login page; an expired CSRF token is refreshed and the request retried once.
 */
export async function request(method, url, payload, { keepalive = false, retry = true } = {}) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    keepalive,
    headers: {
      Accept: "application/json",
      ...(payload === undefined ? {} : { "Content-Type": "application/json" }),
      ...(method === "GET" ? {} : { "X-CSRFToken": token }),
    },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (response.ok) return data;
  const message = data?.error?.message || `The server answered ${response.status}.`;
  if (response.status === 401) {
    toLogin();
  } else if ((response.status === 400 || response.status === 403) && retry && /csrf/i.test(message)) {
    await refreshToken();
    return request(method, url, payload, { keepalive, retry: false });
  }
  throw new RequestFailed(response.status, message);
}

/** The URL in data-<name>-url on <body> for this call or customer. */
export function url(name, callSid = "") {
  return body[`${name}Url`].replace("CALL_SID", encodeURIComponent(callSid));
}
