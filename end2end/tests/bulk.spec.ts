// Bulk evict and a service's raw records (issue #17): "Evict all stale nodes" (of a service,
// or of every service) asks once, listing exactly what will be evicted, and evicts exactly
// that list — a node that recovers between the listing and the confirmation is kept. "View
// raw JSON" and "Export" give the service as go-micro's registry JSON. Each test runs while a
// script keeps changing another service.
import { createServer, Server } from "node:net";
import { readFileSync } from "node:fs";
import { Page } from "@playwright/test";
import { test, expect, whenLive } from "./fixtures";
import { Churn } from "./support/churn";
import { freePort, greeter, Muster, registerOutOfBand } from "./support/muster";

/** A service `name` owned by another process, nodes `ids` at `ports`, checked by TCP (grpc). */
function record(name: string, ids: string[], ports: number[]) {
  return {
    name,
    version: "1.0.0",
    metadata: null,
    endpoints: [],
    nodes: ids.map((id, i) => ({
      id,
      address: `127.0.0.1:${ports[i]}`,
      metadata: { server: "grpc", transport: "grpc", protocol: "grpc" },
    })),
  };
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.destroy());
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

async function nodeState(muster: Muster, service: string, id: string): Promise<string | undefined> {
  const response = await fetch(`${muster.url}/api/services/${service}`);
  if (!response.ok) return undefined;
  const versions = await response.json();
  for (const version of versions) {
    for (const node of version.nodes) if (node.id === id) return node.state;
  }
  return undefined;
}

/** The node ids the open confirmation lists, top to bottom. */
function listed(page: Page): Promise<string[]> {
  return page
    .locator("dialog.bulk tbody tr")
    .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-listed-node") ?? ""));
}

test("bulk evict lists exactly the stale nodes and evicts only those still stale", async ({ page }) => {
  const muster = new Muster(["--probe-interval", "500ms"]);
  await muster.start();
  const [a, b, d] = [await freePort(), await freePort(), await freePort()];
  const alive = await listen(await freePort());
  const c = (alive.address() as { port: number }).port;
  const owners = [
    await registerOutOfBand(record("e2e.bulk.svc", ["bulk-a", "bulk-b", "bulk-c"], [a, b, c])),
    await registerOutOfBand(record("e2e.bulk.other", ["bulk-d"], [d])),
  ];
  const changes = new Churn(muster, { service: "e2e.bulk.churn", intervalMs: 200, basePort: 19800 }).start();
  let recovered: Server | undefined;
  try {
    await page.goto(`${muster.url}/services/e2e.bulk.svc`);
    await whenLive(page);
    // The owners die without goodbyes: their nodes stay, unreachable, until evicted.
    for (const owner of owners) owner.kill("SIGKILL");
    await expect(page.locator('tr[data-node="bulk-a"]')).toHaveAttribute("data-state", "stale");
    await expect(page.locator('tr[data-node="bulk-b"]')).toHaveAttribute("data-state", "stale");
    await expect(page.locator('tr[data-node="bulk-c"]')).toHaveAttribute("data-state", "alive");

    await page.getByRole("button", { name: /^Evict all stale nodes of this service/ }).click();
    const dialog = page.locator("dialog.bulk");
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole("heading")).toHaveText("Evict 2 stale nodes?");
    expect(await listed(page)).toEqual(["bulk-a", "bulk-b"]);
    await expect(dialog.locator('tr[data-listed-node="bulk-a"]')).toContainText(`e2e.bulk.svc1.0.0bulk-a127.0.0.1:${a}`);

    // b comes back while the operator reads the list; the list does not move.
    recovered = await listen(b);
    await expect.poll(() => nodeState(muster, "e2e.bulk.svc", "bulk-b"), { timeout: 10_000 }).toBe("alive");
    await changes.until(5);
    expect(await listed(page)).toEqual(["bulk-a", "bulk-b"]);
    await dialog.getByRole("button", { name: "Yes, evict 2" }).click();
    await expect(page.locator(".bulk-outcome")).toHaveText("Evicted 1; kept 1 (bulk-b: alive again).");
    await expect(page.locator('tr[data-node="bulk-a"]')).toHaveAttribute("data-state", "evicted");
    await expect(page.locator('tr[data-node="bulk-b"]')).toHaveAttribute("data-state", "alive");
    await expect(page.locator('tr[data-node="bulk-c"]')).toHaveAttribute("data-state", "alive");

    // On the list: every service's stale nodes, here only d.
    await page.goto(`${muster.url}/`);
    await whenLive(page);
    await page.getByRole("button", { name: /^Evict all stale nodes \(1\)/ }).click();
    await expect(dialog.getByRole("heading")).toHaveText("Evict 1 stale node?");
    expect(await listed(page)).toEqual(["bulk-d"]);
    await dialog.getByRole("button", { name: "Yes, evict 1" }).click();
    await expect(page.locator(".bulk-outcome")).toHaveText("Evicted 1.");
    expect(await nodeState(muster, "e2e.bulk.other", "bulk-d")).toBe("evicted");
    await expect(page.getByRole("button", { name: /^Evict all stale nodes \(0\)/ })).toBeDisabled();
  } finally {
    for (const owner of owners) owner.kill("SIGKILL");
    await changes.stop();
    alive.close();
    recovered?.close();
    await muster.stop();
  }
});

test("View raw JSON and Export give the service as go-micro's registry JSON", async ({ page, muster }) => {
  await muster.register(greeter("e2e.bulk.raw", "raw-1", 18801), 60);
  await muster.register(greeter("e2e.bulk.raw", "raw-2", 18802), 60);
  const changes = new Churn(muster, { service: "e2e.bulk.churn", intervalMs: 200, basePort: 19850 }).start();
  try {
    await page.goto(`${muster.url}/services/e2e.bulk.raw`);
    await whenLive(page);
    await changes.until(3);
    await page.locator("details.raw-json summary").click();
    // Built when opened (not on every event): it appears after the details' toggle.
    await expect(page.locator("details.raw-json pre")).not.toBeEmpty();
    const raw = JSON.parse((await page.locator("details.raw-json pre").textContent()) ?? "");
    expect(raw).toHaveLength(1);
    expect(raw[0].name).toBe("e2e.bulk.raw");
    expect(raw[0].version).toBe("1.0.0");
    expect(raw[0].endpoints[0].name).toBe("Greeter.Hello");
    expect(raw[0].nodes.map((node: { id: string }) => node.id).sort()).toEqual(["raw-1", "raw-2"]);
    expect(Object.keys(raw[0].nodes[0]).sort()).toEqual(["address", "id", "metadata"]);

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("e2e.bulk.raw.json");
    expect(JSON.parse(readFileSync((await download.path())!, "utf8"))).toEqual(raw);
    await changes.until(8);
    await expect(page.locator("details.raw-json")).toHaveAttribute("open", "");
  } finally {
    await changes.stop();
  }
});
