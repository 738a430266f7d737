// The dhcpbridge dashboard: plain JS over the /v1 API of the same origin (no libraries, no CDN).
// Polls health, stats and subnets every 2 s; lease search and the looking glass on demand.
// Read-only unless the token's role is admin (then leases get a "release" button).
"use strict";

const POLL_MS = 2000;
const HISTORY = 150; // points of the rates chart: 5 minutes at 2 s
const SERIES = [
  ["DISCOVER", "#1565c0", (s) => s.v4.received.DHCPDISCOVER],
  ["OFFER", "#00897b", (s) => s.v4.sent.DHCPOFFER],
  ["REQUEST", "#6a1b9a", (s) => s.v4.received.DHCPREQUEST],
  ["ACK", "#2e7d32", (s) => s.v4.sent.DHCPACK],
  ["NAK", "#ef6c00", (s) => s.v4.sent.DHCPNAK],
  ["drops", "#c62828", (s) => sum(s.v4.drops) + sum(s.v6 ? s.v6.drops : {})],
  ["v6 replies", "#795548", (s) => sum(s.v6 ? s.v6.sent : {})],
];
const state = { token: sessionStorage.getItem("dhcpbridge-token") || "", role: null, last: null, rates: [] };

function sum(obj) { return Object.values(obj || {}).reduce((a, b) => a + b, 0); }
function $(id) { return document.getElementById(id); }
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
}
function row(cells, header) { return el("tr", {}, cells.map((c) => el(header ? "th" : "td", {}, c))); }
function table(target, header, rows) {
  const t = $(target);
  t.replaceChildren(row(header, true), ...rows.map((r) => (r instanceof Node ? r : row(r))));
}
function say(text) { const m = $("message"); m.textContent = text; m.hidden = !text; }

