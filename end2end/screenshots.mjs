// Takes the README's screenshots (docs/*.png) of a console watching a realistic fleet: about
// 40 go-micro services with 1-3 versions, 1-6 nodes each with go-micro's node metadata, nested
// request schemas, and some stale nodes. Run by scripts/screenshots.sh, inside a private
// network namespace whose loopback carries multicast and answers for 10.0.0.0/16.
//
// Two consoles share the mDNS registry on `lan0`: "fleet" registers the services (its nodes are
// another process's, as a real fleet's are), "shown" is the one photographed. Healthy nodes
// point at one fake go-micro peer (port 50051, every 10.0.x.y of the namespace reaches it),
// the no-check ones at a go-micro v5 peer (50052); stale nodes at a port nothing listens on,
// so the shown console's health checks find them unreachable.
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const release = path.join(root, "target/release");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const children = [];

/** Starts a process that lives until the script ends. */
function start(binary, args) {
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "inherit"] });
  children.push(child);
  return child;
}

/** A console on `port` (mDNS on lan0), waited for until /healthz answers. */
async function console_(port, extra) {
  start(path.join(release, "muster"), [
    "--registry", "mdns", "--interface", "lan0", "--listen", `127.0.0.1:${port}`,
    "--site-root", path.join(root, "target/site"),
    "--data-dir", mkdtempSync(path.join(tmpdir(), "muster-shots-")),
    ...extra,
  ]);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return url;
    } catch {}
    await sleep(100);
  }
  throw new Error(`the console on ${port} did not start`);
}

