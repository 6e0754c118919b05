// Starts a `muster` for the page benchmarks: memory registry on loopback, no probing, no mDNS.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the console on `port` (this tree's release build unless `binary`/`site` are given)
 * and resolves with the child once /healthz answers. */
export async function startConsole(
  port,
  { binary = path.join(root, "target/release/muster"), site = path.join(root, "target/site") } = {},
) {
  const args = [
    "--registry", "memory", "--listen", `127.0.0.1:${port}`, "--probe-interval", "0",
    "--no-advertise", "--no-lan", "--site-root", site,
    "--data-dir", mkdtempSync(path.join(tmpdir(), "muster-bench-page-")),
  ];
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (chunk) => (log += chunk));
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`muster exited: ${log}`);
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child; } catch {}
    await sleep(50);
  }
  throw new Error(`muster did not start: ${log}`);
}

/** Registers `services` x `nodes` through the API (what a busy LAN looks like to the page). */
export async function populate(port, services, nodes) {
  for (let s = 0; s < services; s++) {
    const body = {
      name: `bench.svc.${String(s).padStart(4, "0")}`,
      version: "1.0.0",
      metadata: { team: "bench" },
      endpoints: [{
        name: "Svc.Call",
        request: { name: "Request", type: "Request", values: [{ name: "id", type: "string", values: null }] },
        response: { name: "Response", type: "Response", values: [{ name: "ok", type: "bool", values: null }] },
        metadata: { stream: "false" },
      }],
      nodes: Array.from({ length: nodes }, (_, n) => ({
        id: `bench-${s}-${n}`, address: `10.1.${s % 250}.${n + 1}:8080`, metadata: { zone: `z${n % 3}` },
      })),
      ttl: 3600,
    };
    const response = await fetch(`http://127.0.0.1:${port}/api/services`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  }
}
