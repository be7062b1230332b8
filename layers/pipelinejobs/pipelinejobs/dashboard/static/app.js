// The pipelinejobs dashboard: plain JavaScript, no library, served from the package by the webhook's HTTP API.
// Everything a job's data holds reaches the page through textContent or an SVG text node, never innerHTML: a
// job's data is written by whoever holds its token. The token is sent in an Authorization header, never in a
// URL; `#token=...` fills the field (a fragment never reaches a server) and is then taken out of the address.
"use strict";

const BASE = location.pathname.replace(/\/ui\/?$/, "");
const REFRESH_MS = 10000;
const PERIODS = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3, all: null };
const TOKEN_KEY = "pipelinejobs.token";

let token = sessionStorage.getItem(TOKEN_KEY) || "";
const cache = new Map(); // url -> {etag, body}: polling sends If-None-Match and reuses a 304's body
let settled = null; // the FSM's settled states, read once: a view with a job in another state refreshes itself
let current = null; // the view on screen: {refresh(), live}
let timer = null;

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `the dashboard's API answered ${status}`);
    this.status = status;
  }
}

// ---- small DOM helpers: text only ----------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function badge(state) {
  return el("span", { class: `state state-${String(state).replace(/[^A-Z]/g, "")}`, text: state });
}

function short(uuid) {
  return String(uuid).slice(0, 8);
}

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return isNaN(date) ? String(iso) : date.toLocaleString();
}

function compact(data) {
  const text = data && Object.keys(data).length ? JSON.stringify(data) : "";
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

function message(kind, text) {
  return el("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : "note", text });
}

function show(...nodes) {
  document.getElementById("view").replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined));
}

function status(node) {
  document.getElementById("status").replaceChildren(...(node ? [node] : []));
}

function table(headers, rows, attrs) {
  return el("table", attrs,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { class: h.num ? "num" : null, text: h.label || h })))),
    el("tbody", {}, rows));
}

// ---- the API -------------------------------------------------------------------------------------

async function api(path, params) {
  const query = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== null && v !== ""));
  const url = `${BASE}/ui/api/${path}${query.toString() ? "?" + query : ""}`;
  const known = cache.get(url);
  const headers = { Authorization: `Bearer ${token}` };
  if (known) headers["If-None-Match"] = known.etag;
  const answer = await fetch(url, { headers, cache: "no-store" });
  if (answer.status === 304 && known) return known.body;
  let body = null;
  try {
    body = await answer.json();
  } catch (_) {
    body = null;
  }
  if (!answer.ok) throw new ApiError(answer.status, body);
  const etag = answer.headers.get("ETag");
  if (etag) cache.set(url, { etag, body });
  return body;
}

function since(period) {
  const ms = PERIODS[period];
  return ms ? new Date(Date.now() - ms).toISOString() : null;
}

// ---- views ---------------------------------------------------------------------------------------

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const job = path.match(/^\/jobs\/([0-9a-f-]{36})$/);
  if (job) return jobView(job[1]);
  if (path === "/jobs") return jobsView(params);
  if (path === "/fsm") return fsmView();
  const workflow = path.match(/^\/workflows\/([0-9a-f-]{36})$/);
  if (workflow) return workflowView(workflow[1]);
  if (path === "/workflows") return workflowsView(params);
  if (path === "/" || path === "") return overviewView(params);
  return { refresh: async () => show(message("error", `There is no page ${path} here.`)) };
}

function periodSelect(period, onChange) {
  const select = el("select", { id: "period", name: "period" },
    Object.keys(PERIODS).map((p) => el("option", { value: p, selected: p === period ? "selected" : null,
      text: p === "all" ? "all time" : `last ${p}` })));
  select.addEventListener("change", () => onChange(select.value));
  return el("label", {}, "Created in", select);
}

