import { spawn, ChildProcess } from "node:child_process";
import path from "node:path";
import { test as base, expect, whenLive } from "./fixtures";
import { Churn } from "./support/churn";
import { Muster, greeter } from "./support/muster";

// Node health on the services list: each row counts its service's live nodes by their last
// check, and a service whose nodes all fail or are unreachable looks broken. The console
// checks every 300 ms; a background churn keeps changing another service meanwhile.

const fakePeer = path.resolve(__dirname, "../../target/release/fake-go-micro");
const MUCP = { broker: "http", protocol: "mucp", registry: "mdns", server: "mucp", transport: "http" };

/** Starts a fake go-micro v1.18 node on `address` and waits until it listens. */
async function startPeer(address: string): Promise<ChildProcess> {
  const child = spawn(fakePeer, [address, "v1.18"], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk) => String(chunk).includes("listening") && resolve());
    child.once("exit", (code) => reject(new Error(`fake-go-micro exited (${code})`)));
  });
  return child;
}

/** The fixtures' console, checking its nodes every 300 ms. */
const test = base.extend<{ muster: Muster }>({
  muster: async ({}, use, testInfo) => {
    const muster = new Muster(["--probe-interval", "300ms"]);
    await muster.start();
    await use(muster);
    await muster.stop();
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach("muster.log", { body: muster.log.join("") });
    }
  },
});

test("the services list shows failing and unreachable nodes, and a broken service, under churn", async ({
  page,
  muster,
}) => {
  const peerAddress = "127.0.0.1:18650";
  const peer = await startPeer(peerAddress);
  try {
    const service = greeter("e2e.health.mixed", "up", 0, MUCP);
    service.nodes = [
      { id: "up", address: peerAddress, metadata: MUCP },
      // The console's own address answers HTTP, but not as go-micro: failing.
      { id: "wrong", address: `127.0.0.1:${muster.port}`, metadata: MUCP },
      // Nothing listens here: unreachable.
      { id: "down", address: "127.0.0.1:18651", metadata: MUCP },
    ];
    await muster.register(service);
    const churn = new Churn(muster, { service: "e2e.health.churn", intervalMs: 200, basePort: 19300 }).start();

    await page.goto(`${muster.url}/`);
    await whenLive(page);
    const cell = page.locator('tr[data-service="e2e.health.mixed"] td.health-cell');
    await expect(cell.locator('[data-health-count="healthy"]')).toHaveText("1");
    await expect(cell.locator('[data-health-count="failing"]')).toHaveText("1");
    await expect(cell.locator('[data-health-count="unreachable"]')).toHaveText("1");
    await expect(cell).toHaveAttribute("title", /^1 healthy, 1 failing, 1 unreachable, 0 no check/);
    await expect(cell).toHaveAttribute("data-broken", "false");

    // The healthy node dies: no node of the service answers well any more.
    await churn.until(10);
    peer.kill();
    await expect(cell.locator('[data-health-count="unreachable"]')).toHaveText("2");
    await expect(cell.locator('[data-health-count="healthy"]')).toHaveCount(0);
    await expect(cell).toHaveAttribute("data-broken", "true");
    await expect(cell).toContainText(/broken/i);
    await churn.until(churn.changes + 10);
    await expect(cell).toHaveAttribute("data-broken", "true");
    await churn.stop();

    // The server's first render (before the live view) shows the same.
    await page.reload();
    await expect(cell).toHaveAttribute("data-broken", "true");
    await expect(cell.locator('[data-health-count="failing"]')).toHaveText("1");
  } finally {
    peer.kill();
  }
});
