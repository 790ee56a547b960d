// toolrelay admin page: plain JavaScript, no build step, no external assets.
// Every value from the server is inserted as text (never as HTML).
"use strict";

const KEY_STORAGE = "toolrelay.key";
const state = { key: sessionStorage.getItem(KEY_STORAGE) || "" };
// Signed in with a session cookie instead of a key (signin.js), and what that role may do.
const bySessionCookie = () => typeof signedInBySession === "function" && signedInBySession();
const mayChange = () => typeof sessionMayChange !== "function" || sessionMayChange();

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "text") el.textContent = value;
    else if (name === "style") el.style.cssText = value; // CSSOM: allowed by the page's strict CSP
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, { method = "GET", body, raw = false } = {}) {
  const headers = state.key ? { authorization: `Bearer ${state.key}` } : {};
  if (typeof sessionHeaders === "function") Object.assign(headers, sessionHeaders(method));
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (raw) return response;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!response.ok) {
    const message = (data && data.error && (data.error.message || data.error)) || (data && data.detail) || `HTTP ${response.status}`;
    throw new ApiError(response.status, typeof message === "string" ? message : JSON.stringify(message));
  }
  return data;
}

const money = (value) => (typeof value === "number" ? `$${value.toFixed(value < 1 ? 4 : 2)}` : "–");
const csv = (value) => value.split(",").map((s) => s.trim()).filter(Boolean);
const numberOrNull = (value) => (value === "" ? null : Number(value));
const listOf = (data, ...names) => {
  if (Array.isArray(data)) return data;
  for (const name of names) if (data && Array.isArray(data[name])) return data[name];
  return [];
};

function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error instanceof Error ? error.message : String(error));
}

function table(columns, rows, empty = "Nothing here yet.") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("table", {},
    h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row)))))));
}

function field(label, input) { return h("label", {}, label, input); }

// ---- views -----------------------------------------------------------------

async function modelsView() {
  const info = await api("/model/info");
  const rows = listOf(info, "data");
  const health = h("div", {}, h("button", { type: "button", class: "secondary", onclick: checkHealth }, "Check deployments now"));
  async function checkHealth(event) {
    event.target.disabled = true;
    health.replaceChildren(h("p", { class: "muted" }, "Calling every deployment…"));
    try {
      const result = await api("/health");
      const bad = result.unhealthy_endpoints || [];
      health.replaceChildren(
        h("p", {}, h("span", { class: "ok" }, `${result.healthy_count} healthy`), ", ",
          h("span", { class: bad.length ? "bad" : "muted" }, `${result.unhealthy_count} unhealthy`)),
        table([["Deployment", (r) => r.model_name], ["Model", (r) => r.model], ["Error", (r) => r.error]], bad, ""));
    } catch (error) { health.replaceChildren(errorBox(error)); }
  }
  return [h("h1", {}, "Models"),
    table([
      ["Model group", (r) => r.model_name],
      ["Provider / model", (r) => (r.litellm_params || {}).model],
      ["API base", (r) => (r.litellm_params || {}).api_base || "default"],
      ["Deployment id", (r) => (r.model_info || {}).id],
      ["State", (r) => ((r.model_info || {}).cooldown ? h("span", { class: "bad" }, "cooling down") : "active")],
    ], rows, "No models configured."),
    h("h2", {}, "Health"), health,
    // models.js: database models and credentials (store_model_in_db)
    ...(window.storedModelsSection ? await window.storedModelsSection({ api, h, table, errorBox, field, rerender: render }, rows) : [])];
}