function overviewView(params) {
  const period = PERIODS[params.get("period")] !== undefined ? params.get("period") : "7d";
  const cards = el("div", { class: "cards", id: "overview-states" });
  const pipelines = el("div", { id: "overview-pipelines" });
  show(el("h2", { text: "Overview" }),
    el("div", { class: "filters" }, periodSelect(period, (p) => { location.hash = `#/?period=${p}`; })),
    cards, el("h3", { text: "By pipeline" }), pipelines);
  const view = { live: false };
  view.refresh = async () => {
    const data = await api("overview", { since: since(period) });
    const link = (state, pipeline) => `#/jobs?${new URLSearchParams(
      Object.entries({ state, pipeline, period }).filter(([, v]) => v))}`;
    cards.replaceChildren(
      el("a", { class: "card", href: link(), "data-state": "total" },
        el("div", { class: "n", text: data.total }), el("div", { class: "label", text: "jobs" })),
      ...Object.entries(data.states).map(([state, n]) => el("a", { class: "card", href: link(state),
        "data-state": state }, el("div", { class: "n", text: n }), badge(state))));
    const states = [...new Set(data.pipelines.flatMap((p) => Object.keys(p.states)))];
    pipelines.replaceChildren(data.pipelines.length ? table(
      ["pipeline", { label: "jobs", num: true }, ...states.map((s) => ({ label: s, num: true }))],
      data.pipelines.map((p) => el("tr", {},
        el("td", {}, el("a", { href: link(null, p.uuid), text: p.name || short(p.uuid) })),
        el("td", { class: "num", text: p.total }),
        states.map((s) => el("td", { class: "num" }, p.states[s] ? el("a", { href: link(s, p.uuid),
          text: p.states[s] }) : ""))))) : message("info", "No jobs were created in this period."));
    view.live = Object.keys(data.states).some(isLive);
  };
  return view;
}

function jobsView(params) {
  const filters = { pipeline: params.get("pipeline") || "", state: params.get("state") || "",
    period: PERIODS[params.get("period")] !== undefined ? params.get("period") : "all" };
  const go = (changes) => {
    const next = { ...filters, ...changes };
    location.hash = `#/jobs?${new URLSearchParams(Object.entries(next).filter(([, v]) => v))}`;
  };
  const stateSelect = el("select", { id: "state-filter", name: "state" }, el("option", { value: "", text: "any" }),
    (settled ? settled.all : []).map((s) => el("option", { value: s, text: s,
      selected: s === filters.state ? "selected" : null })));
  if (filters.state && !stateSelect.value) stateSelect.append(el("option", { value: filters.state,
    text: filters.state, selected: "selected" }));
  stateSelect.addEventListener("change", () => go({ state: stateSelect.value }));
  const pipelineInput = el("input", { id: "pipeline-filter", name: "pipeline", value: filters.pipeline,
    placeholder: "pipeline uuid", size: 38 });
  pipelineInput.addEventListener("change", () => go({ pipeline: pipelineInput.value.trim() }));
  const summary = el("p", { class: "muted", id: "jobs-summary" });
  const body = el("div", { id: "jobs-table" });
  const pager = el("div", { class: "pager" });
  show(el("h2", { text: "Jobs" }),
    el("div", { class: "filters" }, el("label", {}, "State", stateSelect), el("label", {}, "Pipeline", pipelineInput),
      periodSelect(filters.period, (p) => go({ period: p }))),
    summary, body, pager);
  const pages = [null]; // the cursor of each page seen, to go back
  let page = 0;
  const view = { live: false };
  view.refresh = async () => {
    const data = await api("jobs", { pipeline: filters.pipeline, state: filters.state, since: since(filters.period),
      after: pages[page], limit: 50 });
    summary.textContent = `${data.total} job(s) match; page ${page + 1}.`;
    body.replaceChildren(data.jobs.length ? table(["job", "state", "pipeline", "last event", "created", "started"],
      data.jobs.map((j) => el("tr", { "data-uuid": j.uuid },
        el("td", { class: "mono" }, el("a", { href: `#/jobs/${j.uuid}`, title: j.uuid, text: short(j.uuid) })),
        el("td", {}, badge(j.state)), el("td", { class: "mono", title: j.pipeline_uuid, text: short(j.pipeline_uuid) }),
        el("td", { text: j.last_event }), el("td", { text: when(j.created) }), el("td", { text: when(j.started) }))),
      { id: "jobs" }) : message("info", "No job matches these filters."));
    const previous = el("button", { type: "button", disabled: page === 0 ? "disabled" : null, text: "‹ newer" });
    const next = el("button", { type: "button", disabled: data.next ? null : "disabled", text: "older ›" });
    previous.addEventListener("click", () => { page -= 1; refreshNow(); });
    next.addEventListener("click", () => { pages[page + 1] = data.next; page += 1; refreshNow(); });
    pager.replaceChildren(previous, next);
    view.live = data.jobs.some((j) => isLive(j.state));
  };
  return view;
}

