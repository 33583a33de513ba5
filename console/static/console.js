// orderflow console: plain JS, no dependencies. The API is on the same origin (the local cloud,
// or `python -m ops console`, which signs for a deployed stack); graph.json is built from the template.
"use strict";

const STORE = "orderflow.console.orders";
const TERMINAL = new Set(["CONFIRMED", "REJECTED"]);
const SVG = "http://www.w3.org/2000/svg";
let graph = null;
let watching = null; // the order being followed: {id, timer}

const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

function svgElement(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

function say(selector, message, error = false) {
  const node = $(selector);
  node.textContent = message;
  node.classList.toggle("error", error);
}

async function api(method, path, body = null, headers = {}) {
  const options = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== null) {
    options.body = JSON.stringify(body);
    options.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
  return { status: response.status, headers: response.headers, data };
}

function problem(answer) {
  const d = answer.data || {};
  return `HTTP ${answer.status}: ${d.error || d.message || d.reason || "error"}` +
    (d.details ? ` (${JSON.stringify(d.details)})` : "");
}

function randomKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// --- recent orders (this browser's own list: the API has no route that lists orders) -------------

function recent() {
  try { return JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
}

function remember(order) {
  const list = recent().filter((o) => o.order_id !== order.order_id);
  list.unshift(order);
  localStorage.setItem(STORE, JSON.stringify(list.slice(0, 50)));
  renderRecent();
}

function updateRemembered(orderId, status) {
  const list = recent();
  const found = list.find((o) => o.order_id === orderId);
  if (found && found.status !== status) {
    found.status = status;
    localStorage.setItem(STORE, JSON.stringify(list));
    renderRecent();
  }
}

function statusBadge(status) {
  return element("span", { class: `status ${status || ""}` }, status || "?");
}

function renderRecent() {
  const body = $("#recent tbody");
  body.replaceChildren();
  const list = recent();
  if (!list.length) {
    const row = element("tr");
    row.append(element("td", { colspan: "4" }, "None yet: place an order above, or open one by id."));
    body.append(row);
    return;
  }
  for (const order of list) {
    const row = element("tr", { "data-order": order.order_id });
    const link = element("a", { href: `#/orders/${encodeURIComponent(order.order_id)}` });
    link.append(element("code", {}, order.order_id));
    const cell = element("td");
    cell.append(link);
    const status = element("td");
    status.append(statusBadge(order.status));
    row.append(cell, element("td", {}, order.flow), status, element("td", {}, new Date(order.placed_at).toLocaleTimeString()));
    body.append(row);
  }
}

async function refreshRecent() {
  await Promise.all(recent().map(async (order) => {
    const answer = await api("GET", `/orders/${encodeURIComponent(order.order_id)}`);
    if (answer.status === 200) updateRemembered(order.order_id, answer.data.status);
  }));
}

// --- stock ---------------------------------------------------------------------------------------

async function setStock(event) {
  event.preventDefault();
  const sku = $("#stock-sku").value.trim();
  const body = { available: Number($("#stock-available").value), price_cents: Number($("#stock-price").value) };
  say("#stock-result", `Setting ${sku}…`);
  try {
    const path = `/inventory/${encodeURIComponent(sku)}`;
    const current = await api("GET", path);
    // Never overwrite a write we have not seen: If-Match the version just read, or create only if absent.
    const condition = current.status === 200 ? { "If-Match": current.headers.get("ETag") || `"${current.data.version}"` }
      : { "If-None-Match": "*" };
    const answer = await api("PUT", path, body, condition);
    if (answer.status === 200) {
      const item = answer.data;
      say("#stock-result", `${item.sku}: ${item.available} available, ${item.reserved} reserved, ` +
        `${item.price_cents} cents each, version ${item.version}.`);
      if (!$("#order-sku").value) $("#order-sku").value = item.sku;
    } else if (answer.status === 412) {
      say("#stock-result", `${sku} changed since it was read (version ${answer.data.details?.current_version ?? "?"}): set it again.`, true);
    } else {
      say("#stock-result", problem(answer), true);
    }
  } catch (error) {
    say("#stock-result", `The API did not answer: ${error}`, true);
  }
}

// --- orders --------------------------------------------------------------------------------------

async function placeOrder(event) {
  event.preventDefault();
  const flow = document.querySelector('input[name="flow"]:checked').value;
  const body = {
    customer_id: $("#order-customer").value.trim(),
    flow,
    items: [{ sku: $("#order-sku").value.trim(), quantity: Number($("#order-quantity").value) }],
    payment: { token: $("#order-token").value },
  };
  say("#order-result", `Placing a ${flow} order…`);
  try {
    const answer = await api("POST", "/orders", body, { "Idempotency-Key": randomKey() });
    const data = answer.data || {};
    if (!data.order_id) {
      say("#order-result", problem(answer), true);
      return;
    }
    remember({ order_id: data.order_id, flow, status: data.status, placed_at: new Date().toISOString() });
    say("#order-result", `HTTP ${answer.status}: order ${data.order_id} is ${data.status}` +
      (data.reason ? ` (${data.reason})` : "") + ".");
    location.hash = `#/orders/${encodeURIComponent(data.order_id)}`;
  } catch (error) {
    say("#order-result", `The API did not answer: ${error}`, true);
  }
}

function openById(event) {
  event.preventDefault();
  const id = $("#open-id").value.trim();
  if (id) location.hash = `#/orders/${encodeURIComponent(id)}`;
}

function route() {
  const match = location.hash.match(/^#\/orders\/(.+)$/);
  if (match) openOrder(decodeURIComponent(match[1]));
}

function openOrder(orderId) {
  if (watching) clearTimeout(watching.timer);
  watching = { id: orderId, timer: null, polls: 0, quiet: 0, seen: -1, status: null };
  const section = $("#order");
  section.hidden = false;
  $("#order-heading").textContent = `Order ${orderId}`;
  $("#order-heading").focus();
  section.setAttribute("data-order", orderId);
  section.removeAttribute("data-settled");
  poll();
}

async function poll() {
  const w = watching;
  if (!w) return;
  let order, timeline;
  try {
    [order, timeline] = await Promise.all([
      api("GET", `/orders/${encodeURIComponent(w.id)}`),
      api("GET", `/orders/${encodeURIComponent(w.id)}/timeline`),
    ]);
  } catch (error) {
    say("#order-live", `The API did not answer: ${error}`, true);
    return;
  }
  if (watching !== w) return;
  if (order.status !== 200) {
    say("#order-live", order.status === 404 ? `No order ${w.id}.` : problem(order), true);
    return;
  }
  const events = timeline.status === 200 ? timeline.data.events : [];
  renderOrder(order.data, events);
  updateRemembered(w.id, order.data.status);
  // Follow the order until it is decided, a confirmed one has its shipment (shipping and the
  // timeline batch their events for up to 2 s each), and its timeline has stopped growing for 3
  // polls; a shipment that does not come (shipping down) ends it after 15 quiet polls.
  w.polls += 1;
  w.quiet = events.length === w.seen && TERMINAL.has(order.data.status) ? w.quiet + 1 : 0;
  w.seen = events.length;
  const complete =
    order.data.status === "REJECTED" ||
    (order.data.status === "CONFIRMED" && events.some((e) => e.detail_type === "ShipmentScheduled"));
  const settled = (complete && w.quiet >= 3) || w.quiet >= 15 || w.polls >= 90;
  $("#order").setAttribute("data-settled", settled ? "true" : "false");
  if (!settled) {
    w.timer = setTimeout(poll, 1000);
    say("#order-live", `${order.data.status}: following the order…`);
  } else {
    say("#order-live", `${order.data.status}, ${events.length} event(s).`);
  }
}

function renderOrder(order, events) {
  const summary = $("#order-summary");
  summary.replaceChildren();
  const total = order.total_cents + (order.tax_cents || 0);
  const rows = [
    ["Status", statusBadge(order.status)],
    ["Reason", order.reason || "—"],
    ["Path", order.flow],
    ["Customer", order.customer_id],
    ["Items", order.items.map((i) => `${i.quantity} × ${i.sku} at ${i.unit_price_cents} cents`).join(", ")],
    ["Total", `${order.total_cents} cents + tax ${order.tax_cents ?? "—"} = ${total} cents`],
    ["Correlation id", order.correlation_id],
    ["Created / updated", `${order.created_at} / ${order.updated_at}`],
  ];
  for (const [term, value] of rows) {
    const dd = element("dd");
    if (value instanceof Node) dd.append(value); else dd.textContent = value;
    summary.append(element("dt", {}, term), dd);
  }
  const body = $("#timeline tbody");
  body.replaceChildren();
  for (const e of events) {
    const row = element("tr", { "data-event": e.detail_type });
    const details = Object.entries(e.summary || {}).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
    row.append(element("td", {}, e.time), element("td", {}, e.source), element("td", {}, e.detail_type), element("td", {}, details));
    body.append(row);
  }
  if (!events.length) {
    const row = element("tr");
    row.append(element("td", { colspan: "4" }, "No events yet."));
    body.append(row);
  }
  if (graph) {
    drawSaga(order, events);
    drawFlow(order, events);
  }
}

// --- which states an order passed through --------------------------------------------------------

// Each event of the timeline names the task actions that announce it (graph.announces). The path is
// the shortest walk through the state machine from StartAt that visits a state of every such group,
// ending in a terminal state once the order is decided. Announced states are certain; the states
// between them are implied by the graph (a Choice or a task that announces nothing, such as the tax).
function inferPath(machine, events, status) {
  const decided = TERMINAL.has(status);
  const groups = [];
  const seen = new Set();
  for (const e of events) {
    const actions = graph.announces[e.detail_type] || [];
    const members = machine.states.filter((s) => s.action && actions.includes(s.action)).map((s) => s.name);
    const key = members.slice().sort().join("|");
    if (members.length && !seen.has(key)) { seen.add(key); groups.push(new Set(members)); }
  }
  if (!groups.length) return null;
  const next = {};
  for (const s of machine.states) next[s.name] = [];
  for (const edge of machine.edges) if (next[edge.from]) next[edge.from].push(edge.to);
  // A decided order ends in a terminal state named for its decision when the machine has one
  // (the saga's OrderConfirmed / OrderRejected), else in any terminal state.
  const terminals = machine.states.filter((s) => s.terminal).map((s) => s.name);
  const stem = status === "CONFIRMED" ? "confirm" : status === "REJECTED" ? "reject" : null;
  const named = terminals.filter((n) => stem && n.toLowerCase().includes(stem));
  const terminal = new Set(named.length ? named : terminals);
  const full = (1 << groups.length) - 1;
  const maskOf = (name, mask) => groups.reduce((m, g, i) => (g.has(name) ? m | (1 << i) : m), mask);
  const tries = decided ? [true, false] : [false];
  if (decided && named.length) tries.unshift("named");
  for (const want of tries) {
    const wantTerminal = want !== false;
    if (want === true) { terminal.clear(); terminals.forEach((n) => terminal.add(n)); }
    const start = [machine.start, maskOf(machine.start, 0)];
    const parent = new Map([[start.join("#"), null]]);
    const queue = [start];
    while (queue.length) {
      const [name, mask] = queue.shift();
      if (mask === full && (!wantTerminal || terminal.has(name))) {
        const path = [];
        for (let key = `${name}#${mask}`; key; key = parent.get(key)) path.unshift(key.split("#")[0]);
        const announced = new Set(path.filter((n) => groups.some((g) => g.has(n))));
        return { path, announced };
      }
      for (const to of next[name] || []) {
        const state = [to, maskOf(to, mask)];
        const key = state.join("#");
        if (!parent.has(key)) { parent.set(key, `${name}#${mask}`); queue.push(state); }
      }
    }
  }
  return null;
}

// --- layered layout (longest path over the graph without its back edges) -------------------------

function layered(ids, edges, start) {
  const out = new Map(ids.map((id) => [id, []]));
  for (const e of edges) if (out.has(e.from) && out.has(e.to)) out.get(e.from).push(e.to);
  const state = new Map();
  const back = new Set();
  const order = [];
  const visit = (id) => {
    state.set(id, 1);
    for (const to of out.get(id)) {
      if (state.get(to) === 1) back.add(`${id}>${to}`);
      else if (!state.has(to)) visit(to);
    }
    state.set(id, 2);
    order.push(id);
  };
  if (start) visit(start);
  for (const id of ids) if (!state.has(id)) visit(id);
  const layer = new Map(ids.map((id) => [id, 0]));
  for (const id of order.slice().reverse()) {
    for (const to of out.get(id)) {
      if (!back.has(`${id}>${to}`)) layer.set(to, Math.max(layer.get(to), layer.get(id) + 1));
    }
  }
  const layers = [];
  for (const id of order.slice().reverse()) (layers[layer.get(id)] ||= []).push(id);
  // Barycenter sweeps: each node moves towards the mean position of its predecessors.
  const incoming = new Map(ids.map((id) => [id, []]));
  for (const e of edges) if (incoming.has(e.to) && !back.has(`${e.from}>${e.to}`)) incoming.get(e.to).push(e.from);
  for (let sweep = 0; sweep < 4; sweep++) {
    const position = new Map();
    layers.forEach((ids_) => ids_.forEach((id, i) => position.set(id, i - (ids_.length - 1) / 2)));
    for (const row of layers.slice(1)) {
      const weight = (id) => {
        const ps = incoming.get(id).filter((p) => position.has(p));
        return ps.length ? ps.reduce((a, p) => a + position.get(p), 0) / ps.length : position.get(id);
      };
      row.sort((a, b) => weight(a) - weight(b));
      row.forEach((id, i) => position.set(id, i - (row.length - 1) / 2));
    }
  }
  return { layers, layer, back };
}

function markers(svg) {
  const defs = svgElement("defs");
  for (const id of ["arrow", "arrow-hit"]) {
    const marker = svgElement("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.append(svgElement("path", { d: "M0,0 L10,5 L0,10 z" }));
    defs.append(marker);
  }
  svg.append(defs);
}

function nodeBox(parent, { x, y, w, h, title, sub, classes, data, diamond }) {
  const g = svgElement("g", { class: `node ${classes}`, ...data });
  g.append(svgElement("title", {}, title));
  if (diamond) {
    const p = [[x + 10, y], [x + w - 10, y], [x + w, y + h / 2], [x + w - 10, y + h], [x + 10, y + h], [x, y + h / 2]];
    g.append(svgElement("polygon", { points: p.map((q) => q.join(",")).join(" ") }));
  } else {
    g.append(svgElement("rect", { x, y, width: w, height: h, rx: 6 }));
  }
  const lines = sub ? [y + h / 2 - 3, y + h / 2 + 11] : [y + h / 2 + 4];
  g.append(svgElement("text", { x: x + w / 2, y: lines[0], "text-anchor": "middle", "font-size": 12 }, fit(data["data-label"] || "", w)));
  if (sub) g.append(svgElement("text", { x: x + w / 2, y: lines[1], "text-anchor": "middle", class: "sub" }, fit(sub, w)));
  parent.append(g);
  return g;
}

function fit(text, width) {
  const max = Math.floor((width - 10) / 6.4);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function edgePath(parent, d, classes, title) {
  const path = svgElement("path", { d, class: `edge ${classes}`, "marker-end": classes.includes("hit") ? "url(#arrow-hit)" : "url(#arrow)" });
  if (title) path.append(svgElement("title", {}, title));
  parent.append(path);
}

// --- the saga (or, for a choreographed order, the payment workflow) ------------------------------

function drawSaga(order, events) {
  const role = order.flow === "orchestrated" ? "saga" : "payment-workflow";
  const machine = graph.state_machines.find((m) => m.role === role) || graph.state_machines[0];
  const svg = $("#graph-svg");
  svg.replaceChildren();
  if (!machine) return;
  $("#graph-title").textContent = role === "saga" ? `Saga: ${machine.label}` : `Payment workflow: ${machine.label}`;
  const inferred = inferPath(machine, events, order.status);
  const note = role === "saga"
    ? "The orders saga, drawn from the template's state machine definition."
    : "A choreographed order runs no saga: services react to events, and payments runs its own workflow, drawn here from the template.";
  $("#graph-note").textContent = `${note} ${inferred ? "Highlighted: the states this order passed through, from its timeline." : "This order's events show no state of it yet."}`;
  svg.setAttribute("data-machine", machine.label);

  const W = 168, H = 34, GX = 24, GY = 30, M = 20;
  const ids = machine.states.map((s) => s.name);
  const { layers, layer, back } = layered(ids, machine.edges, machine.start);
  const widest = Math.max(...layers.map((l) => l.length));
  const width = M * 2 + widest * W + (widest - 1) * GX + 40;
  const height = M * 2 + layers.length * H + (layers.length - 1) * GY;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  markers(svg);
  const pos = new Map();
  layers.forEach((row, i) => {
    const rowWidth = row.length * W + (row.length - 1) * GX;
    row.forEach((id, j) => pos.set(id, { x: (width - 40 - rowWidth) / 2 + j * (W + GX), y: M + i * (H + GY) }));
  });
  const onPath = new Set();
  const visited = new Set(inferred ? inferred.path : []);
  if (inferred) for (let i = 1; i < inferred.path.length; i++) onPath.add(`${inferred.path[i - 1]}>${inferred.path[i]}`);
  const edgeLayer = svgElement("g");
  svg.append(edgeLayer);
  for (const e of machine.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    const hit = onPath.delete(`${e.from}>${e.to}`) ? " hit" : ""; // one lit edge per step
    const title = `${e.from} → ${e.to}${e.label ? ` (${e.kind}: ${e.label})` : ` (${e.kind})`}`;
    if (back.has(`${e.from}>${e.to}`) || layer.get(e.to) <= layer.get(e.from)) {
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x + W, y2 = b.y + H / 2;
      const bend = Math.max(x1, x2) + 30;
      edgePath(edgeLayer, `M${x1},${y1} C${bend},${y1} ${bend},${y2} ${x2 + 2},${y2}`, `${e.kind}${hit}`, title);
    } else {
      const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y - 2;
      const dy = Math.min(40, (y2 - y1) / 2);
      edgePath(edgeLayer, `M${x1},${y1} C${x1},${y1 + dy} ${x2},${y2 - dy} ${x2},${y2}`, `${e.kind}${hit}`, title);
    }
  }
  for (const s of machine.states) {
    const p = pos.get(s.name);
    const announced = inferred && inferred.announced.has(s.name);
    const classes = [announced ? "announced" : visited.has(s.name) ? "implied" : "", visited.has(s.name) ? "visited" : "", s.terminal ? "terminal" : ""].join(" ");
    const sub = s.action ? `${s.type} · ${s.action}` : s.type;
    const title = `${s.name} (${s.type}${s.action ? `, action ${s.action}` : ""})` +
      (visited.has(s.name) ? (announced ? ": announced by this order's events" : ": passed through") : "");
    nodeBox(svg, { ...p, w: W, h: H, title, sub, classes, diamond: s.type === "Choice", data: { "data-state": s.name, "data-label": s.name } });
  }
  const list = $("#visited");
  list.replaceChildren();
  for (const name of inferred ? inferred.path : []) {
    list.append(element("li", { "data-state": name }, name + (inferred.announced.has(name) ? " (announced)" : "")));
  }
  if (!inferred) list.append(element("li", {}, "none yet"));
}

// --- the event flow: bus → rules → queues → functions --------------------------------------------

function ruleMatches(rule, e) {
  const source = !rule.sources.length || rule.sources.some((s) => (s.endsWith("*") ? e.source.startsWith(s.slice(0, -1)) : s === e.source));
  const type = !rule.detail_types.length || rule.detail_types.includes(e.detail_type);
  const flow = !rule.flows.length || rule.flows.includes(e.flow);
  return source && type && flow;
}

function drawFlow(order, events) {
  const flow = graph.event_flow;
  const svg = $("#flow-svg");
  svg.replaceChildren();
  const hits = new Map();
  for (const rule of flow.rules) hits.set(rule.id, events.filter((e) => ruleMatches(rule, e)).map((e) => e.detail_type));
  const hitQueues = new Set(flow.rules.filter((r) => hits.get(r.id).length).flatMap((r) => r.queues));
  const hitFunctions = new Set(flow.mappings.filter((m) => hitQueues.has(m.queue)).map((m) => m.function));
  const columns = [
    flow.buses.map((b) => ({ id: b.id, label: b.label, sub: "event bus", hit: events.length > 0 })),
    flow.rules.map((r) => ({
      id: r.id, label: r.label.split("/").pop(),
      sub: `${r.detail_types.length ? r.detail_types.join(", ") : "every event"}${r.flows.length ? ` · ${r.flows.join(", ")}` : ""}`,
      hit: hits.get(r.id).length > 0, title: `${r.label}: ${hits.get(r.id).length ? `matched ${hits.get(r.id).join(", ")}` : "no event of this order"}`,
    })),
    flow.queues.map((q) => ({ id: q.id, label: q.label.replace(/\/Queue$/, ""), sub: "SQS queue", hit: hitQueues.has(q.id) })),
    flow.functions.map((f) => ({ id: f.id, label: f.handler || f.label, sub: f.label, hit: hitFunctions.has(f.id) })),
  ];
  const widths = [130, 250, 200, 230], H = 36, GY = 12, GX = 56, M = 16;
  const tallest = Math.max(...columns.map((c) => c.length));
  const height = M * 2 + tallest * H + (tallest - 1) * GY;
  const width = M * 2 + widths.reduce((a, b) => a + b, 0) + GX * (widths.length - 1);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  markers(svg);
  const pos = new Map();
  let x = M;
  columns.forEach((column, i) => {
    const columnHeight = column.length * H + (column.length - 1) * GY;
    column.forEach((n, j) => pos.set(n.id, { x, y: (height - columnHeight) / 2 + j * (H + GY), w: widths[i] }));
    x += widths[i] + GX;
  });
  const edges = [];
  for (const r of flow.rules) {
    if (r.bus && pos.has(r.bus)) edges.push([r.bus, r.id, hits.get(r.id).length > 0]);
    for (const q of r.queues) edges.push([r.id, q, hits.get(r.id).length > 0]);
  }
  for (const m of flow.mappings) edges.push([m.queue, m.function, hitQueues.has(m.queue)]);
  const edgeLayer = svgElement("g");
  svg.append(edgeLayer);
  for (const [from, to, hit] of edges) {
    const a = pos.get(from), b = pos.get(to);
    if (!a || !b) continue;
    const x1 = a.x + a.w, y1 = a.y + H / 2, x2 = b.x - 2, y2 = b.y + H / 2;
    edgePath(edgeLayer, `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}`, hit ? "hit" : "", null);
  }
  for (const column of columns) {
    for (const n of column) {
      const p = pos.get(n.id);
      nodeBox(svg, {
        x: p.x, y: p.y, w: p.w, h: H, title: n.title || `${n.label} (${n.sub})`, sub: n.sub,
        classes: n.hit ? "hit" : "", data: { "data-id": n.id, "data-label": n.label },
      });
    }
  }
  const list = $("#routes");
  list.replaceChildren();
  for (const r of flow.rules.filter((rule) => hits.get(rule.id).length)) {
    const functions = flow.mappings.filter((m) => r.queues.includes(m.queue))
      .map((m) => flow.functions.find((f) => f.id === m.function)).filter(Boolean).map((f) => f.handler || f.label);
    list.append(element("li", { "data-rule": r.id }, `${r.label}: ${hits.get(r.id).join(", ")} → ${functions.join(", ")}`));
  }
  if (!list.children.length) list.append(element("li", {}, "none yet"));
}

// --- start ---------------------------------------------------------------------------------------

async function start() {
  $("#stock-form").addEventListener("submit", setStock);
  $("#order-form").addEventListener("submit", placeOrder);
  $("#open-form").addEventListener("submit", openById);
  $("#refresh-recent").addEventListener("click", refreshRecent);
  $("#refresh-order").addEventListener("click", () => watching && openOrder(watching.id));
  window.addEventListener("hashchange", route);
  renderRecent();
  try {
    const response = await fetch("graph.json");
    graph = await response.json();
    if (graph.stack) $("#stack-line").textContent = `Stack ${graph.stack}: stock SKUs, place orders on either path, and follow one through its timeline, its saga and the event flow.`;
  } catch (error) {
    say("#order-result", `The template's graph could not be read: ${error}`, true);
  }
  document.body.setAttribute("data-ready", "true");
  route();
}

start();