async function keysView() {
  const out = h("div", {});
  const created = h("div", { "aria-live": "polite" });
  async function refresh() {
    try {
      const data = await api("/key/list?return_full_object=true&size=100");
      const keys = listOf(data, "keys", "data").filter((k) => typeof k === "object");
      out.replaceChildren(table([
        ["Alias", (k) => k.key_alias || k.key_name || "–"],
        ["Models", (k) => (k.models || []).join(", ") || "all"],
        ["Spend", (k) => money(k.spend)],
        ["Budget", (k) => (k.max_budget == null ? "none" : money(k.max_budget))],
        ["Limits", (k) => [k.rpm_limit && `${k.rpm_limit} rpm`, k.tpm_limit && `${k.tpm_limit} tpm`].filter(Boolean).join(", ") || "–"],
        ["Status", (k) => (k.blocked ? h("span", { class: "bad" }, "blocked") : "active")],
        ["", (k) => mayChange() && h("span", {},
          h("button", { type: "button", class: "secondary", onclick: () => act(k.blocked ? "/key/unblock" : "/key/block", { key: k.token }) }, k.blocked ? "Unblock" : "Block"), " ",
          h("button", { type: "button", class: "danger", onclick: () => confirm(`Delete key ${k.key_alias || k.token}?`) && act("/key/delete", { keys: [k.token] }) }, "Delete"))],
      ], keys, "No keys yet."));
    } catch (error) { out.replaceChildren(errorBox(error)); }
  }
  async function act(path, body) {
    try { await api(path, { method: "POST", body }); await refresh(); } catch (error) { out.prepend(errorBox(error)); }
  }
  const form = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    const body = { key_alias: f.get("alias") || undefined, models: csv(f.get("models")),
      max_budget: numberOrNull(f.get("budget")), budget_duration: f.get("duration") || undefined,
      rpm_limit: numberOrNull(f.get("rpm")), tpm_limit: numberOrNull(f.get("tpm")) };
    try {
      const result = await api("/key/generate", { method: "POST", body });
      const copy = h("button", { type: "button", onclick: async () => { await navigator.clipboard.writeText(result.key); copy.textContent = "Copied"; } }, "Copy");
      created.replaceChildren(h("div", { class: "new-key" }, h("p", {}, "New key (shown once, copy it now):"), h("code", { id: "new-key-value" }, result.key), " ", copy));
      event.target.reset();
      await refresh();
    } catch (error) { created.replaceChildren(errorBox(error)); }
  } },
    field("Alias", h("input", { name: "alias" })),
    field("Models (comma separated, empty = all)", h("input", { name: "models" })),
    field("Max budget ($)", h("input", { name: "budget", type: "number", step: "any", min: "0" })),
    field("Budget period", h("input", { name: "duration", placeholder: "30d" })),
    field("RPM", h("input", { name: "rpm", type: "number", min: "0" })),
    field("TPM", h("input", { name: "tpm", type: "number", min: "0" })),
    h("button", { type: "submit" }, "Create key"));
  await refresh();
  return [h("h1", {}, "Keys"), ...(mayChange() ? [h("div", { class: "card" }, h("h2", {}, "New key"), form, created)] : []), out];
}

async function teamsView() {
  const teams = h("div", {});
  const users = h("div", {});
  async function refresh() {
    try {
      teams.replaceChildren(table([["Team", (t) => t.team_alias || t.team_id], ["Id", (t) => t.team_id],
        ["Spend", (t) => money(t.spend)], ["Budget", (t) => (t.max_budget == null ? "none" : money(t.max_budget))],
        ["Models", (t) => (t.models || []).join(", ") || "all"]], listOf(await api("/team/list"), "teams", "data"), "No teams yet."));
    } catch (error) { teams.replaceChildren(errorBox(error)); }
    try {
      users.replaceChildren(table([["User", (u) => u.user_id], ["Email", (u) => u.user_email || "–"],
        ["Spend", (u) => money(u.spend)], ["Budget", (u) => (u.max_budget == null ? "none" : money(u.max_budget))]],
        listOf(await api("/user/list"), "users", "data"), "No users yet."));
    } catch (error) { users.replaceChildren(errorBox(error)); }
  }
  const creator = (path, nameField, label) => h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    try {
      await api(path, { method: "POST", body: { [nameField]: f.get("name"), max_budget: numberOrNull(f.get("budget")) } });
      event.target.reset(); await refresh();
    } catch (error) { event.target.append(errorBox(error)); }
  } }, field(label, h("input", { name: "name", required: true })),
    field("Max budget ($)", h("input", { name: "budget", type: "number", step: "any", min: "0" })),
    h("button", { type: "submit" }, "Create"));
  await refresh();
  return [h("h1", {}, "Teams & users"),
    ...(mayChange() ? [h("div", { class: "card" }, h("h2", {}, "New team"), creator("/team/new", "team_alias", "Team name"))] : []), teams,
    ...(mayChange() ? [h("div", { class: "card" }, h("h2", {}, "New user"), creator("/user/new", "user_id", "User id"))] : []), users];
}

function barChart(title, totals) {
  const entries = Object.entries(totals).sort((a, b) => b[1] - a[1]).slice(0, 15);
  const max = Math.max(...entries.map(([, v]) => v), 1e-12);
  return h("div", { class: "card" }, h("h2", {}, title),
    entries.length ? h("div", { class: "bars", role: "table", "aria-label": title },
      entries.flatMap(([name, value]) => [h("span", { role: "cell" }, name),
        h("div", { class: "bar", style: `width:${Math.max(1, (value / max) * 100)}%`, role: "presentation" }),
        h("span", { role: "cell" }, money(value))])) : h("p", { class: "muted" }, "No spend yet."));
}