function jobView(uuid) {
  show(el("h2", {}, "Job ", el("span", { class: "mono", text: uuid })), el("p", { text: "Loading…" }));
  const view = { live: false };
  view.refresh = async () => {
    let data;
    try {
      data = await api(`jobs/${uuid}`);
    } catch (error) {
      if (error.status === 404) {
        show(el("h2", { text: "Job not found" }), message("error", `There is no job ${uuid}.`),
          el("p", {}, el("a", { href: "#/jobs", text: "All jobs" })));
        view.live = false;
        return;
      }
      throw error;
    }
    const job = data.job;
    const fields = [["state", badge(job.state)], ["pipeline", el("span", { class: "mono", text: job.pipeline_uuid })],
      ["last event", job.last_event], ["created", when(job.created)], ["started", when(job.started)],
      ["updated", when(job.updated)], ["last heard of", when(job.last_heartbeat)], ["attempt", job.attempt],
      ["refused events", job.rejections], ["archive path", el("span", { class: "mono", text: job.path })],
      ["parents", (job.parents || []).join(", ")],
      ["completion callback", data.role === "admin" ? (data.callback_url || "none")
        : "shown to an admin token"]];
    const history = table(["#", "when", "event", "state after", "source", "outcome", "data"], data.history.map((e) =>
      el("tr", { class: e.applied ? "applied" : "refused", "data-seq": e.seq },
        el("td", { class: "num", text: e.seq }), el("td", { text: when(e.date) }), el("td", { text: e.name }),
        el("td", {}, badge(e.state)), el("td", { text: e.source || "" }),
        el("td", {}, e.applied ? "applied" : [el("span", { class: "refused-mark", text: "refused" }),
          e.reason ? `: ${e.reason}` : ""]),
        el("td", { class: "mono", text: compact(e.data) }))), { id: "history" });
    const attempts = data.attempts.length ? table(["attempt", "launcher", "started", "stopped",
      { label: "exit code", num: true }, "reason", "outcome"], data.attempts.map((a) => el("tr", {},
      el("td", { class: "num", text: a.number }), el("td", { text: a.launcher || "" }),
      el("td", { text: when(a.started) }), el("td", { text: when(a.stopped) }),
      el("td", { class: "num", text: a.exit_code ?? "" }), el("td", { text: a.reason || "" }),
      el("td", { text: a.succeeded ? "succeeded" : (a.stopped ? "failed" : "running") }))), { id: "attempts" })
      : el("p", { class: "muted", text: "No attempt: this job's task is not run by pipelinejobs' orchestration." });
    const logs = data.logs.length ? data.logs.map((l) => el("div", {}, el("h4", { text: `attempt ${l.attempt}` }),
      el("pre", { text: JSON.stringify(l.location, null, 2) }))) : el("p", { class: "muted", text: "No logs recorded." });
    show(el("h2", {}, "Job ", el("span", { class: "mono", id: "job-uuid", text: job.uuid }), " ", badge(job.state)),
      el("dl", { class: "fields" }, fields.map(([name, value]) => [el("dt", { text: name }),
        el("dd", {}, value ?? "")])),
      el("h3", { text: "History" }), data.history_truncated ? message("info", "Only the first 2,000 entries.") : null,
      history, el("h3", { text: "Attempts" }), attempts, el("h3", { text: "Logs" }), logs,
      el("h3", { text: "Data" }), el("pre", { id: "job-data", text: JSON.stringify(job.data, null, 2) }));
    view.live = isLive(job.state);
  };
  return view;
}

