// The playground's script: a file of its own, as the Content-Security-Policy allows no inline script.
"use strict";
const $ = (id) => document.getElementById(id);
let polling = null;

// randomUUID exists only in secure contexts (localhost is one; a LAN address is not).
function newId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

function say(id, text) { $(id).textContent = text || ""; }

async function refreshQuota() {
  const response = await fetch("/api/quota");
  if (!response.ok) return;
  const q = await response.json();
  let text = `${q.remaining} of ${q.images_per_window} images left this window`;
  if (q.remaining === 0 && q.refills_at) text += ` (more from ${new Date(q.refills_at).toLocaleTimeString()})`;
  say("quota", text);
}

async function refreshGallery() {
  const response = await fetch("/api/gallery");
  if (!response.ok) return;
  const gallery = $("gallery");
  gallery.replaceChildren();
  for (const item of await response.json()) {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = item.image_url;
    img.alt = item.prompt;
    img.loading = "lazy";
    const caption = document.createElement("figcaption");
    caption.textContent = (item.daily ? "Daily: " : "") + item.prompt;
    if (item.daily) caption.className = "daily";
    figure.append(img, caption);
    gallery.append(figure);
  }
}

function describeWait(s) {
  if (s.status === "running") return "Generating…";
  if (s.status === "queued") {
    const eta = s.eta_seconds == null ? "" : `, about ${Math.ceil(s.eta_seconds)} s`;
    return `In the queue: position ${s.position}${eta}`;
  }
  return "Almost there…";
}

async function poll(requestId) {
  const response = await fetch(`/api/requests/${encodeURIComponent(requestId)}`);
  if (!response.ok) return;
  const s = await response.json();
  if (s.image_url) {
    clearInterval(polling);
    const img = $("result");
    img.alt = s.prompt;
    img.src = s.image_url;
    img.hidden = false;
    say("status", `Done: “${s.prompt}”` + (s.note ? ` — ${s.note}` : ""));
    refreshGallery(); refreshQuota();
  } else if (s.status === "failed" || s.status === "rejected") {
    clearInterval(polling);
    say("status", "");
    say("rejection", s.error || "The request failed.");
    refreshQuota();
  } else {
    say("status", describeWait(s));
  }
}

$("prompt-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearInterval(polling);
  say("rejection", ""); say("status", "Sending…");
  $("result").hidden = true;
  const response = await fetch("/api/requests", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ prompt: $("prompt").value, id: newId() }),
  });
  const body = await response.json();
  if (body.status !== "queued") {
    say("status", "");
    let text = `Rejected (${body.reason || response.status}): ${body.message}`;
    if (body.retry_after) text += ` Try again after ${new Date(body.retry_after).toLocaleTimeString()}.`;
    say("rejection", text);
    refreshQuota();
    return;
  }
  say("status", describeWait({ status: "queued", position: body.position, eta_seconds: body.eta_seconds }));
  refreshQuota();
  polling = setInterval(() => poll(body.request_id), 300);
  poll(body.request_id);
});

refreshQuota();
refreshGallery();
setInterval(refreshGallery, 30000);  // daily prompts and other tabs' images appear without a reload