async function spendView() {
  const end = new Date();
  const start = new Date(end.getTime() - 30 * 86400e3);
  const day = (d) => d.toISOString().slice(0, 10);
  // With both dates, /spend/logs answers LiteLLM's per-day summary; without, the latest rows.
  const [summary, rows, keyList] = await Promise.all([
    api(`/spend/logs?start_date=${day(start)}&end_date=${day(new Date(end.getTime() + 86400e3))}`),
    api("/spend/logs"),
    api("/key/list?return_full_object=true&size=1000"),
  ]);
  const aliases = Object.fromEntries(listOf(keyList, "keys").map((k) => [k.token, k.key_alias || k.key_name || k.token.slice(0, 12)]));
  const days = listOf(summary, "data");
  const merge = (field, rename = (k) => k) => days.reduce((acc, d) => {
    for (const [k, v] of Object.entries(d[field] || {})) acc[rename(k)] = (acc[rename(k)] || 0) + Number(v);
    return acc;
  }, {});
  const byDay = Object.fromEntries(days.map((d) => [String(d.startTime).slice(0, 10), Number(d.spend) || 0]));
  const latest = listOf(rows, "data", "logs").slice(0, 50);
  return [h("h1", {}, "Spend (last 30 days)"),
    barChart("By day", byDay), barChart("By model", merge("models")),
    barChart("By key", merge("api_keys", (token) => aliases[token] || token.slice(0, 12))), barChart("By team", merge("teams")),
    h("h2", {}, "Latest requests"),
    table([["Time", (r) => String(r.startTime || "").replace("T", " ").slice(0, 19)], ["Model", (r) => r.model_group || r.model],
      ["Key", (r) => r.key_alias || aliases[r.api_key] || String(r.api_key || "").slice(0, 12)], ["Tokens", (r) => `${r.prompt_tokens ?? 0} / ${r.completion_tokens ?? 0}`],
      ["Cost", (r) => money(Number(r.spend))], ["Status", (r) => r.status || "success"]], latest, "No requests yet.")];
}

async function mcpView() {
  const data = await api("/ui/middleware/mcp/tools/list");
  const servers = listOf(data, "servers");
  const tools = servers.flatMap((s) => (s.tools || []).map((t) => ({ ...t, server: s.name })));
  const output = h("pre", { id: "tool-output", "aria-live": "polite" });
  const select = h("select", { name: "tool", id: "tool-name" }, tools.map((t) => h("option", { value: t.name }, `${t.name} (${t.server})`)));
  const args = h("textarea", { name: "arguments", id: "tool-arguments" }, "{}");
  const describe = h("p", { class: "muted" });
  const showSchema = () => {
    const tool = tools.find((t) => t.name === select.value);
    describe.textContent = tool ? tool.description || "" : "";
  };
  select.addEventListener("change", showSchema); showSchema();
  const form = h("form", { onsubmit: async (event) => {
    event.preventDefault();
    let parsed;
    try { parsed = JSON.parse(args.value || "{}"); } catch (error) { output.textContent = `Arguments are not valid JSON: ${error.message}`; return; }
    output.textContent = "Calling…";
    try { output.textContent = JSON.stringify(await api("/ui/middleware/mcp/tools/call", { method: "POST", body: { name: select.value, arguments: parsed } }), null, 2); }
    catch (error) { output.textContent = `Error: ${error.message}`; }
  } }, field("Tool", select), describe, field("Arguments (JSON)", args), h("button", { type: "submit" }, "Call tool"));
  return [h("h1", {}, "MCP servers and tools"),
    table([["Server", (s) => s.name], ["Health", (s) => (s.health === "healthy" ? h("span", { class: "ok" }, "healthy") : h("span", { class: "bad" }, s.health || "unknown"))],
      ["Tools", (s) => String((s.tools || []).length)], ["Last error", (s) => s.last_error || "–"]], servers, "No MCP servers configured."),
    h("div", { class: "card" }, h("h2", {}, "Call a tool"), tools.length ? form : h("p", { class: "muted" }, "No tools available."), output)];
}

async function playgroundView() {
  const models = listOf(await api("/ui/middleware/v1/models"), "data");
  const history = [];
  const log = h("div", { class: "chat", "aria-live": "polite" });
  const select = h("select", { name: "model" }, models.map((m) => h("option", { value: m.id }, m.id)));
  const input = h("textarea", { name: "message", required: true, placeholder: "Ask something; tools run on the server." });
  const form = h("form", { onsubmit: async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    history.push({ role: "user", content: text });
    log.append(h("div", { class: "msg user" }, text));
    input.value = "";
    const answer = h("div", { class: "msg" }, "…");
    log.append(answer);
    try {
      const response = await api("/ui/middleware/v1/chat/completions", { method: "POST", raw: true, body: { model: select.value, messages: history, stream: true } });
      if (!response.ok) throw new ApiError(response.status, (await response.text()) || `HTTP ${response.status}`);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "", content = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          for (const line of event.split("\n")) {
            if (!line.startsWith("data:")) continue;
            const payload = line.slice(5).trim();
            if (payload === "[DONE]") continue;
            const chunk = JSON.parse(payload);
            if (chunk.error) throw new Error(chunk.error.message || "stream error");
            const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
            if (delta && delta.content) { content += delta.content; answer.textContent = content; }
          }
        }
      }
      history.push({ role: "assistant", content });
    } catch (error) { answer.replaceChildren(errorBox(error)); }
  } }, field("Model", select), input, h("button", { type: "submit" }, "Send"));
  return [h("h1", {}, "Playground"), h("p", { class: "muted" }, "Chats go through the middleware, so models can use the MCP tools."), log, h("div", { class: "card" }, form)];
}

