// Page weight and hydration time of the console, for BENCHMARKS.md (a benchmark, not a test:
// it prints figures and fails only when the page does not work at all).
//
//   node end2end/bench/page.mjs            (after scripts/build-site.sh; scripts/bench.sh runs it)
//
// - Weight: the release bundle in target/site/pkg as served, raw / gzip -9 / brotli -11.
// - Hydration: headless Chromium on loopback, a fresh browser context per load (no cache), time
//   from navigation start to `<body data-hydrated="true">` (set by the wasm's `hydrate()`),
//   for a small registry and for 1,000 services x 10 nodes. Baseline in the same browser: the
//   same navigation to `/healthz` (a 2-byte page: what the browser alone costs).
// - Another build: MUSTER_BENCH_BINARY (a `muster`) and MUSTER_BENCH_SITE (its target/site),
//   to measure a baseline build in the same run as this tree's.
import { chromium } from "playwright-core";
import { populate, startConsole } from "./console.mjs";
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";

const root = path.resolve(import.meta.dirname, "../..");
const runs = Number(process.env.MUSTER_BENCH_PAGE_RUNS ?? 15);
const binary = process.env.MUSTER_BENCH_BINARY ?? path.join(root, "target/release/muster");
const site = process.env.MUSTER_BENCH_SITE ?? path.join(root, "target/site");

function weight() {
  const rows = [];
  for (const file of ["muster_bg.wasm", "muster.js", "muster.css"]) {
    const bytes = readFileSync(path.join(site, "pkg", file));
    const gzip = gzipSync(bytes, { level: 9 }).length;
    const brotli = brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
    }).length;
    rows.push({ file, raw: bytes.length, gzip, brotli });
  }
  return rows;
}

/** Loads `url` in a fresh context `runs` times; returns per-run timings in ms. */
async function loads(browser, url, { hydrated }) {
  const timings = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Stamp the moment hydrate() marks the body, in the page's own clock.
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.body?.dataset.hydrated === "true") {
          window.__hydratedAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
    });
    await page.goto(url, { waitUntil: "load" });
    if (hydrated) await page.waitForSelector("body[data-hydrated=true]", { timeout: 30_000 });
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const wasm = performance.getEntriesByType("resource").find((r) => r.name.endsWith("_bg.wasm"));
      return {
        wasm: wasm ? wasm.responseEnd : null,
        wasmBytes: wasm ? wasm.transferSize : null,
        response: nav.responseEnd,
        html: nav.transferSize,
        dom: nav.domContentLoadedEventEnd,
        load: nav.loadEventEnd,
        hydrated: window.__hydratedAt ?? null,
      };
    });
    timings.push(t);
    await context.close();
  }
  return timings;
}

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ms = (v) => `${v.toFixed(1)} ms`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const results = { weight: weight(), scenarios: [] };
let port = 3400;
for (const [label, services, nodes] of [["10 services x 2 nodes", 10, 2], ["1,000 services x 10 nodes", 1000, 10]]) {
  const server = await startConsole(port, { binary, site });
  try {
    await populate(port, services, nodes);
    const base = await loads(browser, `http://127.0.0.1:${port}/healthz`, { hydrated: false });
    const page = await loads(browser, `http://127.0.0.1:${port}/`, { hydrated: true });
    results.scenarios.push({ label, base, page });
  } finally {
    server.kill("SIGTERM");
  }
  port++;
}
await browser.close();

// Report.
const total = (key) => results.weight.filter((r) => r.file !== "muster.css").reduce((s, r) => s + r[key], 0);
console.log("## Page weight (target: wasm + JS gzipped <= 300 KB)");
console.log("| file | raw | gzip -9 | brotli -11 |\n|---|---:|---:|---:|");
for (const r of results.weight) console.log(`| ${r.file} | ${r.raw} | ${r.gzip} | ${r.brotli} |`);
console.log(`| **wasm + JS** | ${total("raw")} | **${total("gzip")}** | ${total("brotli")} |`);
console.log(`\n## Hydration (target: <= 300 ms), ${runs} cold loads each`);
console.log("| registry | HTML bytes | HTML received p50 | wasm received p50 (bytes on the wire) | DOMContentLoaded p50 | hydrated p50 | hydrated p90 | baseline /healthz load p50 | hydrated / baseline |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const s of results.scenarios) {
  const hydrated = s.page.map((t) => t.hydrated);
  if (hydrated.some((h) => h === null)) throw new Error(`${s.label}: the page never hydrated`);
  const base = pct(s.base.map((t) => t.load), 50);
  console.log(`| ${s.label} | ${pct(s.page.map((t) => t.html), 50)} | ${ms(pct(s.page.map((t) => t.response), 50))} | ${ms(pct(s.page.map((t) => t.wasm ?? 0), 50))} (${pct(s.page.map((t) => t.wasmBytes ?? 0), 50)}) | ${ms(pct(s.page.map((t) => t.dom), 50))} | ${ms(pct(hydrated, 50))} | ${ms(pct(hydrated, 90))} | ${ms(base)} | ${(pct(hydrated, 50) / base).toFixed(1)}x |`);
}