function wfBadge(state) {
  return el("span", { class: `state wf-${String(state).replace(/[^A-Za-z_]/g, "")}`, text: state });
}

function workflowsView(params) {
  const period = PERIODS[params.get("period")] !== undefined ? params.get("period") : "7d";
  const list = el("div", { id: "workflows" });
  show(el("h2", { text: "Workflows" }),
    el("div", { class: "filters" }, periodSelect(period, (p) => { location.hash = `#/workflows?period=${p}`; })),
    list);
  const view = { live: false };
  view.refresh = async () => {
    const data = await api("workflows", { since: since(period) });
    list.replaceChildren(el("div", { class: "cards" }, Object.entries(data.states).map(([state, n]) =>
      el("div", { class: "card", "data-state": state }, el("div", { class: "n", text: n }), wfBadge(state)))),
    data.workflows.length ? table(["workflow", "name", "state", "created", "updated"], data.workflows.map((w) =>
      el("tr", { "data-uuid": w.uuid },
        el("td", { class: "mono" }, el("a", { href: `#/workflows/${w.uuid}`, title: w.uuid, text: short(w.uuid) })),
        el("td", { text: w.name }), el("td", {}, wfBadge(w.state)), el("td", { text: when(w.created) }),
        el("td", { text: when(w.updated) }))), { id: "workflow-table" })
      : message("info", "No workflow was created in this period."));
    view.live = data.workflows.some((w) => w.state === "RUNNING");
  };
  return view;
}

function workflowView(uuid) {
  show(el("h2", {}, "Workflow ", el("span", { class: "mono", text: uuid })), el("p", { text: "Loading…" }));
  const view = { live: false };
  view.refresh = async () => {
    let wf;
    try {
      wf = await api(`workflows/${uuid}`);
    } catch (error) {
      if (error.status === 404) {
        show(el("h2", { text: "Workflow not found" }), message("error", `There is no workflow ${uuid}.`));
        view.live = false;
        return;
      }
      throw error;
    }
    const jobs = table(["node", "state", "jobs"], wf.nodes.map((node) => el("tr", { "data-node": node.name },
      el("td", { text: node.name }), el("td", {}, wfBadge(node.state), node.never_run ? ` ${node.never_run}` : ""),
      el("td", {}, node.jobs.map((job) => job.uuid ? el("span", {}, el("a", { class: "mono",
        href: `#/jobs/${job.uuid}`, title: job.uuid, text: short(job.uuid) }), " ", job.state ? badge(job.state)
        : "", " ") : el("span", { class: "muted", text: job.never_run || "waiting " }))))), { id: "workflow-nodes" });
    show(el("h2", {}, "Workflow ", el("span", { text: wf.name }), " ", wfBadge(wf.state)),
      el("p", { class: "mono muted", text: wf.uuid }),
      wf.stopped ? message("info", `Stopped: ${wf.stopped}`) : null,
      el("div", { class: "cards", id: "workflow-counts" }, Object.entries(wf.counts).map(([state, n]) =>
        el("div", { class: "card", "data-state": state }, el("div", { class: "n", text: n }), badge(state)))),
      drawWorkflow(wf), el("h3", { text: "Jobs" }), jobs);
    view.live = wf.state === "RUNNING";
  };
  return view;
}

