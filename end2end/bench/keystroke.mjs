// Search keystroke → updated services list, in headless Chromium (issue #17; a benchmark, not
// a test: it prints figures and fails only when the page does not work at all).
//
//   node end2end/bench/keystroke.mjs      (after scripts/build-site.sh; `scripts/bench.sh
//                                          --keystroke` runs it in a private network namespace)
//
// The console runs the memory registry; services are registered through the JSON API (3 nodes
// each, go-micro metadata, an endpoint). Each keystroke sets the search box's value and
// dispatches `input` as typing does; the time is from just before that dispatch to the first
// animation frame after the list's DOM changed (a MutationObserver on the page's section,
// then requestAnimationFrame): what the user waits for. Same-run baseline: the same
// keystrokes at 40 services. Target (issue #17): p95 ≤ 50 ms at 2,000 services / 6,000 nodes.
import { chromium } from "playwright-core";
import { startConsole } from "./console.mjs";

const NODES = 3;
const rounds = Number(process.env.MUSTER_BENCH_KEYSTROKE_ROUNDS ?? 4);

/** Registers `services` × NODES through the API, 8 requests at a time. */
async function populate(port, services) {
  const register = async (s) => {
    const server = ["mucp", "grpc", "http"][s % 3];
    const body = {
      name: `go.micro.srv.bench${String(s).padStart(4, "0")}`,
      version: `1.${s % 4}.0`,
      metadata: null,
      endpoints: [{ name: `Bench${s}.Call`, request: null, response: null, metadata: {} }],
      nodes: Array.from({ length: NODES }, (_, n) => ({
        id: `bench-${s}-${n}`,
        address: `10.1.${s % 250}.${n + 1}:${8000 + (s % 1000)}`,
        metadata: { server, transport: server === "grpc" ? "grpc" : "http", protocol: server, zone: `z${n}` },
      })),
      ttl: 3600,
    };
    const response = await fetch(`http://127.0.0.1:${port}/api/services`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  };
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < services) await register(next++);
  }));
}

/** What is typed, one keystroke per entry: a name typed and erased, a key=value, a glob. */
function keystrokes() {
  const typed = (text) => Array.from(text, (_, i) => text.slice(0, i + 1));
  const erased = (text) => Array.from(text, (_, i) => text.slice(0, text.length - i - 1)).filter(Boolean);
  const sequence = [];
  for (const text of ["bench0123", "server=grpc bench1", "go.micro.srv.bench01*", "10.1.7.2"]) {
    sequence.push(...typed(text), ...erased(text), "");
  }
  return sequence;
}

/** Times every keystroke of `sequence` on the open services page; returns ms per keystroke. */
async function timeKeystrokes(page, sequence) {
  return page.evaluate(async (sequence) => {
    const input = document.getElementById("service-search");
    const section = document.querySelector("section.services");
    const one = (text) => new Promise((resolve) => {
      let settled = false;
      const observer = new MutationObserver(() => {
        if (settled) return;
        settled = true;
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - start));
      });
      observer.observe(section, { childList: true, subtree: true, characterData: true, attributes: true });
      setTimeout(() => {
        if (!settled) { settled = true; observer.disconnect(); resolve(null); }
      }, 2000);
      const start = performance.now();
      input.value = text;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    const times = [];
    for (const text of sequence) {
      times.push(await one(text));
      // Let the frame after the update finish before the next key, as a typist would.
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    return times;
  }, sequence);
}

function stats(times) {
  const sorted = times.filter((t) => t !== null).sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    samples: sorted.length,
    lost: times.length - sorted.length,
    p50: at(0.5),
    p95: at(0.95),
    max: sorted[sorted.length - 1],
  };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const results = [];
try {
  for (const [index, services] of [40, 2000].entries()) {
    const port = 3900 + index;
    const muster = await startConsole(port);
    try {
      const started = Date.now();
      await populate(port, services);
      const registered = (Date.now() - started) / 1000;
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForSelector("body[data-hydrated=true]", { timeout: 60_000 });
      await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent === "live", null, { timeout: 60_000 });
      const count = await page.textContent('[data-testid="service-count"]');
      if (!count.startsWith(`${services} of ${services}`)) throw new Error(`the page shows ${count}`);
      // A first pass warms the wasm up (and checks the search narrows the list).
      await timeKeystrokes(page, keystrokes());
      const sequence = Array.from({ length: rounds }, keystrokes).flat();
      const times = await timeKeystrokes(page, sequence);
      await page.close();
      const row = { services, nodes: services * NODES, registered_s: registered.toFixed(1), ...stats(times) };
      if (row.lost > 0) throw new Error(`${row.lost} keystrokes did not update the list`);
      results.push(row);
    } finally {
      muster.kill();
    }
  }
} finally {
  await browser.close();
}

const ms = (v) => `${v.toFixed(1)} ms`;
console.log("search keystroke → updated list (Chromium, performance.now + MutationObserver + rAF)");
console.log("services  nodes  samples  p50       p95       max       (registered in)");
for (const r of results) {
  console.log(
    `${String(r.services).padStart(8)}  ${String(r.nodes).padStart(5)}  ${String(r.samples).padStart(7)}  ` +
      `${ms(r.p50).padEnd(8)}  ${ms(r.p95).padEnd(8)}  ${ms(r.max).padEnd(8)}  (${r.registered_s} s)`,
  );
}
const large = results.find((r) => r.services === 2000);
console.log(`target p95 ≤ 50 ms at 2,000 services: ${large.p95 <= 50 ? "met" : "NOT met"} (${ms(large.p95)})`);
