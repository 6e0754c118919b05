// Wire → DOM, the browser half of the end-to-end bench's phase (server/benches/end_to_end/wire_dom.rs
// starts this script in the console's network namespace; a benchmark, not a test).
//
//   node end2end/bench/wire-dom.mjs http://127.0.0.1:3000
//
// Speaks JSON lines: stdin brings orders, stdout carries answers (nothing else is printed there).
//   {"type":"open","service":S,"nodes":[ids]}   open S's page in headless Chromium, wait until it
//                                                is hydrated and live, watch for those rows
//     → {"type":"ready","service":S,"skew_ms":x}
//   {"type":"collect","timeout_ms":T}            wait (up to T) until every row appeared
//     → {"type":"collected","rows":{id:t},"visible":{id:t},"frames":{id:t}}
// Every t is `performance.timeOrigin + performance.now()`: Unix ms, the wall clock the bench
// stamps its packets with (skew_ms: Date.now() minus that clock, which should be ≈ 0).
//   rows     the row was added to the DOM (MutationObserver: the end of the task that added it)
//   visible  the row first intersected the viewport (IntersectionObserver: the frame that paints it)
//   frames   the websocket frame carrying the node reached the page (before the wasm reads it)
// A row that never appears is simply absent: the Rust side fails the run and says which.
import { chromium } from "playwright-core";
import readline from "node:readline";

const base = process.argv[2];
if (!base) throw new Error("usage: node end2end/bench/wire-dom.mjs http://HOST:PORT");
const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
// Before any script of the page: each text frame of every websocket is stamped on arrival. The
// listener is added in the constructor, before the page sets its `onmessage`, so it runs first;
// it keeps a reference to the frame and nothing more, so it costs the page almost nothing.
await context.addInitScript(() => {
  window.__frames = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (typeof event.data === "string") {
          window.__frames.push([performance.timeOrigin + performance.now(), event.data]);
        }
      });
    }
  };
});

/** In the page: watches for the rows of `ids`; returns the clock skew. */
function watch(ids) {
  const wanted = new Set(ids);
  const now = () => performance.timeOrigin + performance.now();
  window.__wanted = ids;
  window.__rows = {};
  window.__visible = {};
  window.__frames.length = 0;
  // Tasks of 50 ms or more on the page's main thread (a frame waits behind them), for stderr.
  window.__ready = now();
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const task of list.getEntries()) {
      window.__longTasks.push([performance.timeOrigin + task.startTime, task.duration]);
    }
  }).observe({ type: "longtask" });
  const visible = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      window.__visible[entry.target.dataset.node] ??= performance.timeOrigin + entry.time;
      visible.unobserve(entry.target);
    }
  });
  new MutationObserver((records) => {
    const at = now();
    for (const record of records) {
      for (const added of record.addedNodes) {
        if (added.nodeType !== Node.ELEMENT_NODE) continue;
        const rows = added.matches("tr[data-node]") ? [added] : added.querySelectorAll("tr[data-node]");
        for (const row of rows) {
          const id = row.dataset.node;
          if (wanted.has(id) && !(id in window.__rows)) {
            window.__rows[id] = at;
            visible.observe(row);
          }
        }
      }
    }
  }).observe(document.body, { childList: true, subtree: true });
  // Date.now() counts whole milliseconds: +0.5 centres it; the mean of many reads is the skew.
  let sum = 0;
  for (let i = 0; i < 200; i++) sum += Date.now() + 0.5 - now();
  return sum / 200;
}

/** In the page: what was recorded, frames matched to the node ids they carry. */
function recorded() {
  const frames = {};
  for (const [at, data] of window.__frames) {
    for (const id of window.__wanted) {
      if (!(id in frames) && data.includes(`"${id}"`)) frames[id] = at;
    }
  }
  return { rows: window.__rows, visible: window.__visible, frames };
}

/** In the page: the long tasks since `watch`, as [ms after it, duration ms]. */
function longTasks() {
  return window.__longTasks.map(([at, duration]) => [at - window.__ready, duration]);
}

let page = null;
for await (const line of readline.createInterface({ input: process.stdin })) {
  const order = JSON.parse(line);
  if (order.type === "open") {
    await page?.close();
    page = await context.newPage();
    await page.goto(`${base}/services/${encodeURIComponent(order.service)}`);
    await page.waitForSelector("body[data-hydrated=true]", { timeout: 60_000 });
    await page.waitForFunction(
      () => document.querySelector("[data-testid=connection]")?.textContent === "live",
      null,
      { timeout: 60_000 },
    );
    const skew = await page.evaluate(watch, order.nodes);
    say({ type: "ready", service: order.service, skew_ms: skew });
  } else if (order.type === "collect") {
    await page
      .waitForFunction(() => window.__wanted.every((id) => id in window.__rows), null, {
        timeout: order.timeout_ms,
        polling: 100,
      })
      .catch(() => {}); // what is missing is reported by its absence
    say({ type: "collected", ...(await page.evaluate(recorded)) });
    const tasks = await page.evaluate(longTasks);
    const total = tasks.reduce((sum, [, duration]) => sum + duration, 0);
    const listed = tasks.map(([at, duration]) => `${Math.round(duration)} ms at +${Math.round(at)}`);
    process.stderr.write(
      `wire-dom: ${tasks.length} long tasks (≥ 50 ms) on the page's main thread, ` +
        `${Math.round(total)} ms in all: ${listed.join(", ")}\n`,
    );
  } else {
    throw new Error(`unknown order: ${line}`);
  }
}
await browser.close();