function drawWorkflow(wf) {
  // Layers: the longest chain of `after` leading to a node (the spec's graph has no cycle).
  const byName = new Map(wf.nodes.map((n) => [n.name, n]));
  const layer = new Map();
  const depth = (name, seen = new Set()) => {
    if (layer.has(name)) return layer.get(name);
    if (seen.has(name)) return 0;
    seen.add(name);
    const node = byName.get(name);
    const d = node && node.after.length ? 1 + Math.max(...node.after.map((a) => depth(a, seen))) : 0;
    layer.set(name, d);
    return d;
  };
  wf.nodes.forEach((n) => depth(n.name));
  const W = 150, H = 46, GX = 70, GY = 30;
  const rows = new Map(), place = new Map();
  for (const node of wf.nodes) {
    const l = layer.get(node.name), row = rows.get(l) || 0;
    rows.set(l, row + 1);
    place.set(node.name, { x: 20 + l * (W + GX), y: 20 + row * (H + GY), node });
  }
  const width = 40 + (Math.max(0, ...layer.values()) + 1) * (W + GX);
  const height = 40 + Math.max(1, ...rows.values()) * (H + GY);
  const root = svg("svg", { class: "graph", id: "workflow-graph", viewBox: `0 0 ${width} ${height}`, width, height,
    role: "img", "aria-label": `workflow ${wf.name}` });
  const defs = svg("defs");
  const marker = svg("marker", { id: "wf-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
    markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8c959f" }));
  defs.append(marker);
  root.append(defs);
  for (const { x, y, node } of place.values()) {
    for (const parent of node.after) {
      const from = place.get(parent);
      if (!from) continue;
      const x1 = from.x + W, y1 = from.y + H / 2, x2 = x, y2 = y + H / 2;
      root.append(svg("path", { class: "edge", d: `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}`,
        "marker-end": "url(#wf-arrow)" }));
    }
  }
  for (const { x, y, node } of place.values()) {
    const group = svg("g", { class: "node", "data-node": node.name, "data-state": node.state });
    group.append(svg("rect", { x, y, width: W, height: H, rx: 6, class: `wf-${node.state.replace(/[^a-z_]/g, "")}` }));
    group.append(svg("text", { class: "node-label", x: x + W / 2, y: y + 17, "text-anchor": "middle" },
      `${node.name}: ${node.state}`));
    const counts = Object.entries(node.counts).map(([state, n]) => `${n} ${state}`).join(", ");
    group.append(svg("text", { class: "node-counts", x: x + W / 2, y: y + 34, "text-anchor": "middle" },
      counts || (node.total === null ? "not released" : `${node.total} job(s)`)));
    root.append(group);
  }
  return root;
}

function fsmView() {
  const view = { live: false };
  view.refresh = async () => {
    const graph = await api("fsm");
    show(el("h2", { text: "The PipelineJob state machine" }), drawFsm(graph),
      el("p", { class: "muted" }, graph.from_any.map((a) => `${a.event}: from any state to ${a.target}. `),
        "Events under a state keep it (history only)."));
  };
  return view;
}

function drawFsm(graph) {
  const W = 118, H = 32, GX = 64, GY = 96;
  const columns = new Map();
  const place = new Map();
  for (const s of graph.states) {
    const row = columns.get(s.layer) || 0;
    columns.set(s.layer, row + 1);
    place.set(s.name, { x: 20 + s.layer * (W + GX), y: 90 + row * (H + GY), state: s });
  }
  const width = 40 + Math.max(...graph.states.map((s) => s.layer + 1)) * (W + GX);
  const height = 160 + Math.max(...columns.values()) * (H + GY);
  const root = svg("svg", { class: "graph", id: "fsm", viewBox: `0 0 ${width} ${height}`, width, height,
    role: "img", "aria-label": "PipelineJob state machine" });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
    markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8c959f" }));
  defs.append(marker);
  root.append(defs);
  graph.edges.forEach((edge, n) => {
    const a = place.get(edge.source), b = place.get(edge.target);
    const adjacent = b.state.layer === a.state.layer + 1;
    // Next layer: a straight line, side to side. Otherwise (a back edge, a skip, the same layer) a curve from
    // bottom to bottom (or top to top, every other one), bowed by the distance it covers.
    const below = adjacent || n % 2 === 0;
    const x1 = adjacent ? a.x + W : a.x + W / 2, y1 = adjacent ? a.y + H / 2 : (below ? a.y + H : a.y);
    const x2 = adjacent ? b.x : b.x + W / 2, y2 = adjacent ? b.y + H / 2 : (below ? b.y + H : b.y);
    const bow = adjacent ? 0 : (below ? 1 : -1) * (26 + Math.abs(x2 - x1) / 7);
    const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2 + bow;
    root.append(svg("path", { class: "edge", d: `M${x1},${y1} Q${cx},${cy} ${x2},${y2}`, "marker-end": "url(#arrow)" }));
    const lx = (x1 + 2 * cx + x2) / 4, ly = (y1 + 2 * cy + y2) / 4; // the curve's midpoint
    root.append(svg("text", { class: "edge-label", x: lx, y: adjacent ? ly - 5 : ly + (below ? 11 : -4),
      "text-anchor": "middle" }, edge.events.join(", ")));
  });
  for (const { x, y, state } of place.values()) {
    const group = svg("g", { class: "node", "data-state": state.name });
    group.append(svg("rect", { x, y, width: W, height: H, rx: 6, class: `state-${state.name}` }));
    group.append(svg("text", { class: "node-label", x: x + W / 2, y: y + H / 2 + 4, "text-anchor": "middle" },
      state.name));
    if (state.keeps.length) group.append(svg("text", { class: "keeps", x: x + W / 2, y: y + H + 13,
      "text-anchor": "middle" }, `↻ ${state.keeps.join(", ")}`));
    root.append(group);
  }
  return root;
}

function isLive(state) {
  return settled ? !settled.settled.includes(state) : false;
}

// ---- the loop ------------------------------------------------------------------------------------

function failure(error) {
  if (error instanceof ApiError && error.status === 401) {
    show(message("error", `Not signed in: ${error.message}`));
    document.getElementById("token").focus();
  } else if (error instanceof ApiError) {
    show(message("error", `The dashboard's API answered ${error.status}: ${error.message}`));
  } else {
    show(message("error", `Could not reach the dashboard's API: ${error.message}`));
  }
}

async function refreshNow() {
  clearTimeout(timer);
  if (!token) {
    show(message("info", "Enter a viewer token (an admin mints one: pipelinejobs token viewer) or an admin token."));
    document.getElementById("token").focus();
    return;
  }
  try {
    if (!settled) {
      const graph = await api("fsm");
      settled = { all: graph.states.map((s) => s.name), settled: graph.states.filter((s) => s.settled)
        .map((s) => s.name) };
      current = route(); // built again now that the states are known (the state filter lists them)
    }
    await current.refresh();
    status(null);
  } catch (error) {
    failure(error);
  }
  if (current.live) timer = setTimeout(refreshNow, REFRESH_MS);
}

function navigate() {
  const match = location.hash.match(/^#token=([^&]*)/);
  if (match) {
    setToken(decodeURIComponent(match[1]));
    history.replaceState(null, "", `${location.pathname}#/`);
  }
  current = route();
  refreshNow();
}

function setToken(value) {
  token = value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  cache.clear();
  settled = null;
  document.getElementById("token").value = token;
}

window.addEventListener("error", (event) => status(message("error", `The page failed: ${event.message}`)));
window.addEventListener("unhandledrejection", (event) => status(message("error",
  `The page failed: ${event.reason && event.reason.message}`)));
window.addEventListener("hashchange", navigate);
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("token").value = token;
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setToken(document.getElementById("token").value);
    navigate();
  });
  navigate();
});
