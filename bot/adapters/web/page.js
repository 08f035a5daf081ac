// The playground's script: a file of its own, as the Content-Security-Policy allows no inline script.
// Every request a visitor sends becomes a card under "My requests", followed to its end by one poll
// loop (several may be in flight); their tokens are kept in localStorage, so a reload finds them
// again. No fetch is left without an end: each has a timeout, and every failure is put in words.
"use strict";
const $ = (id) => document.getElementById(id);
const STORE_KEY = "dallebot.requests";
const KEPT = 20; // cards remembered across reloads
const SUBMIT_TIMEOUT_MS = 15000;
const POLL_TIMEOUT_MS = 10000;
const POLL_MS = 400;
const OPTION_NAMES = ["top_k", "temperature", "cond_scale"];
const tracked = new Map(); // token → { token, prompt, card, final, busy, failures, nextAt, shown }

// randomUUID exists only in secure contexts (localhost is one; a LAN address is not).
function newId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function say(id, text) { $(id).textContent = text || ""; }
function announce(text) { say("status", text); }

// --- talking to the server: always bounded, always answered in words -------------------------------

async function fetchWithin(url, options, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await fetch(url, { ...options, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function readJson(response) {
  if (!(response.headers.get("Content-Type") || "").includes("application/json")) return null;
  try { return await response.json(); } catch { return null; }
}

function httpProblem(response, body) {
  const wait = response.headers.get("Retry-After");
  if (body && body.message) {
    let text = body.reason ? `Refused (${body.reason}): ${body.message}` : body.message;
    if (body.retry_after) text += ` Try again after ${new Date(body.retry_after).toLocaleTimeString()}.`;
    else if (wait && response.status >= 500) text += ` Try again in ${wait} s.`;
    return text;
  }
  if (response.status === 413) return "The request is too large; shorten the prompt.";
  if (response.status === 429) return `Too many requests; wait ${wait || 60} s and try again.`;
  if (response.status >= 500) return `The server failed (HTTP ${response.status}); try again in a moment.`;
  return `The server refused the request (HTTP ${response.status}).`;
}

function networkProblem(error) {
  if (error && error.name === "AbortError") return "The server did not answer in time.";
  return "Could not reach the server: it may have stopped.";
}

// --- what the form offers (from /api/about) -----------------------------------------------------

function describeRange(name, range) {
  const fallback = range.default == null ? "the model's default" : `the configured default (${range.default})`;
  say(`${name}-hint`, `${range.min} to ${range.max}; blank: ${fallback}.`);
  $(name).min = range.min;
  $(name).max = range.max;
}

async function loadAbout() {
  let about;
  try {
    const response = await fetchWithin("/api/about", {}, POLL_TIMEOUT_MS);
    if (!response.ok) return;
    about = await response.json();
  } catch { return; }
  const options = about.options;
  for (const radio of document.querySelectorAll('input[name="images"]')) {
    radio.closest("label").hidden = !options.images.includes(Number(radio.value));
  }
  for (const name of OPTION_NAMES) describeRange(name, options[name]);
  if (about.model) showModel(about.model);
}

function showModel(model) {
  say("model-line", model.summary);
  say("model-draws", model.draws || "");
  say("model-real", model.real_model || "");
  const examples = $("examples");
  examples.replaceChildren();
  if (model.examples && model.examples.length) {
    examples.append(el("span", "examples-label", "Try: "));
    for (const example of model.examples) {
      const button = el("button", "example", example);
      button.type = "button";
      button.addEventListener("click", () => { $("prompt").value = example; $("prompt").focus(); });
      examples.append(button);
    }
  }
  $("about").hidden = false;
}

// --- sending a request ---------------------------------------------------------------------------

function labelOf(name) { return document.querySelector(`label[for="${name}"]`).textContent; }

function collectOptions() {
  const body = {};
  const images = document.querySelector('input[name="images"]:checked');
  if (images) body.images = Number(images.value);
  for (const name of ["seed", ...OPTION_NAMES]) {
    const raw = $(name).value.trim();
    if (raw === "") continue;
    const number = Number(raw);
    body[name] = Number.isFinite(number) ? number : raw; // text goes as is: the server says what is wrong
  }
  return body;
}

function setSending(on) {
  $("submit").disabled = on;
  $("submit").textContent = on ? "Sending…" : "Generate";
}

$("prompt-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if ($("submit").disabled) return;
  const bad = OPTION_NAMES.find((name) => $(name).validity.badInput);
  if (bad) {
    say("form-message", `${labelOf(bad)} must be a number.`);
    $(bad).focus();
    return;
  }
  const prompt = $("prompt").value;
  const body = { prompt, id: newId(), ...collectOptions() };
  say("form-message", "");
  setSending(true);
  try {
    const response = await fetchWithin("/api/requests", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }, SUBMIT_TIMEOUT_MS);
    const answer = await readJson(response);
    if (response.status === 202 && answer && answer.status === "queued") {
      const entry = { token: answer.request_id, prompt };
      remember(entry);
      const item = track(entry);
      render(item, { status: "queued", position: answer.position, eta_seconds: answer.eta_seconds,
                     options: answer.options });
      announce(`Queued: “${prompt}”`);
    } else {
      say("form-message", httpProblem(response, answer));
    }
  } catch (error) {
    say("form-message", `${networkProblem(error)} Your prompt is still here: try again.`);
  } finally {
    setSending(false);
    refreshQuota();
  }
});

// --- my requests: kept across reloads, each followed to its end ---------------------------------

function remembered() {
  try {
    const list = JSON.parse(localStorage.getItem(STORE_KEY) || "[]");
    return Array.isArray(list) ? list.filter((e) => e && typeof e.token === "string") : [];
  } catch { return []; }
}

function remember(entry) {
  const list = [entry, ...remembered().filter((e) => e.token !== entry.token)].slice(0, KEPT);
  try { localStorage.setItem(STORE_KEY, JSON.stringify(list)); } catch { /* storage off: this tab only */ }
}

function forget(token) {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify(remembered().filter((e) => e.token !== token)));
  } catch { /* nothing kept anyway */ }
}

