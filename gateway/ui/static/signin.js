// Admin page sign-in with a session cookie: password (UI_USERNAME/UI_PASSWORD), LiteLLM's
// SSO (/sso/key/generate), the signed-in person's role, and sign-out. app.js asks this file
// (sessionHeaders, signedInBySession, sessionMayChange, endSession) and keeps its own
// master-key and PKCE sign-in. The cookie is HttpOnly: the page only ever sees the CSRF
// token, which every change it makes carries.
"use strict";

const signin = { session: null, options: { password: false, sso: null } };
// Which sections each role may open (the API enforces the same; this only tidies the page).
const SECTIONS_BY_ROLE = {
  proxy_admin: null, // all
  proxy_admin_viewer: ["keys", "teams", "spend"],
  internal_user: ["keys", "spend"],
  internal_user_viewer: ["keys", "spend"],
};

const bySession = () => Boolean(signin.session) && !state.key;
function signedInBySession() { return bySession(); }
function sessionMayChange() { return !bySession() || Boolean(signin.session.may_change); }
function sessionHeaders(method) {
  if (!bySession() || method === "GET") return {};
  return { "x-csrf-token": signin.session.csrf_token };
}
function sessionSections() {
  if (!bySession()) return null;
  const role = signin.session.role;
  return role in SECTIONS_BY_ROLE ? SECTIONS_BY_ROLE[role] : [];
}

async function loadSession() {
  try {
    const data = await (await fetch("/ui/session", { cache: "no-store" })).json();
    signin.options = data.sign_in || signin.options;
    signin.session = data.signed_in ? data : null;
  } catch { signin.session = null; }
}

function showRole() {
  let who = document.getElementById("whoami");
  if (!who) {
    who = h("span", { id: "whoami", class: "muted" });
    document.getElementById("nav").prepend(who);
  }
  const sections = sessionSections();
  who.hidden = !bySession();
  who.textContent = bySession() ? `${signin.session.user_id} (${signin.session.role})` : "";
  if (bySession()) document.body.dataset.role = signin.session.role; else delete document.body.dataset.role;
  for (const link of document.querySelectorAll("#nav a")) {
    const name = link.getAttribute("href").replace(/^#\//, "");
    link.hidden = sections !== null && !sections.includes(name);
  }
  if (sections !== null) {
    const current = location.hash.replace(/^#\//, "").split("?")[0];
    if (!sections.includes(current)) history.replaceState(null, "", `#/${sections[0]}`);
  }
}

async function endSession() {
  if (!signin.session) return;
  const token = signin.session.csrf_token;
  signin.session = null;
  showRole();
  try { await fetch("/ui/logout", { method: "POST", headers: { "x-csrf-token": token } }); } catch { /* the cookie expires anyway */ }
}

function signInError(message) { document.getElementById("sign-in-error").textContent = message; }

function passwordForm() {
  return h("form", { id: "password-form", onsubmit: async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    const response = await fetch("/ui/login", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: f.get("username"), password: f.get("password") }),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      signInError((data && data.error && data.error.message) || `Sign-in failed (HTTP ${response.status}).`);
      event.target.elements.password.value = "";
      return;
    }
    event.target.reset();
    signInError("");
    state.key = "";
    signin.session = data;
    showRole();
    if (!location.hash) history.replaceState(null, "", "#/models");
    showRole();
    render();
  } },
  h("label", { for: "ui-username" }, "Username"),
  h("input", { id: "ui-username", name: "username", autocomplete: "username", required: true }),
  h("label", { for: "ui-password" }, "Password"),
  h("input", { id: "ui-password", name: "password", type: "password", autocomplete: "current-password", required: true }),
  h("button", { type: "submit" }, "Sign in with password"));
}

document.addEventListener("DOMContentLoaded", async () => {
  const params = new URLSearchParams(location.search);
  const ssoError = params.get("sso_error");
  if (ssoError) history.replaceState(null, "", "/ui");
  await loadSession();
  const box = document.getElementById("sign-in");
  if (signin.options.password) box.append(h("h2", {}, "Username and password"), passwordForm());
  if (signin.options.sso) {
    box.append(h("p", {}, h("button", { type: "button", id: "sso-sign-in", class: "secondary",
      onclick: () => location.assign(signin.options.sso) }, "Sign in with SSO")));
  }
  if (ssoError) signInError(ssoError);
  showRole();
  if (bySession()) render();
});
