// An independent DNS-SD peer for the LAN page's tests: python-zeroconf (installed by
// `scripts/setup.sh test` in target/pyenv) running server/tests/dnssd_peer.py, the same peer
// the server's own DNS-SD tests use.
import { spawn, ChildProcess } from "node:child_process";
import path from "node:path";

const root = path.resolve(__dirname, "../../..");
const python = path.join(root, "target/pyenv/bin/python");
const script = path.join(root, "server/tests/dnssd_peer.py");

export class DnssdPeer {
  private constructor(private readonly child: ChildProcess, private readonly lines: string[]) {}

  /** Publishes `instance` of `type` on the loopback until stop(); resolves once published. */
  static async publish(type: string, instance: string, port: number, txt: string[]): Promise<DnssdPeer> {
    const child = spawn(python, [script, "--ip", "127.0.0.1", "publish", type, instance, String(port), ...txt], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const lines: string[] = [];
    child.stdout?.on("data", (chunk) => lines.push(...String(chunk).split("\n").filter(Boolean)));
    child.stderr?.on("data", (chunk) => lines.push(String(chunk)));
    const peer = new DnssdPeer(child, lines);
    await peer.waitFor("published");
    return peer;
  }

  /** Closes the peer's stdin: it unregisters (a goodbye on the network) and exits. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin?.end();
    await exited;
  }

  private async waitFor(event: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.lines.some((line) => line.includes(`"event": "${event}"`))) return;
      if (this.child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`dnssd peer: no "${event}" (${this.child.exitCode}):\n${this.lines.join("\n")}`);
  }
}