function track(entry, { append = false } = {}) {
  const card = el("li", "request");
  card.dataset.token = entry.token;
  const title = el("p", "request-prompt", entry.prompt);
  const meta = el("p", "request-meta");
  const state = el("p", "request-state");
  const bar = el("progress", "request-progress");
  bar.hidden = true;
  bar.setAttribute("aria-label", `Progress of “${entry.prompt}”`);
  const preview = el("img", "request-preview");
  preview.hidden = true;
  preview.alt = `Preview of “${entry.prompt}”, still being drawn`;
  const result = el("div", "request-result");
  const remove = el("button", "request-remove", "Remove");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove “${entry.prompt}” from this list`);
  remove.addEventListener("click", () => {
    tracked.delete(entry.token);
    forget(entry.token);
    card.remove();
    $("mine-empty").hidden = tracked.size > 0;
    $("prompt").focus();
  });
  card.append(title, meta, state, bar, preview, result, remove);
  if (append) $("requests").append(card); else $("requests").prepend(card);
  $("mine-empty").hidden = true;
  const item = { ...entry, card, meta, state, bar, preview, result, final: false, busy: false,
                 failures: 0, nextAt: 0, shown: null, seen: [] };
  tracked.set(entry.token, item);
  return item;
}

function setState(item, text, kind) {
  item.state.textContent = text;
  item.card.dataset.state = kind;
}

function describeOptions(options) {
  if (!options) return "";
  const n = options.images || 1;
  const parts = [n === 1 ? "1 image" : `${n} images`];
  if (options.seed != null) parts.push(`seed ${options.seed}`);
  if (options.top_k != null) parts.push(`top-k ${options.top_k}`);
  if (options.temperature != null) parts.push(`temperature ${options.temperature}`);
  if (options.cond_scale != null) parts.push(`condition scale ${options.cond_scale}`);
  return parts.join(" · ");
}

function seconds(value) { return value == null ? "" : `, about ${Math.max(1, Math.ceil(value))} s`; }

function render(item, s) {
  if (s.options) item.meta.textContent = describeOptions(s.options);
  if (s.image_url) return showResult(item, s);
  if (s.status === "failed" || s.status === "rejected") {
    item.final = true;
    item.bar.hidden = true;
    item.preview.hidden = true;
    setState(item, s.error || "The request failed.", "error");
    announce(`Not drawn: “${item.prompt}”`);
    refreshQuota();
    return;
  }
  if (s.status === "queued") {
    item.bar.hidden = true;
    setState(item, `In the queue: position ${s.position}${seconds(s.eta_seconds)}`, "queued");
    return;
  }
  const progress = s.progress;
  item.bar.hidden = false;
  if (progress) {
    item.bar.max = progress.steps;
    item.bar.value = progress.step;
    const left = progress.eta_seconds == null ? "" : `, about ${Math.max(1, Math.ceil(progress.eta_seconds))} s left`;
    setState(item, `Drawing: step ${progress.step} of ${progress.steps}${left}`, "running");
    if (progress.preview_url && progress.preview_url !== item.shown) {
      item.shown = progress.preview_url;
      item.preview.src = progress.preview_url;
      item.preview.hidden = false;
      item.card.dataset.previews = String(Number(item.card.dataset.previews || 0) + 1);
    }
  } else {
    item.bar.removeAttribute("value"); // an indeterminate bar until the worker reports steps
    setState(item, s.status === "running" ? "Generating…" : "Almost there…", "running");
  }
}

function showResult(item, s) {
  item.final = true;
  item.bar.hidden = true;
  item.preview.hidden = true;
  const count = s.tiles.length || 1;
  const seed = s.options && s.options.seed != null ? ` (seed ${s.options.seed})` : "";
  setState(item, `Done${seed}.` + (s.note ? ` ${s.note}` : ""), "done");
  const pictures = el("div", count > 1 ? "tiles" : "single");
  const sources = count > 1 ? s.tiles : [s.image_url];
  sources.forEach((src, i) => {
    const alt = count > 1 ? `${s.prompt} (picture ${i + 1} of ${count})` : s.prompt;
    pictures.append(thumbnail(src, alt));
  });
  const links = el("p", "downloads");
  links.append(download(s.image_url, count > 1 ? "Download the grid (PNG)" : "Download (PNG)", item.token));
  s.tiles.forEach((src, i) => {
    links.append(" · ");
    const link = download(src, String(i + 1), `${item.token}-${i + 1}`);
    link.setAttribute("aria-label", `Download picture ${i + 1} alone`);
    links.append(link);
  });
  item.result.replaceChildren(pictures, links);
  announce(`Done: “${s.prompt}”`);
  refreshGallery();
  refreshQuota();
}

function download(href, text, name) {
  const link = el("a", "", text);
  link.href = href;
  link.download = `dallebot-${name}.png`;
  return link;
}

async function pollOne(item) {
  item.busy = true;
  try {
    const response = await fetchWithin(`/api/requests/${encodeURIComponent(item.token)}`, {}, POLL_TIMEOUT_MS);
    const body = await readJson(response);
    if (response.status === 404) {
      item.final = true;
      forget(item.token);
      setState(item, "This request is no longer available (pruned, or sent from another browser).", "error");
      return;
    }
    if (!response.ok || !body) return trouble(item, httpProblem(response, body));
    item.failures = 0;
    render(item, body);
  } catch (error) {
    trouble(item, networkProblem(error));
  } finally {
    item.busy = false;
  }
}

function trouble(item, text) {
  item.failures += 1;
  item.nextAt = Date.now() + Math.min(10000, 500 * 2 ** item.failures);
  setState(item, `${text} Still waiting for this request; checking again shortly.`, "trouble");
}

function pollAll() {
  const now = Date.now();
  for (const item of tracked.values()) {
    if (!item.final && !item.busy && item.nextAt <= now) pollOne(item);
  }
  setTimeout(pollAll, POLL_MS); // rescheduled whatever happened: the loop never ends by itself
}

// --- quota and gallery ------------------------------------------------------------------------------

async function refreshQuota() {
  try {
    const response = await fetchWithin("/api/quota", {}, POLL_TIMEOUT_MS);
    if (!response.ok) return;
    const q = await response.json();
    let text = `${q.remaining} of ${q.images_per_window} images left this window`;
    if (q.remaining === 0 && q.refills_at) text += ` (more from ${new Date(q.refills_at).toLocaleTimeString()})`;
    say("quota", text);
  } catch { /* the cards say when the server is gone */ }
}

function thumbnail(src, alt) {
  const button = el("button", "thumb");
  button.type = "button";
  button.setAttribute("aria-label", `Enlarge: ${alt}`);
  const img = el("img");
  img.src = src;
  img.alt = alt;
  img.loading = "lazy";
  button.append(img);
  button.addEventListener("click", () => enlarge(src, alt, button));
  return button;
}

function enlarge(src, caption, opener) {
  $("viewer-image").src = src;
  $("viewer-image").alt = caption;
  say("viewer-caption", caption);
  $("viewer-download").href = src;
  $("viewer-download").download = `dallebot-${src.split("/").slice(2).join("-")}`;
  $("viewer").returnTo = opener;
  $("viewer").showModal();
  $("viewer-close").focus();
}

$("viewer-close").addEventListener("click", () => $("viewer").close());
$("viewer").addEventListener("close", () => { if ($("viewer").returnTo) $("viewer").returnTo.focus(); });

// The operator (env DALLEBOT_WEB_ADMIN_TOKEN) gets a Hide button per gallery image; open the
// page with #admin to give the secret once (traded for an HttpOnly cookie, never stored here).
let operator = false;

async function checkOperator() {
  const response = await fetch("/api/admin");
  if (!response.ok) return;
  const state = await response.json();
  operator = state.admin;
  if (state.available && !state.admin && location.hash === "#admin") showOperatorLogin();
}

function showOperatorLogin() {
  const form = el("form", "operator-login");
  const secret = el("input");
  secret.type = "password"; secret.placeholder = "operator secret"; secret.autocomplete = "off";
  const button = el("button", "", "Log in as operator");
  button.type = "submit";
  form.append(secret, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch("/api/admin/session", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: secret.value }),
    });
    secret.value = "";
    if (response.ok) { form.remove(); operator = true; refreshGallery(); }
    else say("form-message", (await response.json()).message);
  });
  $("gallery").before(form);
}

async function hideImage(name) {
  const response = await fetch("/api/admin/hide", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ image: name }),
  });
  if (!response.ok) say("form-message", (await response.json()).message);
  refreshGallery();
}

async function refreshGallery() {
  let items;
  try {
    const response = await fetchWithin("/api/gallery", {}, POLL_TIMEOUT_MS);
    if (!response.ok) return;
    items = await response.json();
  } catch { return; }
  const gallery = $("gallery");
  gallery.replaceChildren();
  for (const item of items) {
    const figure = el("figure");
    const caption = el("figcaption", item.daily ? "daily" : "", (item.daily ? "Daily: " : "") + item.prompt);
    figure.append(thumbnail(item.image_url, item.prompt), caption);
    if (operator) {
      const hide = el("button", "hide", "Hide");
      hide.type = "button";
      hide.addEventListener("click", () => hideImage(item.request_id));
      figure.append(hide);
    }
    gallery.append(figure);
  }
}

for (const entry of remembered()) track(entry, { append: true });
loadAbout();
refreshQuota();
checkOperator().finally(refreshGallery);
pollAll();
setInterval(refreshGallery, 30000); // daily prompts and other tabs' images appear without a reload