const VIEWS = { models: modelsView, keys: keysView, teams: teamsView, spend: spendView, mcp: mcpView, playground: playgroundView };

// ---- shell -----------------------------------------------------------------

async function render() {
  const view = document.getElementById("view");
  const signedIn = Boolean(state.key) || bySessionCookie();
  document.getElementById("sign-in").hidden = signedIn;
  document.getElementById("nav").hidden = !signedIn;
  if (!signedIn) { view.replaceChildren(); document.getElementById("master-key").focus(); return; }
  const name = (location.hash.replace(/^#\//, "") || "models").split("?")[0];
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.getAttribute("href") === `#/${name}`) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    view.replaceChildren(...(await (VIEWS[name] || modelsView)()));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { signOut("Your key was refused; sign in again."); return; }
    view.replaceChildren(h("h1", {}, "Something went wrong"), errorBox(error));
  }
  document.getElementById("main").focus({ preventScroll: true });
}

function signOut(message = "") {
  state.key = "";
  sessionStorage.removeItem(KEY_STORAGE);
  if (typeof endSession === "function") endSession();
  document.getElementById("sign-in-error").textContent = message;
  render();
}

// ---- sign-in with the identity provider (authorization code + PKCE) ---------

const OIDC_STORAGE = "toolrelay.oidc";
const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const randomString = () => base64url(crypto.getRandomValues(new Uint8Array(32)));
const redirectUri = () => `${location.origin}/ui`;

async function startOidc(config) {
  const verifier = randomString();
  const flowState = randomString();
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(OIDC_STORAGE, JSON.stringify({ verifier, state: flowState }));
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code", client_id: config.client_id, redirect_uri: redirectUri(), scope: config.scope,
    state: flowState, code_challenge: challenge, code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

async function finishOidc(params) {
  const saved = JSON.parse(sessionStorage.getItem(OIDC_STORAGE) || "null");
  sessionStorage.removeItem(OIDC_STORAGE);
  history.replaceState(null, "", "/ui");
  if (params.get("error")) throw new Error(`Sign-in failed: ${params.get("error_description") || params.get("error")}`);
  if (!saved || saved.state !== params.get("state")) throw new Error("Sign-in failed: the answer does not match this browser's request; try again.");
  const response = await fetch("/ui/oidc/token", {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: params.get("code"), code_verifier: saved.verifier, redirect_uri: redirectUri() }),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error((data && data.error && data.error.message) || `Sign-in failed (HTTP ${response.status}).`);
  state.key = data.access_token;
  sessionStorage.setItem(KEY_STORAGE, state.key);
}

async function setUpOidc() {
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    try { await finishOidc(params); location.hash = "#/models"; }
    catch (error) { document.getElementById("sign-in-error").textContent = error.message; }
  }
  let config = { enabled: false };
  try { config = await (await fetch("/ui/oidc/config")).json(); } catch { /* sign-in by key still works */ }
  if (!config.enabled) return;
  const button = h("button", { type: "button", id: "oidc-sign-in", class: "secondary", onclick: () => startOidc(config).catch((error) => {
    document.getElementById("sign-in-error").textContent = error.message;
  }) }, "Sign in with SSO");
  document.getElementById("sign-in").append(h("p", {}, button));
}

document.addEventListener("DOMContentLoaded", async () => {
  await setUpOidc();
  document.getElementById("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    state.key = document.getElementById("master-key").value.trim();
    try {
      await api("/key/list?size=1");
      sessionStorage.setItem(KEY_STORAGE, state.key);
      document.getElementById("sign-in-error").textContent = "";
      if (!location.hash) location.hash = "#/models"; else render();
    } catch (error) {
      state.key = "";
      document.getElementById("sign-in-error").textContent =
        error instanceof ApiError && (error.status === 401 || error.status === 403) ? "That key is not an admin key." : error.message;
    }
  });
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  window.addEventListener("hashchange", render);
  render();
});
