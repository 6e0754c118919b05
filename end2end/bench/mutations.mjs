// DOM mutations per live event on a service page, for BENCHMARKS.md (a benchmark, not a test).
//
//   node end2end/bench/mutations.mjs                     this tree's build (target/release, target/site)
//   MUSTER_BENCH_BUILDS="main=/b/muster:/b/site live=target/release/muster:target/site" node ...
//
// For each build, in the same browser and run: a console on the memory registry with 40
// services, the page of one of them (6 endpoints, one request tree opened), a MutationObserver
// on <body>; then 20 unrelated events (another service registered) and 20 events of the service
// shown (a node of it registered), 300 ms apart. Prints MutationObserver records per event; the
// ratio against the first build listed is the figure to quote (the first is the baseline).
import { chromium } from "playwright-core";
import { startConsole } from "./console.mjs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const builds = (process.env.MUSTER_BENCH_BUILDS ?? "this=target/release/muster:target/site")
  .split(/\s+/)
  .filter(Boolean)
  .map((spec) => {
    const [name, paths] = spec.split("=");
    const [binary, site] = paths.split(":").map((p) => path.resolve(root, p));
    return { name, binary, site };
  });
const EVENTS = 20;

const field = (name, type, values = null) => ({ name, type, values });
const endpoints = ["Place", "Get", "List", "Cancel", "Refund", "Ship"].map((method) => ({
  name: `Orders.${method}`,
  request: field("Req", "Req", [field("id", "string"), field("order", "Order", [field("ref", "string")])]),
  response: field("Reply", "Reply", [field("ok", "bool")]),
  metadata: { stream: "false" },
}));

async function register(port, name, id, address) {
  const response = await fetch(`http://127.0.0.1:${port}/api/services`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, version: "1.0.0", metadata: null, endpoints, nodes: [{ id, address, metadata: {} }], ttl: 3600 }),
  });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
}

/** MutationObserver records on the page per event, for `events` made by `change(i)`. */
async function perEvent(page, change) {
  await page.evaluate(() => {
    window.__mutations = 0;
    window.__observer?.disconnect();
    window.__observer = new MutationObserver((records) => (window.__mutations += records.length));
    window.__observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  for (let i = 0; i < EVENTS; i++) {
    await change(i);
    await sleep(300);
  }
  return (await page.evaluate(() => window.__mutations)) / EVENTS;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
const results = [];
let port = 3900;
for (const build of builds) {
  port++;
  const child = await startConsole(port, build);
  try {
    for (let s = 0; s < 40; s++) await register(port, `bench.other.${s}`, `other-${s}`, `10.2.0.${s + 1}:80`);
    await register(port, "bench.shown", "shown-0", "10.3.0.1:80");
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.goto(`http://127.0.0.1:${port}/services/bench.shown`);
    await page.waitForFunction(() => document.body.dataset.hydrated === "true");
    await page.waitForFunction(() => document.querySelector("[data-testid=connection]")?.textContent === "live");
    await page.locator('[data-endpoint="Orders.Place"] summary').first().click();
    await sleep(300);
    // Fixed clock ticks (TTL countdowns) count in both builds alike; they are part of the figure.
    const unrelated = await perEvent(page, (i) => register(port, `bench.new.${i}`, `new-${i}`, `10.4.0.${i + 1}:80`));
    const related = await perEvent(page, (i) => register(port, "bench.shown", `shown-${i + 1}`, `10.3.1.${i + 1}:80`));
    const idle = await perEvent(page, async () => {});
    results.push({ build: build.name, unrelated, related, idle });
    await page.close();
  } finally {
    child.kill("SIGTERM");
  }
}
await browser.close();

console.log(`DOM mutations (MutationObserver records) per event, ${EVENTS} events each, 300 ms apart`);
console.log("build        unrelated event   event of the service shown   no event (clock only)");
for (const r of results) {
  console.log(`${r.build.padEnd(12)} ${r.unrelated.toFixed(1).padStart(15)}   ${r.related.toFixed(1).padStart(26)}   ${r.idle.toFixed(1).padStart(21)}`);
}
if (results.length > 1) {
  const [base, ...rest] = results;
  for (const r of rest) {
    const ratio = (a, b) => (b === 0 ? "∞" : (a / b).toFixed(3));
    console.log(`${r.build} / ${base.build}: unrelated ${ratio(r.unrelated, base.unrelated)}, service shown ${ratio(r.related, base.related)}`);
  }
}
