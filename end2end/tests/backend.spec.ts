import { test, expect } from "@playwright/test";
import { spawn, ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { whenLive } from "./fixtures";
import { Muster, freePort, greeter, sleep } from "./support/muster";

// The connection badge tells the registry's state, not only the console's: a console on etcd
// whose etcd goes away keeps its websocket (and its view), so without /readyz the badge would
// say "live" while every action fails. This spec runs its own single-member etcd (whatever
// registry the run uses), kills it under the open page and starts it again, while a script
// keeps registering and deregistering other services.

/** A single-member etcd on loopback that can be killed and started again on the same data. */
class Etcd {
  private child?: ChildProcess;
  readonly dataDir = mkdtempSync(path.join(tmpdir(), "muster-e2e-etcd-"));
  constructor(readonly clientPort: number, readonly peerPort: number) {}

  get address(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  async start(): Promise<void> {
    const client = `http://${this.address}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.child = spawn("etcd", [
      "--name", "badge", "--data-dir", this.dataDir,
      "--listen-client-urls", client, "--advertise-client-urls", client,
      "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
      "--initial-cluster", `badge=${peer}`,
    ], { stdio: "ignore" });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${client}/health`);
        if (response.ok && (await response.json()).health === "true") return;
      } catch {
        // not up yet
      }
      await sleep(100);
    }
    throw new Error("etcd did not become healthy");
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async remove(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Registers and deregisters `badge.churn.N` until stopped; failures (etcd down) are expected. */
function churn(muster: Muster): { stop: () => Promise<void>; accepted: () => number } {
  let running = true;
  let accepted = 0;
  const loop = (async () => {
    for (let round = 0; running; round++) {
      try {
        await muster.register(greeter(`badge.churn.${round % 3}`, `churn-${round}`, 19500 + (round % 50)));
        accepted++;
        await fetch(`${muster.url}/api/services/badge.churn.${(round + 1) % 3}/nodes/churn-${round - 1}`, {
          method: "DELETE",
        });
      } catch {
        // the registry is down: the console answers 503, which is what this spec is about
      }
      await sleep(150);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
    accepted: () => accepted,
  };
}

test("the badge says when etcd is unavailable and when it is back, the page kept", async ({ page }) => {
  test.setTimeout(90_000);
  const etcd = new Etcd(await freePort(), await freePort());
  await etcd.start();
  const muster = new Muster([], ["--registry", "etcd", "--registry-address", etcd.address]);
  try {
    await muster.start();
    await muster.register(greeter("badge.orders", "orders-1", 19480));
    const background = churn(muster);

    await page.goto(`${muster.url}/services/badge.orders`);
    await whenLive(page);
    const badge = page.getByTestId("connection");
    await expect(badge).toHaveAttribute("title", /registry etcd: etcd is reachable/);
    const details = page.locator("details.example").first();
    await details.locator("summary").first().click();
    await expect(details).toHaveAttribute("open", "");

    await etcd.kill();
    await expect(badge).toHaveText("etcd unavailable", { timeout: 15_000 });
    await expect(badge).toHaveClass(/badge-degraded/);
    await expect(badge).toHaveAttribute("title", /cannot reach etcd at 127\.0\.0\.1:\d+/);
    await expect(page.getByTestId("connection-alert")).toContainText(
      "registrations and evictions fail until it is back",
    );
    // The page kept what it showed and what the user opened.
    await expect(page.getByRole("cell", { name: "orders-1 Copy node id Link to this node" })).toBeVisible();
    await expect(details).toHaveAttribute("open", "");
    const before = background.accepted();

    await etcd.start();
    await expect(badge).toHaveText("live", { timeout: 15_000 });
    await expect(page.getByTestId("connection-alert")).toHaveCount(0);
    await expect.poll(() => background.accepted(), { timeout: 15_000 }).toBeGreaterThan(before + 3);
    await expect(details).toHaveAttribute("open", "");
    await background.stop();
  } finally {
    await muster.stop();
    await etcd.remove();
    if (test.info().status !== test.info().expectedStatus) {
      await test.info().attach("muster.log", { body: muster.log.join("") });
    }
  }
});
