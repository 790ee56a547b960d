// toolrelay admin page, Models view: models and credentials stored in the database
// (store_model_in_db). Add, edit, delete, and test a model with a one-token request.
// Secrets are typed once and never come back from the server (shown masked).
"use strict";

const MASKED = "********";

async function testModel(api, name) {
  const started = performance.now();
  const response = await api("/v1/chat/completions", {
    method: "POST", raw: true,
    body: { model: name, messages: [{ role: "user", content: "ping" }], max_tokens: 1 },
  });
  const latency = Math.round(performance.now() - started);
  const data = await response.json().catch(() => null);
  const error = response.ok ? null : (data && data.error && data.error.message) || `HTTP ${response.status}`;
  return { status: response.status, latency, error };
}

// The Models view's database section; `ui` is the page's toolkit from app.js.
async function storedModelsSection(ui, rows) {
  const { api, h, table, errorBox, field, rerender } = ui;
  const stored = rows.filter((r) => (r.model_info || {}).db_model);
  const message = h("div", { id: "stored-models-message", "aria-live": "polite" });
  let credentials = [];
  try { credentials = (await api("/credentials")).credentials || []; }
  catch (error) {
    if (error.status === 400) { // store_model_in_db is off: nothing to manage here
      return [h("p", { class: "muted", id: "stored-models-off" }, "Models are read from the config file (store_model_in_db is off).")];
    }
    message.replaceChildren(errorBox(error));
  }

  const form = h("form", { class: "inline", id: "model-form" });
  const inputs = {
    id: h("input", { type: "hidden", name: "id" }),
    name: h("input", { name: "model_name", required: true, placeholder: "gpt-4o" }),
    model: h("input", { name: "model", required: true, placeholder: "openai/gpt-4o" }),
    base: h("input", { name: "api_base", placeholder: "https://api.openai.com/v1" }),
    key: h("input", { name: "api_key", type: "password", autocomplete: "off" }),
    credential: h("select", { name: "credential" }, h("option", { value: "" }, "none"),
      credentials.map((c) => h("option", { value: c.credential_name }, c.credential_name))),
  };
  const submit = h("button", { type: "submit", id: "model-submit" }, "Add model");
  const cancel = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => fill(null) }, "Cancel");
  form.append(inputs.id, field("Model name", inputs.name), field("Provider/model", inputs.model),
    field("API base", inputs.base), field("API key", inputs.key), field("Credential", inputs.credential), submit, cancel);

  function fill(row) {
    const params = row ? row.litellm_params || {} : {};
    inputs.id.value = row ? row.model_info.id : "";
    inputs.name.value = row ? row.model_name : "";
    inputs.model.value = params.model || "";
    inputs.base.value = params.api_base || "";
    inputs.key.value = "";
    inputs.key.placeholder = params.api_key ? "stored; type to replace" : "";
    inputs.credential.value = params.litellm_credential_name || "";
    submit.textContent = row ? "Save changes" : "Add model";
    cancel.hidden = !row;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const params = { model: inputs.model.value.trim(), api_base: inputs.base.value.trim() || undefined };
    if (inputs.key.value) params.api_key = inputs.key.value;
    if (inputs.credential.value) params.litellm_credential_name = inputs.credential.value;
    try {
      if (inputs.id.value) {
        await api("/model/update", { method: "POST", body: { model_name: inputs.name.value.trim(), litellm_params: params, model_info: { id: inputs.id.value } } });
      } else {
        await api("/model/new", { method: "POST", body: { model_name: inputs.name.value.trim(), litellm_params: params } });
      }
      await rerender();
    } catch (error) { message.replaceChildren(errorBox(error)); }
  });

  async function runTest(row, output) {
    output.className = "muted";
    output.textContent = "Testing…";
    try {
      const result = await testModel(api, row.model_name);
      output.className = result.error ? "bad" : "ok";
      output.textContent = result.error
        ? `Failed: HTTP ${result.status} in ${result.latency} ms: ${result.error}`
        : `OK: HTTP ${result.status} in ${result.latency} ms`;
    } catch (error) { output.className = "bad"; output.textContent = `Failed: ${error.message}`; }
  }

  async function remove(row) {
    if (!confirm(`Delete model ${row.model_name}?`)) return;
    try { await api("/model/delete", { method: "POST", body: { id: row.model_info.id } }); await rerender(); }
    catch (error) { message.replaceChildren(errorBox(error)); }
  }

  const list = table([
    ["Model name", (r) => r.model_name],
    ["Provider / model", (r) => (r.litellm_params || {}).model],
    ["API base", (r) => (r.litellm_params || {}).api_base || "default"],
    ["Key", (r) => ((r.litellm_params || {}).api_key ? MASKED : (r.litellm_params || {}).litellm_credential_name || "none")],
    ["", (r) => {
      const output = h("output", { class: "muted", "data-test-result": r.model_name });
      return h("span", {},
        h("button", { type: "button", class: "secondary", "data-test": r.model_name, onclick: () => runTest(r, output) }, "Test"), " ",
        h("button", { type: "button", class: "secondary", "data-edit": r.model_name, onclick: () => fill(r) }, "Edit"), " ",
        h("button", { type: "button", class: "danger", "data-delete": r.model_name, onclick: () => remove(r) }, "Delete"), " ",
        output);
    }],
  ], stored, "No database models yet.");

  const credentialForm = h("form", { class: "inline", id: "credential-form", onsubmit: async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    try {
      await api("/credentials", { method: "POST", body: { credential_name: f.get("credential_name"), credential_values: { api_key: f.get("credential_key") }, credential_info: {} } });
      await rerender();
    } catch (error) { message.replaceChildren(errorBox(error)); }
  } }, field("Credential name", h("input", { name: "credential_name", required: true })),
    field("API key", h("input", { name: "credential_key", type: "password", autocomplete: "off", required: true })),
    h("button", { type: "submit" }, "Save credential"));

  return [h("h2", {}, "Database models"), message, h("div", { id: "stored-models" }, list), h("div", { class: "card" }, form),
    h("h2", {}, "Credentials"),
    table([["Name", (c) => c.credential_name], ["Values", (c) => Object.keys(c.credential_values || {}).map((k) => `${k}: ${MASKED}`).join(", ")]], credentials, "No credentials yet."),
    h("div", { class: "card" }, credentialForm)];
}

window.storedModelsSection = storedModelsSection;