async function api(path, options) {
  const headers = state.token ? { Authorization: "Bearer " + state.token } : {};
  const response = await fetch(path, { ...(options || {}), headers });
  if (response.status === 401) { say("This server needs an API token: enter one above."); throw new Error("401"); }
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

// --- health, who, config --------------------------------------------------------------------
async function refreshHealth() {
  const pill = $("health");
  try {
    const r = await fetch("/v1/ready");
    const body = await r.json();
    pill.textContent = body.ready ? "ready" : "not ready";
    pill.className = "pill " + (body.ready ? "ok" : "bad");
    table("checks", ["check", "result"], Object.entries(body.checks));
  } catch (e) { pill.textContent = "unreachable"; pill.className = "pill bad"; }
}

async function refreshWho() {
  try {
    const who = await api("/v1/whoami");
    state.role = who.role;
    $("who").textContent = who.name + " (" + who.role + ")";
    say("");
  } catch (e) { state.role = null; $("who").textContent = ""; }
}

async function refreshConfig() {
  try {
    const c = await api("/v1/config");
    const sources = (c.source || []).map((s) => s.type).join(", ");
    table("config", ["setting", "value"], [
      ["lease store", c.leases.store],
      ["subnets", `${(c.subnet4 || []).length} v4, ${(c.subnet6 || []).length} v6`],
      ["sources", sources],
      ["listen", `${c.server.address}:${c.server.port}`],
      ["looking glass", c["looking-glass"] && c["looking-glass"].enabled ? "on" : "off"],
    ]);
  } catch (e) { /* shown by the other panels */ }
}

// --- pools ------------------------------------------------------------------------------------
function pct(n, total) { return total ? (100 * n) / total : 0; }
function bar(use) {
  const b = el("div", { class: "bar" });
  let left = 0;
  for (const kind of ["bound", "offered", "declined"]) {
    const w = pct(use[kind], use.total);
    b.append(el("span", { class: kind, style: "" }));
    b.lastChild.style.left = left + "%";
    b.lastChild.style.width = w + "%";
    left += w;
  }
  return b;
}
async function refreshSubnets() {
  const subnets = await api("/v1/subnets");
  const out = subnets.map((s) => {
    const used = s.bound + s.offered + s.declined;
    const p = pct(used, s.total);
    const level = p >= 95 ? "crit" : p >= 80 ? "warn" : "ok";
    return el("div", { class: "subnet " + level, "data-subnet": s.subnet },
      el("div", { class: "head" }, el("span", {}, s.subnet + (s.family === 6 ? " (v6)" : "")),
        el("span", { class: "pct" }, p.toFixed(1) + " %")),
      bar(s),
      el("div", { class: "numbers" },
        "bound ", el("b", { class: "bound" }, String(s.bound)), " · offered ", el("b", { class: "offered" }, String(s.offered)),
        " · declined ", el("b", { class: "declined" }, String(s.declined)), " · free ", el("b", { class: "free" }, String(s.free)),
        " of ", el("b", { class: "total" }, String(s.total))),
      s.pools.map((p2) => el("div", { class: "pool" },
        `${p2.pool}: ${p2.bound} bound, ${p2.offered} offered, ${p2.declined} declined, ${p2.free} free of ${p2.total}`)));
  });
  $("subnets").replaceChildren(...(out.length ? out : [el("p", { class: "muted" }, "no subnets")]));
}

// --- counters and rates -------------------------------------------------------------------------
function counterRows(stats) {
  const rows = [];
  for (const fam of ["v4", "v6"]) {
    if (!stats[fam]) continue;
    for (const group of ["received", "sent", "drops", "refused", "errors"]) {
      for (const [name, n] of Object.entries(stats[fam][group] || {})) rows.push([fam, group, name, String(n)]);
    }
  }
  return rows;
}
function dnsRows(dns) {
  if (!dns) return [["dns updates", "off"]];
  const rows = [
    ["waiting", String(dns.backlog)],
    ["oldest waiting", dns.backlog ? dns.oldest_age.toFixed(1) + " s" : "-"],
    ["failed attempts", String(dns.failures)],
    ["published", String(dns.published)],
  ];
  for (const [outcome, n] of Object.entries(dns.outcomes || {})) if (n) rows.push(["  " + outcome, String(n)]);
  return rows;
}
async function refreshStats() {
  const stats = await api("/v1/stats");
  table("counters", ["family", "kind", "name", "count"], counterRows(stats));
  table("dns", ["dns queue", "value"], dnsRows(stats.dns));
  $("dns").className = stats.dns && (stats.dns.oldest_age > 60 || (stats.dns.backlog && stats.dns.failures)) ? "warn" : "";
  const now = Date.now() / 1000;
  if (state.last) {
    const dt = now - state.last.time;
    const point = SERIES.map(([, , get]) => Math.max(0, ((get(stats) || 0) - (get(state.last.stats) || 0)) / dt));
    state.rates.push(point);
    if (state.rates.length > HISTORY) state.rates.shift();
  }
  state.last = { time: now, stats };
  drawRates();
}
function drawRates() {
  const canvas = $("rates");
  if (canvas.clientWidth && canvas.width !== canvas.clientWidth) canvas.width = canvas.clientWidth;
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 28;
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(1, ...state.rates.flat());
  ctx.strokeStyle = "#d8dce3"; ctx.fillStyle = "#8a94a6"; ctx.font = "11px sans-serif";
  ctx.beginPath(); ctx.moveTo(pad, 4); ctx.lineTo(pad, h - pad / 2); ctx.lineTo(w, h - pad / 2); ctx.stroke();
  ctx.fillText(max.toFixed(max < 10 ? 1 : 0), 2, 12); ctx.fillText("0", 2, h - pad / 2);
  SERIES.forEach(([, colour], i) => {
    ctx.strokeStyle = colour; ctx.beginPath();
    state.rates.forEach((p, x) => {
      const px = pad + ((w - pad) * x) / (HISTORY - 1);
      const py = h - pad / 2 - ((h - pad / 2 - 4) * p[i]) / max;
      if (x === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();
  });
  const latest = state.rates[state.rates.length - 1] || SERIES.map(() => 0);
  $("legend").replaceChildren(...SERIES.map(([name, colour], i) => {
    const item = el("span", {}, el("i", {}), `${name} ${latest[i].toFixed(1)}/s`);
    item.firstChild.style.background = colour;
    return item;
  }));
}

// --- leases -----------------------------------------------------------------------------------
async function searchLeases(event) {
  if (event) event.preventDefault();
  const q = new URLSearchParams({ limit: "200" });
  for (const [id, key] of [["lease-client", "client"], ["lease-hostname", "hostname"], ["lease-state", "state"]]) {
    if ($(id).value) q.set(key, $(id).value);
  }
  try {
    const page = await api("/v1/leases?" + q);
    const rows = page.items.map((l) => {
      const cells = [l.address, l.state, l.hwaddr, l.hostname, new Date(l.expires * 1000).toLocaleString(), l.subnet, l.source];
      const tr = row(cells);
      const actions = el("td", {});
      const look = el("button", { type: "button" }, "look");
      look.onclick = () => { $("glass-client").value = l.hwaddr || l.client; lookGlass(); };
      actions.append(look);
      if (state.role === "admin" && (l.state === "bound" || l.state === "offered")) {
        const release = el("button", { type: "button", class: "release" }, "release");
        release.onclick = async () => {
          if (!confirm("Release " + l.address + "?")) return;
          try { await api(`/v1/leases/${l.address}/release`, { method: "POST" }); searchLeases(); } catch (e) { say(e.message); }
        };
        actions.append(" ", release);
      }
      tr.append(actions);
      return tr;
    });
    table("leases", ["address", "state", "hwaddr", "hostname", "expires", "subnet", "source", ""], rows);
  } catch (e) { say("leases: " + e.message); }
}

// --- looking glass ----------------------------------------------------------------------------
function messageType(msg) {
  while (msg && String(msg.type).startsWith("RELAY")) {
    const inner = (msg.options || []).find((o) => o.code === 9);
    if (!inner) break;
    msg = inner.value;
  }
  return msg ? msg.type : "-";
}
function optionsText(msg) {
  if (!msg) return "(no reply)";
  const head = Object.entries(msg).filter(([k]) => k !== "options").map(([k, v]) => `${k}: ${v}`);
  const opts = (msg.options || []).map((o) => `${o.code} ${o.name}: ${JSON.stringify(o.value)}`);
  return head.concat(opts).join("\n");
}
function exchangeCard(ex) {
  const d = ex.decision;
  const why = [d.drop_reason, d.dropped_by && "by " + d.dropped_by, d.drop_detail].filter(Boolean).join(" ");
  return el("div", { class: "exchange" },
    el("div", { class: "line" },
      el("span", { class: "muted" }, new Date(ex.timestamp * 1000).toLocaleTimeString()),
      el("span", { class: "types" }, messageType(ex.request) + " → " + (ex.reply ? messageType(ex.reply) : "no reply")),
      el("span", { class: "status-" + d.status }, d.status),
      el("span", {}, ex.reply && ex.reply.yiaddr && ex.reply.yiaddr !== "0.0.0.0" ? ex.reply.yiaddr : ""),
      el("span", { class: "muted" }, "from " + ex.received.src + " on " + (ex.received.interface || "?"))),
    el("div", { class: "decision" },
      `subnet ${d.subnet || "-"} · source ${d.source || "-"} (${d.action || "-"}) · state ${d.state || "-"}`,
      why ? " · " + why : "", el("br"), "steps: " + d.steps.join(" → ")),
    el("details", {}, el("summary", {}, "request and reply"),
      el("div", { class: "options" }, el("pre", {}, optionsText(ex.request)), el("pre", {}, optionsText(ex.reply)))));
}
async function lookGlass(event) {
  if (event) event.preventDefault();
  const client = $("glass-client").value.trim();
  if (!client) return;
  try {
    const view = await api("/v1/looking-glass/" + encodeURIComponent(client));
    $("glass-view").replaceChildren(...view.clients.map((c) => el("div", { class: "glass-client", "data-client": c.client },
      el("h3", {}, `${c.family} client ${c.client}`),
      el("div", { class: "muted" }, Object.entries(c.identifiers).map(([k, v]) => `${k} ${v}`).join(" · ")),
      c.exchanges.map(exchangeCard))));
  } catch (e) { $("glass-view").replaceChildren(el("p", { class: "muted" }, e.message)); }
}
async function refreshRecent() {
  try {
    const recent = await api("/v1/looking-glass?limit=20");
    const rows = recent.clients.map((c) => {
      const tr = row([c.client, c.family, c.request + " → " + (c.reply || "no reply"), c.status + (c.drop_reason ? " (" + c.drop_reason + ")" : ""), new Date(c.last_seen).toLocaleTimeString()]);
      tr.style.cursor = "pointer";
      tr.onclick = () => { $("glass-client").value = c.client; lookGlass(); };
      return tr;
    });
    table("glass-recent", ["client", "family", "last exchange", "status", "seen"], rows);
  } catch (e) { /* 401 handled by api() */ }
}

// --- wiring -----------------------------------------------------------------------------------
async function poll() {
  refreshHealth();
  try { await Promise.all([refreshSubnets(), refreshStats(), refreshRecent()]); } catch (e) { /* shown */ }
}
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = $("token").value.trim();
  sessionStorage.setItem("dhcpbridge-token", state.token);
  start();
});
$("lease-form").addEventListener("submit", searchLeases);
$("glass-form").addEventListener("submit", lookGlass);
async function start() {
  await refreshWho();
  refreshConfig();
  searchLeases();
  poll();
}
start();
setInterval(poll, POLL_MS);
