// Main-thread time per event on a large service page (issue #16; a measurement, not a test).
//
//   node end2end/bench/service-events.mjs http://127.0.0.1:3000 [nodes=400] [events=100]
//
// Against a `--registry memory --probe-interval 0` console in a private network namespace (the
// caller's job): registers `nodes` nodes of one service, opens its page in headless Chromium,
// waits until every row is there and the page is live, then sends `events` registrations 100 ms
// apart (one event, one frame each) of three kinds — a known node with new metadata (an update
// in place), a new node (the order changes), and none (the page idles with its clock ticking,
// the baseline) — and prints Chromium's main-thread times (CDP Performance metrics) per event
// for each, the idle baseline subtracted, as JSON. With PROFILE=1 it also prints where the
// creates' time goes (CDP sampling profile, self and total samples by function: build the site
// without `--remove-name-section` for wasm names). With TOP=1 the new nodes' ports count down
// from 9999, so each sorts first and its row lands at the top of the table (the end-to-end
// wire → DOM bench's case; the rows branch cost 80 ms of script per such create against 9 ms).
// Progress and frame counts go to stderr.
import { chromium } from "playwright-core";

const [base, nodesArg, eventsArg] = process.argv.slice(2);
if (!base) throw new Error("usage: node end2end/bench/service-events.mjs http://HOST:PORT [nodes] [events]");
const nodes = Number(nodesArg ?? 400);
const events = Number(eventsArg ?? 100);
const service = "big";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function record(id, port, metadata) {
  return {
    name: service,
    version: "1.0.0",
    metadata: null,
    endpoints: [{ name: "Big.Call", request: null, response: null, metadata: {} }],
    nodes: [{ id, address: `127.0.0.1:${port}`, metadata }],
  };
}

async function register(id, port, metadata = { zone: "a", rack: "r1", team: "t" }) {
  const post = () =>
    fetch(`${base}/api/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(record(id, port, metadata)),
    });
  // Once more on a kept-alive connection the server closed while idle.
  const response = await post().catch(post);
  if (response.status !== 201) throw new Error(`register ${id}: ${response.status} ${await response.text()}`);
}

for (let i = 0; i < nodes; i++) await register(`node-${i}`, 20000 + i);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
// Counts the websocket's text frames (events), to check one registration is one event.
await page.addInitScript(() => {
  window.__frames = 0;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", () => window.__frames++);
    }
  };
});
await page.goto(`${base}/services/${service}`);
await page.waitForSelector("body[data-hydrated=true]", { timeout: 60_000 });
await page.waitForFunction(
  () => document.querySelector("[data-testid=connection]")?.textContent === "live",
  null,
  { timeout: 60_000 },
);
console.error("page live");
await page.waitForFunction((n) => document.querySelectorAll("tr[data-node]").length >= n, nodes);
console.error("rows there");
const cdp = await page.context().newCDPSession(page);
await cdp.send("Performance.enable");
const metrics = async () => {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return Object.fromEntries(metrics.map(({ name, value }) => [name, value]));
};
const names = ["TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration"];

/** Runs `send(i)` `events` times 100 ms apart; the metrics' growth in ms. */
async function phase(send) {
  const before = await metrics();
  const frames = await page.evaluate(() => window.__frames);
  for (let i = 0; i < events; i++) {
    const started = Date.now();
    await send?.(i);
    await sleep(Math.max(0, 100 - (Date.now() - started)));
  }
  await sleep(300);
  const after = await metrics();
  console.error(`frames: ${(await page.evaluate(() => window.__frames)) - frames}`);
  return Object.fromEntries(names.map((name) => [name, (after[name] - before[name]) * 1000]));
}

await sleep(1000);
const idle = await phase(null);
const updates = await phase((i) => register(`node-${(i * 7) % nodes}`, 20000 + ((i * 7) % nodes), { zone: "b", n: `${i}` }));
// PROFILE=1 (with a site whose wasm keeps its name section): where the creates' script time goes.
if (process.env.PROFILE) {
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  await cdp.send("Profiler.start");
}
const creates = await phase((i) => register(`new-${i}`, process.env.TOP ? 9999 - i : 30000 + ((i * 7919) % 1000), { zone: "c" }));
if (process.env.PROFILE) {
  const { profile } = await cdp.send("Profiler.stop");
  const self = new Map();
  const total = new Map();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const [id, count] of counts) {
    const name = (node) => `${node.callFrame.functionName || "(anon)"}`;
    const leaf = byId.get(id);
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + count);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const n = name(byId.get(at));
      if (!seen.has(n)) total.set(n, (total.get(n) ?? 0) + count);
      seen.add(n);
    }
  }
  const top = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([n, c]) => `${c}\t${n.slice(0, 160)}`);
  console.error("SELF\n" + top(self).join("\n"));
  console.error("TOTAL\n" + top(total).join("\n"));
}
console.error("phases done");
const rows = await page.evaluate(() => document.querySelectorAll("tr[data-node]").length);
if (rows !== nodes + events) console.error(`rows: ${rows}, not ${nodes + events}`);
const perEvent = (phase) =>
  Object.fromEntries(names.map((name) => [name, +((phase[name] - idle[name]) / events).toFixed(2)]));
console.log(JSON.stringify({
  nodes,
  events,
  idle_ms_per_100ms: Object.fromEntries(names.map((name) => [name, +(idle[name] / events).toFixed(2)])),
  update_ms_per_event: perEvent(updates),
  create_ms_per_event: perEvent(creates),
}));
await browser.close();
