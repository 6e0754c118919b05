// Where a cold load's time goes until the page is hydrated: V8's sampling CPU profile of the
// page's main thread, from navigation to `<body data-hydrated="true">`, summed by function and
// by crate over several cold loads (a profile for BENCHMARKS.md, not a test).
//
//   scripts/bench.sh --hydrate-profile        (builds a site whose wasm keeps its names)
//   node end2end/bench/hydrate-profile.mjs SITE [SERVICES NODES]
//
// SITE is a `target/site` whose muster_bg.wasm kept its name section (the release bundle drops
// it: functions would show as `wasm-function[N]`). Default registry: 1,000 services x 10 nodes,
// the heavier of page.mjs's two. Needs headless Chromium; run inside `unshare --net`. The page's
// websocket is stubbed out: what is profiled is the load and the hydration, not the live feed.
import { chromium } from "playwright-core";
import { populate, startConsole } from "./console.mjs";

const [site, services = "1000", nodes = "10"] = process.argv.slice(2);
if (!site) throw new Error("usage: node end2end/bench/hydrate-profile.mjs SITE [SERVICES NODES]");
const runs = Number(process.env.MUSTER_BENCH_PAGE_RUNS ?? 5);
const port = 3450;

/** The crate a Rust function of the module belongs to (`crate[hash]::…`, `<crate[hash]::Type
 * as …>::…`, `<_ as crate[hash]::Trait>::…`: the first crate named), or a bucket for the rest. */
function owner(frame) {
  const name = frame.functionName;
  if (name.startsWith("(")) return name; // (program), (idle), (garbage collector)
  if (!/\.wasm$|^wasm:/.test(frame.url)) {
    return frame.url ? `JS ${frame.url.replace(/^.*\//, "")}` : "JS (browser, glue)";
  }
  if (/^wasm-function\[/.test(name)) return "wasm (no name section)";
  const crate = name.replace(/^[<&]+|^mut |^_ as |^dyn /g, "").replace(/^[<&]+|^mut |^_ as |^dyn /g, "")
    .match(/^(\w+)(\[[0-9a-f]+\])?::/);
  return crate ? crate[1] : `wasm (${name.slice(0, 40)})`;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const server = await startConsole(port, { site });
const byCrate = new Map();
const byFunction = new Map();
let total = 0;
let hydratedSum = 0;
let instantiateSum = 0; // the module's compile + instantiate (the wasm's download included)
let instantiatedSum = 0; // when it was ready to run
let afterSum = 0; // from then to hydrated: running `hydrate()`
const timelines = [];
try {
  await populate(port, Number(services), Number(nodes));
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    // No live feed: its snapshot (the whole view) would arrive and be read while the profile
    // still runs, and it is not part of hydrating the page.
    // And the module's compile + instantiate, timed from the call to its promise's end.
    await page.addInitScript(() => {
      window.WebSocket = class { constructor() {} close() {} send() {} };
      for (const key of ["instantiateStreaming", "instantiate"]) {
        const native = WebAssembly[key];
        WebAssembly[key] = async (...args) => {
          const started = performance.now();
          const result = await native.apply(WebAssembly, args);
          window.__instantiate = [started, performance.now()];
          return result;
        };
      }
      new MutationObserver((_, observer) => {
        if (document.body?.dataset.hydrated === "true") {
          window.__hydratedAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 100 }); // µs
    await cdp.send("Profiler.start");
    await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: "load" });
    await page.waitForSelector("body[data-hydrated=true]", { timeout: 30_000 });
    const { profile } = await cdp.send("Profiler.stop");
    const marks = await page.evaluate(() => ({
      hydrated: window.__hydratedAt,
      instantiate: window.__instantiate,
      dom: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
      html: performance.getEntriesByType("navigation")[0].responseEnd,
      files: Object.fromEntries(performance.getEntriesByType("resource")
        .map((r) => [r.name.replace(/^.*\//, ""), [r.startTime, r.responseEnd]])),
    }));
    timelines.push(marks);
    hydratedSum += marks.hydrated;
    instantiateSum += marks.instantiate[1] - marks.instantiate[0];
    instantiatedSum += marks.instantiate[1];
    afterSum += marks.hydrated - marks.instantiate[1];
    // Self time per node: each sample's time delta goes to the node it landed in.
    const nodesById = new Map(profile.nodes.map((node) => [node.id, node]));
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const frame = nodesById.get(id).callFrame;
      const crate = owner(frame);
      byCrate.set(crate, (byCrate.get(crate) ?? 0) + ms);
      const name = `${frame.functionName || "(anonymous)"}`.slice(0, 140);
      byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
      total += ms;
    });
    await context.close();
  }
} finally {
  server.kill("SIGTERM");
  await browser.close();
}

const per = (ms) => (ms / runs).toFixed(1);
const share = (ms) => `${((100 * ms) / total).toFixed(1)} %`;
console.log(`## Main thread until hydrated, ${services} services x ${nodes} nodes, ${runs} cold loads`);
console.log(`hydrated at ${per(hydratedSum)} ms (p. load, page clock); the module's instantiateStreaming took ${per(instantiateSum)} ms (download included), done at ${per(instantiatedSum)} ms; hydrate() then ran ${per(afterSum)} ms`);
const median = (f) => {
  const values = timelines.map(f).filter((v) => v !== undefined).sort((a, b) => a - b);
  return values.length ? values[Math.floor(values.length / 2)].toFixed(1) : "—";
};
const file = (name, i) => (t) => t.files[name]?.[i];
console.log(`timeline (median ms from navigation start): HTML received ${median((t) => t.html)}; muster.css ${median(file("muster.css", 0))}–${median(file("muster.css", 1))}; muster.js ${median(file("muster.js", 0))}–${median(file("muster.js", 1))}; muster_bg.wasm ${median(file("muster_bg.wasm", 0))}–${median(file("muster_bg.wasm", 1))}; DOMContentLoaded ${median((t) => t.dom)}; instantiate ${median((t) => t.instantiate[0])}–${median((t) => t.instantiate[1])}; hydrated ${median((t) => t.hydrated)}`);
console.log(`profiled ${per(total)} ms per load (sampling every 100 µs slows the page: compare shares, not times)\n`);
console.log("| owner (crate, or what is not Rust) | ms per load | share |\n| --- | ---: | ---: |");
for (const [crate, ms] of [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`| ${crate} | ${per(ms)} | ${share(ms)} |`);
}
console.log("\n| function (self time) | ms per load | share |\n| --- | ---: | ---: |");
for (const [name, ms] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(`| \`${name.replaceAll("|", "\\|")}\` | ${per(ms)} | ${share(ms)} |`);
}
