// The page of `agvas serve` (#17): uploads images to POST /api/segment (one by one, two at a time) or, on request, the
// whole set to POST /api/segment/batch, and shows each image's overlay, mask, score and answer. No framework, no CDN.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const uploads = [];          // { file, card }
const parallel = 2;          // requests in flight from this page
const maxRetries = 5;        // 429s retried per image, after Retry-After
let running = 0;
const waiting = [];

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

function setOpacity() {
  const value = $("#opacity").value;
  $("#opacity-value").textContent = `${value} %`;
  document.querySelectorAll(".overlay").forEach(img => { img.style.opacity = value / 100; });
}

function addCard(file) {
  const card = $("#card-template").content.firstElementChild.cloneNode(true);
  $(".name", card).textContent = file.name;
  $(".original", card).src = URL.createObjectURL(file);
  $(".original", card).onerror = () => { $(".original", card).removeAttribute("src"); };
  $("#results").append(card);
  const upload = { file, card };
  uploads.push(upload);
  refreshButtons();
  return upload;
}

function refreshButtons() {
  $("#batch").disabled = uploads.length < 2 || running > 0;
  $("#clear").disabled = uploads.length === 0 || running > 0;
}

function setStatus(card, state, text) {
  card.dataset.state = state;
  $(".status", card).textContent = text;
}

function showResult(card, name, r) {
  const overlay = $(".overlay", card);
  const mask = $(".mask", card);
  overlay.src = `data:image/png;base64,${r.overlay_png}`;
  overlay.style.opacity = $("#opacity").value / 100;
  mask.src = `data:image/png;base64,${r.mask_png}`;
  const link = $(".download", card);
  link.href = mask.src;
  link.download = `${name.replace(/\.[^.]+$/, "")}_mask.png`;
  const verdict = $(".verdict", card);
  verdict.textContent = r.anomalous ? "anomalous" : "normal";
  verdict.className = `verdict ${r.anomalous ? "anomalous" : "normal"}`;
  $(".score", card).textContent = r.score.toFixed(3);
  $(".fraction", card).textContent = `${(100 * r.anomaly_fraction).toFixed(2)} % (${r.anomaly_pixels} px)`;
  $(".source", card).textContent = r.source === "single" ? "alone" : `with the batch (${r.source})`;
  $(".answer", card).textContent = r.answer;
  setStatus(card, "done", `${r.width} × ${r.height} px, ${r.mode}`);
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.error) return body.error;
  } catch { /* not JSON */ }
  return `the server answered ${response.status} ${response.statusText}`;
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// POSTs a form, retrying after Retry-After while the server is busy (429). Returns the response or throws an Error in words.
async function post(url, form, onBusy) {
  for (let attempt = 0; ; attempt++) {
    let response;
    try {
      response = await fetch(url, { method: "POST", body: form });
    } catch {
      throw new Error("the server could not be reached (is agvas serve still running?)");
    }
    if (response.status !== 429 || attempt >= maxRetries) return response;
    const seconds = Math.max(1, parseInt(response.headers.get("Retry-After") || "1", 10));
    onBusy(seconds, await errorText(response));
    await sleep(seconds * 1000);
  }
}

function formFor(files) {
  const form = new FormData();
  for (const file of files) form.append("image", file, file.name);
  const mode = $("#mode").value;
  if (mode) form.append("mode", mode);
  return form;
}

async function segment(upload) {
  const { file, card } = upload;
  setStatus(card, "pending", "segmenting…");
  try {
    const response = await post("api/segment", formFor([file]),
      (seconds, why) => setStatus(card, "pending", `server busy (${why}); retrying in ${seconds} s…`));
    if (!response.ok) {
      setStatus(card, "error", `Error ${response.status}: ${await errorText(response)}`);
      return;
    }
    showResult(card, file.name, await response.json());
  } catch (e) {
    setStatus(card, "error", `Error: ${e.message}`);
  }
}

function schedule(upload) {
  waiting.push(upload);
  pump();
}

function pump() {
  while (running < parallel && waiting.length > 0) {
    const upload = waiting.shift();
    running++;
    refreshButtons();
    segment(upload).finally(() => { running--; refreshButtons(); pump(); });
  }
}

function addFiles(files) {
  showError("");
  for (const file of files) schedule(addCard(file));
}

async function scoreBatch() {
  showError("");
  running++;
  refreshButtons();
  for (const { card } of uploads) setStatus(card, "pending", "scoring with the batch…");
  try {
    const response = await post("api/segment/batch", formFor(uploads.map(u => u.file)),
      (seconds, why) => showError(`Server busy (${why}); retrying in ${seconds} s…`));
    if (!response.ok) {
      const why = await errorText(response);
      showError(`The batch failed (${response.status}): ${why}`);
      for (const { card } of uploads) setStatus(card, "error", `Error ${response.status}: ${why}`);
      return;
    }
    showError("");
    const body = await response.json();
    body.results.forEach((item, i) => {
      const { card, file } = uploads[i];
      if (item.result) showResult(card, file.name, item.result);
      else setStatus(card, "error", `Error: ${item.error}`);
    });
    if (body.warnings.length > 0) showError(`Note: ${body.warnings.join("; ")}`);
  } catch (e) {
    showError(`The batch failed: ${e.message}`);
  } finally {
    running--;
    refreshButtons();
  }
}

async function checkHealth() {
  const badge = $("#health");
  try {
    const response = await fetch("healthz", { cache: "no-store" });
    const body = await response.json();
    badge.textContent = response.ok ? `ready · ${body.workers} workers · ${body.admitted}/${body.capacity} busy` : "unhealthy";
    badge.className = `health ${response.ok ? "ok" : "bad"}`;
    badge.title = `model: ${body.model}`;
  } catch {
    badge.textContent = "server unreachable";
    badge.className = "health bad";
  }
}

const drop = $("#drop");
drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", e => {
  e.preventDefault();
  drop.classList.remove("over");
  addFiles([...e.dataTransfer.files]);
});
$("#file-input").addEventListener("change", e => { addFiles([...e.target.files]); e.target.value = ""; });
$("#opacity").addEventListener("input", setOpacity);
$("#batch").addEventListener("click", scoreBatch);
$("#clear").addEventListener("click", () => {
  uploads.forEach(u => URL.revokeObjectURL($(".original", u.card).src));
  uploads.length = 0;
  $("#results").replaceChildren();
  showError("");
  refreshButtons();
});
setOpacity();
checkHealth();
setInterval(checkHealth, 10000);
