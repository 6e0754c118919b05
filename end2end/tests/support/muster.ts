// Starts and stops real `muster` processes for the browser tests.
//
// test.sh runs the browser tests inside a private network namespace (unshare -n) whose loopback
// carries multicast, so the console can run its real mDNS registry on `lo` and a second process
// (`muster register`) can announce a go-micro-dialect node to it without any traffic leaving
// the namespace. Outside such a namespace (MUSTER_E2E_REGISTRY=memory) the tests that need a
// second registry are skipped with a message.
import { spawn, ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(__dirname, "../../..");
// Overridable so that a spec can be run against another build (e.g. main's, to check that a
// test fails there): MUSTER_E2E_BINARY=/path/muster MUSTER_E2E_SITE=/path/site.
export const binary = process.env.MUSTER_E2E_BINARY ?? path.join(root, "target/release/muster");
export const siteRoot = process.env.MUSTER_E2E_SITE ?? path.join(root, "target/site");
export const registry = process.env.MUSTER_E2E_REGISTRY ?? "mdns";
export const registryAddress = process.env.MUSTER_E2E_REGISTRY_ADDRESS ?? "";

let nextPort = Number(process.env.MUSTER_E2E_PORT ?? 3210);

/** Registry flags shared by the console and the CLI. */
export function registryArgs(): string[] {
  const args = ["--registry", registry];
  if (registry === "mdns") args.push("--interface", "lo");
  if (registryAddress) args.push("--registry-address", registryAddress);
  return args;
}

export class Muster {
  private child?: ChildProcess;
  readonly port: number;
  readonly dataDir: string;
  readonly log: string[] = [];

  /** `registry`: the registry flags, when not the run's (a spec with its own etcd). */
  constructor(readonly extraArgs: string[] = [], readonly registry: string[] = registryArgs()) {
    this.port = nextPort++;
    this.dataDir = mkdtempSync(path.join(tmpdir(), "muster-e2e-"));
  }

  /** https://localhost:PORT when started with --tls-cert (the name its certificate carries). */
  get url(): string {
    return this.extraArgs.includes("--tls-cert")
      ? `https://localhost:${this.port}`
      : `http://127.0.0.1:${this.port}`;
  }

  /** Starts the console and waits until /healthz answers (over HTTPS: until it listens). */
  async start(): Promise<void> {
    const args = [
      ...this.registry,
      "--listen", `127.0.0.1:${this.port}`,
      "--site-root", siteRoot,
      "--data-dir", this.dataDir,
      ...this.extraArgs,
    ];
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (chunk) => this.log.push(String(chunk)));
    child.stderr?.on("data", (chunk) => this.log.push(String(chunk)));
    this.child = child;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`muster exited early (${child.exitCode}):\n${this.log.join("")}`);
      }
      try {
        if (this.url.startsWith("https:")) {
          if (await listening(this.port)) return;
        } else {
          const response = await fetch(`${this.url}/healthz`);
          if (response.ok) return;
        }
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`muster did not become healthy:\n${this.log.join("")}`);
  }

  /** Stops the console (SIGTERM: graceful, with goodbyes) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }

  /** Registers a service through the JSON API, as a script would. */
  async register(service: object, ttl?: number): Promise<void> {
    const response = await fetch(`${this.url}/api/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...service, ttl }),
    });
    if (response.status !== 201) {
      throw new Error(`register failed: ${response.status} ${await response.text()}`);
    }
  }
}

/** `muster register -f FILE`: another process owning a node, announced over the registry. */
export async function registerOutOfBand(service: object): Promise<ChildProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), "muster-cli-"));
  const file = path.join(dir, "service.json");
  writeFileSync(file, JSON.stringify(service));
  const child = spawn(binary, ["register", "-f", file, "--ttl", "120s", ...registryArgs()], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout?.on("data", (chunk) => output.push(String(chunk)));
  child.stderr?.on("data", (chunk) => output.push(String(chunk)));
  await sleep(300);
  if (child.exitCode !== null) {
    throw new Error(`muster register exited (${child.exitCode}): ${output.join("")}`);
  }
  return child;
}

/** A loopback port nothing listens on (for a second listener or a process of a spec's own). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A go-micro service with one node and a nested request schema. */
export function greeter(name: string, nodeId: string, port: number, metadata: Record<string, string> = {}) {
  return {
    name,
    version: "1.0.0",
    metadata: null,
    endpoints: [
      {
        name: "Greeter.Hello",
        request: {
          name: "Request",
          type: "Request",
          values: [
            { name: "name", type: "string", values: null },
            {
              name: "address",
              type: "Address",
              values: [{ name: "city", type: "string", values: null }],
            },
          ],
        },
        response: { name: "Response", type: "Response", values: [{ name: "msg", type: "string", values: null }] },
        metadata: { stream: "false" },
      },
    ],
    nodes: [{ id: nodeId, address: `127.0.0.1:${port}`, metadata }],
  };
}
