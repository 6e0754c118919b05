import { test as base, expect, whenLive, nav } from "./fixtures";
import { Muster, registry, greeter } from "./support/muster";
import { DnssdPeer } from "./support/dnssd_peer";
import { Churn } from "./support/churn";

// The LAN page lists standard DNS-SD services (not go-micro's dialect), live. The independent
// peer is python-zeroconf publishing on the namespace's loopback, like a printer on a LAN.
const test = base.extend<{ bridging: Muster }>({
  bridging: async ({}, use, testInfo) => {
    const muster = new Muster(["--bridge-dnssd"]);
    await muster.start();
    await use(muster);
    await muster.stop();
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach("muster.log", { body: muster.log.join("") });
    }
  },
});

test.skip(registry !== "mdns", "needs the multicast loopback of end2end/run.sh's namespace");

test("a peer's DNS-SD service appears live, is searchable, and its goodbye removes it", async ({ page, bridging }) => {
  await page.goto(bridging.url);
  await whenLive(page);
  await nav(page, "LAN").click();
  await expect(page).toHaveURL(/\/lan$/);
  await expect(page.getByTestId("lan-connection")).toHaveText("live");

  const peer = await DnssdPeer.publish("_ipp._tcp.local.", "Office printer", 631, ["rp=ipp/print", "note=first floor"]);
  try {
    const row = page.locator('tr[data-fullname="Office printer._ipp._tcp.local."]');
    await expect(row).toBeVisible();
    await expect(row.locator("td").nth(0)).toHaveText("_ipp._tcp");
    await expect(row.locator("td").nth(3)).toHaveText("631");
    await expect(row.locator("td").nth(4)).toContainText("127.0.0.1");
    await expect(row.locator(".pair", { hasText: "rp=ipp/print" })).toBeVisible();
    await expect(row.locator(".pair", { hasText: "note=first floor" })).toBeVisible();

    // The search narrows the table and lives in the URL.
    await page.getByLabel("Search").fill("first floor");
    await expect(page).toHaveURL(/\/lan\?q=first/);
    await expect(page.locator("tbody tr")).toHaveCount(1);
    await page.getByLabel("Search").fill("");
  } finally {
    await peer.stop();
  }
  await expect(page.locator('tr[data-fullname="Office printer._ipp._tcp.local."]')).toHaveCount(0);
});

test("the console's own advertisement and its bridged go-micro nodes show as DNS-SD", async ({ page, bridging }) => {
  await bridging.register(greeter("go.micro.srv.lan", "lan-node-1", 9191, { zone: "a" }));
  await page.goto(`${bridging.url}/lan`);
  await whenLive(page);

  const churn = new Churn(bridging, { service: "e2e.lan.churn", intervalMs: 300, basePort: 19300 }).start();

  // "Muster on <host>:<port>" under _http._tcp, with the TXT a browser bookmark needs, and a
  // link that opens it at its address.
  const own = page
    .locator('tr[data-type="_http._tcp.local."]')
    .filter({ has: page.locator("td.instance", { hasText: new RegExp(`^Muster on .*:${bridging.port}$`) }) });
  await expect(own).toBeVisible();
  await expect(own.locator(".pair", { hasText: "path=/" })).toBeVisible();
  await expect(own.getByTestId("lan-open")).toHaveAttribute("href", `http://127.0.0.1:${bridging.port}/`);
  await expect(own.getByTestId("lan-open")).toHaveAttribute("rel", "noopener noreferrer");

  // The go-micro node, mirrored under _micro._tcp with service/version/node TXT.
  const mirror = page.locator('tr[data-type="_micro._tcp.local."]').filter({ hasText: "lan-node-1" });
  await expect(mirror).toBeVisible();
  await expect(mirror.locator(".pair", { hasText: "service=go.micro.srv.lan" })).toBeVisible();
  await expect(mirror.locator(".pair", { hasText: "zone=a" })).toBeVisible();
  await expect(mirror.getByTestId("lan-open")).toHaveCount(0);

  // The mirror links to its go-micro service, at its node.
  await mirror.getByTestId("lan-mirror").click();
  await expect(page).toHaveURL(/\/services\/go\.micro\.srv\.lan#node-lan-node-1$/);
  await expect(page.locator('tr[data-node="lan-node-1"]')).toBeVisible();
  await page.goBack();
  await expect(mirror).toBeVisible();
  await churn.until(5);
  await churn.stop();

  // Deregistering the node withdraws the mirror (a goodbye), live on the page.
  const response = await fetch(`${bridging.url}/api/services/go.micro.srv.lan/nodes/lan-node-1`, { method: "DELETE" });
  expect(response.status).toBeLessThan(300);
  await expect(mirror).toHaveCount(0);
});

base("the LAN page says off when LAN browsing is off", async ({ page }) => {
  const muster = new Muster(["--no-lan"]);
  await muster.start();
  const churn = new Churn(muster, { service: "e2e.lan.off", intervalMs: 300, basePort: 19350 }).start();
  try {
    await page.goto(`${muster.url}/lan`);
    await whenLive(page);
    await expect(page.getByTestId("lan-connection")).toHaveText("off");
    await expect(page.getByTestId("lan-connection")).toHaveClass(/badge-off/);
    await expect(page.getByTestId("lan-disabled")).toContainText("--no-lan");
    await churn.until(5);
    await expect(page.getByTestId("lan-connection")).toHaveText("off");
  } finally {
    await churn.stop();
    await muster.stop();
  }
});