// A small deterministic generator, so every run photographs the same fleet.
let seed = 17;
function random() {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const pick = (items) => items[Math.floor(random() * items.length)];
const hex = (length) => Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join("");
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;

const field = (name, type, values = null) => ({ name, type, values });
const timestamp = (name) => field(name, "Timestamp", [field("seconds", "int64"), field("nanos", "int32")]);
const page_ = field("page", "Page", [field("size", "int32"), field("token", "string")]);

/** Endpoints of a service for `noun` (Order → Orders.Get, Orders.List, ...). */
function endpoints(noun) {
  const record = field(noun.toLowerCase(), noun, [
    field("id", "string"),
    field("labels", "map[string]string"),
    timestamp("created_at"),
    field("owner", "Owner", [
      field("id", "string"),
      field("email", "string"),
      field("address", "Address", [field("street", "string"), field("city", "string"), field("zip", "string")]),
    ]),
  ]);
  const handler = `${noun}s`;
  return [
    {
      name: `${handler}.Get`,
      request: field("GetRequest", "GetRequest", [field("id", "string")]),
      response: field("GetResponse", "GetResponse", [record]),
      metadata: { stream: "false" },
    },
    {
      name: `${handler}.List`,
      request: field("ListRequest", "ListRequest", [
        page_,
        field("filter", "Filter", [
          field("owner", "string"),
          field("range", "Range", [timestamp("from"), timestamp("to")]),
        ]),
      ]),
      response: field("ListResponse", "ListResponse", [field("items", `[]${noun}`, record.values), field("next", "string")]),
      metadata: { stream: "false" },
    },
    {
      name: `${handler}.Watch`,
      request: field("WatchRequest", "WatchRequest", [field("id", "string")]),
      response: field("Event", "Event", [field("type", "string"), record]),
      metadata: { stream: "true" },
    },
  ];
}

const nouns = [
  ["greeter", "Greeting"], ["user", "User"], ["order", "Order"], ["payment", "Payment"],
  ["inventory", "Item"], ["shipping", "Shipment"], ["notification", "Notification"],
  ["auth", "Token"], ["catalog", "Product"], ["cart", "Cart"], ["search", "Result"],
  ["review", "Review"], ["pricing", "Price"], ["tax", "Rate"], ["invoice", "Invoice"],
  ["ledger", "Entry"], ["fraud", "Check"], ["profile", "Profile"], ["session", "Session"],
  ["email", "Message"], ["sms", "Message"], ["geo", "Location"], ["config", "Setting"],
  ["audit", "Record"], ["report", "Report"], ["media", "Asset"], ["subscription", "Plan"],
  ["coupon", "Coupon"], ["loyalty", "Account"], ["warehouse", "Slot"],
];
const mucp = { broker: "http", protocol: "mucp", registry: "mdns", server: "mucp", transport: "http" };
const grpc = { broker: "http", protocol: "grpc", registry: "mdns", server: "grpc", transport: "grpc" };

/** The fleet: go.micro.srv.* for every noun, and a few api/web gateways. */
function fleet() {
  const services = [];
  let host = 10;
  const add = (name, noun, kind) => {
    const versions = pick([["1.0.0"], ["1.2.3"], ["1.2.3", "1.3.0"], ["0.9.1", "1.0.0", "1.1.0-rc.1"], ["2.0.0"]]);
    versions.forEach((version, index) => {
      const nodes = 1 + Math.floor(random() * (index === versions.length - 1 ? 6 : 2));
      const metadata = kind === "grpc" ? grpc : mucp;
      services.push({
        name,
        version,
        metadata: null,
        endpoints: kind === "web" ? [] : endpoints(noun),
        nodes: Array.from({ length: nodes }, () => {
          host++;
          const stale = random() < 0.12;
          const port = stale ? 50099 : kind === "grpc" ? 50052 : 50051;
          return {
            id: `${name}-${uuid()}`,
            address: `10.0.${Math.floor(host / 250)}.${(host % 250) + 2}:${port}`,
            metadata: { ...metadata },
          };
        }),
      });
    });
  };
  // Some grpc servers (a TCP check only); the order service, photographed, speaks mucp.
  for (const [noun, type] of nouns) {
    add(`go.micro.srv.${noun}`, type, random() < 0.2 && noun !== "order" ? "grpc" : "mucp");
  }
  for (const noun of ["user", "order", "catalog", "search", "auth"]) add(`go.micro.api.${noun}`, "Call", "mucp");
  for (const noun of ["dashboard", "shop", "admin"]) add(`go.micro.web.${noun}`, "Page", "web");
  // One service whose every node is gone: what "needs attention" looks like.
  services.push({
    name: "go.micro.srv.legacy-billing",
    version: "0.4.2",
    metadata: null,
    endpoints: endpoints("Bill"),
    nodes: [0, 1].map((i) => ({ id: `go.micro.srv.legacy-billing-${uuid()}`, address: `10.0.9.${20 + i}:50099`, metadata: { ...mucp } })),
  });
  return services;
}

try {
  const healthy = start(path.join(release, "fake-go-micro"), ["0.0.0.0:50051", "v1.18"]);
  const noCheck = start(path.join(release, "fake-go-micro"), ["0.0.0.0:50052", "v5"]);
  const fleetUrl = await console_(3298, ["--no-advertise", "--no-lan", "--probe-interval", "0"]);
  const shown = await console_(3299, ["--probe-interval", "2s"]);
  const services = fleet();
  for (const service of services) {
    const response = await fetch(`${fleetUrl}/api/services`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(service),
    });
    if (response.status !== 201) throw new Error(`${service.name}: ${response.status} ${await response.text()}`);
  }
  const names = new Set(services.map((service) => service.name));
  const nodes = services.reduce((sum, service) => sum + service.nodes.length, 0);
  // Until the shown console has them all over mDNS, and its health checks have run.
  for (let i = 0; i < 300; i++) {
    const seen = await (await fetch(`${shown}/api/services`)).json();
    if (seen.length >= names.size) break;
    await sleep(200);
  }
  await sleep(6000);
  console.error(`[screenshots] ${names.size} services, ${nodes} nodes (${healthy.pid}, ${noCheck.pid} answer)`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  const shoot = async (options, href, file, prepare = async () => {}) => {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    await page.goto(`${shown}${href}`);
    await page.waitForFunction(() => document.body.dataset.hydrated === "true");
    await page.getByTestId("connection").filter({ hasText: "live" }).waitFor();
    await prepare(page);
    await sleep(400);
    await page.screenshot({ path: path.join(root, "docs", file), fullPage: options.fullPage ?? false });
    await context.close();
  };
  const desktop = { viewport: { width: 1280, height: 860 }, colorScheme: "light" };

  await shoot(desktop, "/", "services.png");
  await shoot(
    { viewport: { width: 1280, height: 1100 }, colorScheme: "dark" },
    "/services/go.micro.srv.order",
    "service.png",
    async (page) => {
      const list = page.locator('[data-endpoint="Orders.List"]').last();
      await list.scrollIntoViewIfNeeded();
      // The request schema opened all the way down (the tree's own "Expand all").
      await list.getByRole("button", { name: "Expand all" }).first().click();
      await page.evaluate(() => window.scrollTo(0, 0));
    },
  );
  await shoot(
    { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: "light" },
    "/",
    "phone.png",
  );
  await shoot(desktop, "/events", "events.png");
  await shoot(desktop, "/register", "register.png", async (page) => {
    await page.getByLabel("Service name").fill("go.micro.srv.cart");
    await page.getByLabel(/^Nodes/).fill("not-an-address");
    await page.getByRole("button", { name: "Register" }).click();
    await page.locator("#nodes-error").waitFor();
  });
  await browser.close();
} finally {
  for (const child of children.reverse()) child.kill("SIGTERM");
}
