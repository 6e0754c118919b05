// Takes the README's screenshots (docs/*.png) from a real console with a few services.
// Run after scripts/build-site.sh:  node end2end/screenshots.mjs
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const port = 3299;
const url = `http://127.0.0.1:${port}`;
const server = spawn(path.join(root, "target/release/muster"), [
  "--registry", "memory", "--listen", `127.0.0.1:${port}`, "--probe-interval", "0",
  // Run outside any test namespace: no DNS-SD advertisement or LAN browsing on real links.
  "--no-advertise", "--no-lan",
  "--site-root", path.join(root, "target/site"),
  "--data-dir", mkdtempSync(path.join(tmpdir(), "muster-shots-")),
], { stdio: "inherit" });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(`${url}/healthz`)).ok) break; } catch {}
  await sleep(100);
}

const field = (name, type, values = null) => ({ name, type, values });
const services = [
  ["go.micro.srv.greeter", "latest", 3, [{
    name: "Greeter.Hello",
    request: field("Request", "Request", [field("name", "string")]),
    response: field("Response", "Response", [field("msg", "string")]),
    metadata: { stream: "false" },
  }]],
  ["com.example.orders", "2.3.4", 2, [{
    name: "Orders.Place",
    request: field("PlaceRequest", "PlaceRequest", [
      field("id", "string"), field("items", "[]Item", [field("sku", "string"), field("qty", "int32")]),
      field("customer", "Customer", [field("email", "string"),
        field("address", "Address", [field("city", "string"), field("zip", "string")])]),
    ]),
    response: field("PlaceResponse", "PlaceResponse", [field("order_id", "string"), field("total", "float64")]),
    metadata: null,
  }, { name: "Orders.Get", request: field("GetRequest", "GetRequest", [field("id", "string")]), response: null, metadata: null }]],
  ["com.example.payments", "1.0.0", 1, []],
  ["com.example.inventory", "0.9.1", 4, []],
];
for (const [name, version, nodes, endpoints] of services) {
  await fetch(`${url}/api/services`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name, version, endpoints, ttl: 300,
      nodes: Array.from({ length: nodes }, (_, i) => ({
        id: `${name}-${i + 1}`, address: `10.0.0.${10 + i}:${8080 + i}`,
        metadata: { broker: "http", protocol: "mucp", registry: "mdns", server: "mucp", transport: "http" },
      })),
    }),
  });
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const hydrated = () => page.waitForFunction(() => document.body.dataset.hydrated === "true");

await page.goto(url); await hydrated(); await sleep(500);
await page.screenshot({ path: path.join(root, "docs/services.png") });

await page.goto(`${url}/services/com.example.orders`); await hydrated(); await sleep(300);
const endpoint = page.locator('[data-endpoint="Orders.Place"]');
await endpoint.locator("summary", { hasText: "PlaceRequest" }).first().click();
await endpoint.locator("summary", { hasText: "customer" }).click();
await endpoint.locator("summary", { hasText: "address" }).click();
await endpoint.locator("summary", { hasText: "Example JSON" }).first().click();
await sleep(300);
await page.screenshot({ path: path.join(root, "docs/service.png"), fullPage: true });

await page.goto(`${url}/register`); await hydrated();
await page.getByLabel("Service name").fill("shop.cart");
await page.getByLabel(/^Nodes/).fill("not-an-address");
await page.getByRole("button", { name: "Register" }).click();
await page.locator("#nodes-error").waitFor();
await page.screenshot({ path: path.join(root, "docs/register.png"), fullPage: true });

await browser.close();
server.kill("SIGTERM");
