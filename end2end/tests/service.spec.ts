// The service page (issue #17): a summary, one node table for every version with a version
// filter in the URL, endpoints once per distinct schema with the versions that differ and a
// comparison, subscribers apart, and the schema as a keyboard treeview. Every test runs while
// one generator changes another service and a second adds and removes nodes of the service
// shown: nothing the operator opened, chose or typed may be lost.
import { execSync } from "node:child_process";
import { Locator, Page } from "@playwright/test";
import { test, expect, whenLive } from "./fixtures";
import { Churn } from "./support/churn";
import { startPeer } from "./support/peer";
import { Muster, greeter, sleep } from "./support/muster";

/** A field of a go-micro schema (`values: null` for a scalar, as go-micro sends it). */
function field(name: string, type: string, values: object[] | null = null) {
  return { name, type, values };
}

/** Fields deliberately out of alphabetical order, a map, bytes, an empty message, 3 levels. */
const placeV2 = field("PlaceRequest", "PlaceRequest", [
  field("zone", "string"),
  field("amount", "int64"),
  field("labels", "map[string]int64"),
  field("blob", "[]byte"),
  field("nothing", "*Empty"),
  field("order", "Order", [
    field("ref", "string"),
    field("customer", "Customer", [field("email", "string"), field("city", "string")]),
  ]),
]);
const placeV1 = field("PlaceRequest", "PlaceRequest", [field("zone", "string"), field("amount", "int64")]);
const reply = field("Reply", "Reply", [field("ok", "bool")]);

const get = { name: "Orders.Get", request: field("GetRequest", "GetRequest", [field("id", "string")]), response: reply, metadata: {} };
const cancel = { name: "Orders.Cancel", request: field("CancelRequest", "CancelRequest", [field("id", "string")]), response: reply, metadata: {} };
const watch = {
  name: "Orders.Handle",
  request: field("OrderEvent", "OrderEvent", [field("id", "string")]),
  response: null,
  metadata: { subscriber: "true", topic: "go.micro.evt.orders" },
};
const endpointsNew = [{ name: "Orders.Place", request: placeV2, response: reply, metadata: {} }, get, watch];
const endpointsOld = [{ name: "Orders.Place", request: placeV1, response: reply, metadata: {} }, get, cancel];
const GO_MICRO = { broker: "http", protocol: "mucp", registry: "mdns", server: "mucp", transport: "http" };

const SERVICE = "e2e.svc.orders";
const LONG_ID = `${SERVICE}-0123456789abcdef0123456789abcdef-new`;

/** Two versions (1.10.0 is the newer: semver, not text order), one node each, then churn:
 * another service changes, and nodes of 1.9.0 (with its endpoints) come and go. */
async function setUp(muster: Muster): Promise<Churn[]> {
  await muster.register(
    {
      name: SERVICE,
      version: "1.10.0",
      metadata: null,
      endpoints: endpointsNew,
      nodes: [{ id: LONG_ID, address: "127.0.0.1:18700", metadata: GO_MICRO }],
    },
    120,
  );
  await muster.register(
    {
      name: SERVICE,
      version: "1.9.0",
      metadata: null,
      endpoints: endpointsOld,
      nodes: [{ id: `${SERVICE}-old`, address: "127.0.0.1:18701", metadata: { server: "mucp" } }],
    },
    120,
  );
  return [
    new Churn(muster, { service: "e2e.svc.elsewhere", intervalMs: 200, basePort: 19600 }).start(),
    new Churn(muster, {
      service: SERVICE,
      version: "1.9.0",
      intervalMs: 250,
      basePort: 19700,
      endpoints: endpointsOld,
    }).start(),
  ];
}

async function churnFor(churns: Churn[], changes: number): Promise<void> {
  await Promise.all(churns.map((churn) => churn.until(churn.changes + changes)));
  await sleep(300); // the last events reach the page
}

async function stop(churns: Churn[]): Promise<void> {
  await Promise.all(churns.map((churn) => churn.stop()));
}

/** The request tree of one endpoint card (the first card of that name when `nth` is unset). */
function requestTree(page: Page, endpoint: string, nth = 0): Locator {
  return page.locator(`[data-endpoint="${endpoint}"]`).nth(nth).locator("ul.schema").first();
}

/** The text of the focused tree item's own row. */
function focusedRow(page: Page): Promise<string> {
  return page.evaluate(() => {
    const item = document.activeElement?.closest("[role=treeitem]");
    return item?.querySelector(":scope > .tree-row")?.textContent?.trim() ?? "";
  });
}

test("summary, one node table with a version column, a version filter kept in the URL", async ({ page, muster }) => {
  const churns = await setUp(muster);
  try {
    await page.goto(`${muster.url}/services/${SERVICE}`);
    await whenLive(page);
    const summary = page.locator(".service-summary");
    await expect(summary.locator(".summary-versions")).toHaveText("1.10.0, 1.9.0");
    await expect(summary.locator('[data-count="alive"]')).toContainText("alive");
    await expect(summary.locator(".jump-endpoints")).toHaveText("3 endpoints");
    await expect(summary.locator(".jump-subscribers")).toHaveText("1 subscriber");
    await expect(page.locator(".node-table")).toHaveCount(1);
    await expect(page.locator(`tr[data-node="${LONG_ID}"] td.node-version`)).toHaveText("1.10.0");
    await expect(page.locator(`tr[data-node="${SERVICE}-old"] td.node-version`)).toHaveText("1.9.0");

    await page.locator('[data-version-chip="1.9.0"]').click();
    await expect(page).toHaveURL(/\?version=1\.9\.0$/);
    await expect(page.locator('[data-version-chip="1.9.0"]')).toHaveAttribute("aria-current", "true");
    await churnFor(churns, 8);
    // Churned nodes of the chosen version appear, the other version's stay out.
    await expect(page.locator(`tr[data-node^="${SERVICE}-churn-"]`).first()).toBeVisible();
    await expect(page.locator(`tr[data-node="${LONG_ID}"]`)).toHaveCount(0);
    const shown = await page.locator("tr[data-node]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-version")));
    expect(new Set(shown)).toEqual(new Set(["1.9.0"]));
    await expect(page).toHaveURL(/\?version=1\.9\.0$/);

    // The filter comes from the URL: a reload (server-rendered) keeps it.
    await page.reload();
    await whenLive(page);
    await expect(page.locator('[data-version-chip="1.9.0"]')).toHaveAttribute("aria-current", "true");
    await expect(page.locator(`tr[data-node="${LONG_ID}"]`)).toHaveCount(0);
    await page.locator('[data-version-chip=""]').click();
    await expect(page.locator(`tr[data-node="${LONG_ID}"]`)).toBeVisible();
    await expect(page).toHaveURL(new RegExp(`/services/${SERVICE.replace(/\./g, "\\.")}$`));
  } finally {
    await stop(churns);
  }
});

test("ids truncated with a copy button, relative times, metadata behind +N that stays open", async ({
  page,
  context,
  muster,
}) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const churns = await setUp(muster);
  try {
    await page.goto(`${muster.url}/services/${SERVICE}`);
    await whenLive(page);
    const row = page.locator(`tr[data-node="${LONG_ID}"]`);
    const id = row.locator("td.node-id .truncate");
    await expect(id).toHaveText(LONG_ID);
    await expect(id).toHaveAttribute("title", LONG_ID);
    expect(await id.evaluate((e) => getComputedStyle(e).textOverflow)).toBe("ellipsis");
    expect(await id.evaluate((e) => e.scrollWidth > e.clientWidth)).toBe(true); // cut, not wrapped

    const copy = row.getByRole("button", { name: "Copy node id" });
    await copy.click();
    await expect(copy).toHaveText("Copied");
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(LONG_ID);
    await row.getByRole("button", { name: "Copy address" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe("127.0.0.1:18700");

    const seen = row.locator("time").first();
    await expect(seen).toHaveText(/^(just now|\d+ s ago)$/);
    await expect(seen).toHaveAttribute("title", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);

    // Five pairs: two shown, "+3" for the rest, open through churn of this very service.
    const more = row.locator("button.more");
    await expect(more).toHaveText("+3");
    await expect(row.locator(".metadata .pair:visible")).toHaveCount(2);
    await more.click();
    await expect(more).toHaveAttribute("aria-expanded", "true");
    await expect(row.locator(".metadata .pair:visible")).toHaveCount(5);
    await churnFor(churns, 10);
    await expect(more).toHaveAttribute("aria-expanded", "true");
    await expect(row.locator(".metadata .pair:visible")).toHaveCount(5);
    await expect(copy).toHaveText("Copy"); // the confirmation went away by itself
  } finally {
    await stop(churns);
  }
});

test("the schema is a treeview: arrows, Home/End, roving tabindex, and endpoints before node actions", async ({
  page,
  muster,
}) => {
  const churns = await setUp(muster);
  try {
    await page.goto(`${muster.url}/services/${SERVICE}`);
    await whenLive(page);
    const tree = requestTree(page, "Orders.Place");
    await expect(tree).toHaveAttribute("role", "tree");
    const root = tree.locator(":scope > [role=treeitem]");
    await expect(root).toHaveAttribute("aria-expanded", "false");
    await expect(root).toHaveAttribute("tabindex", "0");
    await root.focus();

    await page.keyboard.press("ArrowRight"); // opens
    await expect(root).toHaveAttribute("aria-expanded", "true");
    await page.keyboard.press("ArrowRight"); // enters
    expect(await focusedRow(page)).toContain("zone");
    await churnFor(churns, 4);
    await page.keyboard.press("ArrowDown");
    expect(await focusedRow(page)).toContain("amount");
    await page.keyboard.press("End");
    expect(await focusedRow(page)).toContain("order");
    await page.keyboard.press("ArrowRight"); // opens "order"
    await page.keyboard.press("ArrowRight"); // into it
    expect(await focusedRow(page)).toContain("ref");
    await page.keyboard.press("ArrowLeft"); // a leaf: to its parent
    expect(await focusedRow(page)).toContain("order");
    await page.keyboard.press("ArrowLeft"); // open: closes
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-expanded"))).toBe("false");
    await page.keyboard.press("ArrowUp");
    expect(await focusedRow(page)).toContain("nothing");
    await page.keyboard.press("Home");
    expect(await focusedRow(page)).toContain("PlaceRequest");
    // Roving tabindex: one tab stop per tree, where focus last was.
    await page.keyboard.press("ArrowDown");
    expect(await tree.locator('[role=treeitem][tabindex="0"]').count()).toBe(1);
    expect(await focusedRow(page)).toContain("zone");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("tabindex"))).toBe("0");
    await churnFor(churns, 4);
    await expect(root).toHaveAttribute("aria-expanded", "true");
    expect(await focusedRow(page)).toContain("zone"); // focus survived the churn

    // From the top of the page, Tab reaches the endpoints before any node's action.
    await page.locator("h1.name").focus();
    let reached = "";
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => {
        const active = document.activeElement;
        if (active?.classList.contains("jump-endpoints")) return "endpoints";
        if (active?.closest(".endpoints")) return "endpoints";
        if (active?.closest("tr[data-node] td:last-child")) return "node action";
        return "";
      });
    }
    expect(reached).toBe("endpoints");
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/#endpoints$/);
    await expect(page.locator("#endpoints")).toBeInViewport();
  } finally {
    await stop(churns);
  }
});

test("schema tree: field order, maps, bytes, empty messages, root type once; expand and collapse all", async ({
  page,
  muster,
}) => {
  const churns = await setUp(muster);
  try {
    await page.goto(`${muster.url}/services/${SERVICE}`);
    await whenLive(page);
    const card = page.locator('[data-endpoint="Orders.Place"]').first();
    const tree = requestTree(page, "Orders.Place");
    await card.getByRole("button", { name: "Expand all" }).first().click();
    await expect(tree.locator(".field", { hasText: "email" })).toBeVisible();
    await expect(tree.locator('[aria-expanded="false"]')).toHaveCount(0);
    const fields = await tree.locator(".field").allTextContents();
    expect(fields).toEqual(["PlaceRequest", "zone", "amount", "labels", "blob", "nothing", "order", "ref", "customer", "email", "city"]);
    // The root shows its type once.
    await expect(tree.locator(":scope > [role=treeitem] > .tree-row")).toHaveText(/^PlaceRequest\s*\{6\}$/);
    const typeOf = (name: string) =>
      tree.locator(".tree-row", { has: page.locator(".field", { hasText: new RegExp(`^${name}$`) }) }).locator(".type");
    await expect(typeOf("labels")).toHaveText('{"<string>": int64}');
    await expect(typeOf("labels")).toHaveAttribute("title", "map[string]int64");
    await expect(typeOf("blob")).toHaveText("string (base64)");
    await expect(tree.locator(".tree-row", { hasText: "nothing" }).locator(".empty-message")).toHaveText("(empty message)");

    await churnFor(churns, 10);
    await expect(tree.locator('[aria-expanded="false"]')).toHaveCount(0);
    await expect(tree.locator(".field", { hasText: "email" })).toBeVisible();

    // The example JSON in the schema's order, the map as one "<key>" entry.
    await card.getByText("Example JSON").first().click();
    const example = await card.locator(".example pre").first().textContent();
    const keys = Object.keys(JSON.parse(example ?? "{}"));
    expect(keys).toEqual(["zone", "amount", "labels", "blob", "nothing", "order"]);
    expect(JSON.parse(example ?? "{}").labels).toEqual({ "<string>": 0 });

    await card.getByRole("button", { name: "Collapse all" }).first().click();
    await expect(tree.locator('[aria-expanded="true"]')).toHaveCount(0);
    await expect(tree.locator(".field", { hasText: "zone" })).toBeHidden();
  } finally {
    await stop(churns);
  }
});

test("endpoints once per distinct schema, version badges, a side-by-side comparison, subscribers apart", async ({
  page,
  muster,
}) => {
  const churns = await setUp(muster);
  try {
    await page.goto(`${muster.url}/services/${SERVICE}`);
    await whenLive(page);
    const handlers = page.locator("section.endpoints");
    // Orders.Get is the same in both versions: once, no badge.
    await expect(handlers.locator('[data-endpoint="Orders.Get"]')).toHaveCount(1);
    await expect(handlers.locator('[data-endpoint="Orders.Get"] .versions-badge')).toHaveCount(0);
    // Orders.Place differs: one card per schema, each naming its version, newest first.
    await expect(handlers.locator('[data-endpoint="Orders.Place"] .versions-badge')).toHaveText(["only 1.10.0", "only 1.9.0"]);
    await expect(handlers.locator('[data-endpoint="Orders.Cancel"] .versions-badge')).toHaveText("only 1.9.0");

    // Subscribers in their own section, with the topic, and no Call panel.
    await expect(handlers.locator('[data-endpoint="Orders.Handle"]')).toHaveCount(0);
    const subscriber = page.locator('section.subscribers [data-endpoint="Orders.Handle"]');
    await expect(subscriber.locator(".topic")).toHaveText("Topic go.micro.evt.orders");
    await expect(subscriber.locator(".call-panel")).toHaveCount(0);
    await expect(page.locator("section.subscribers h2")).toHaveText("Subscribers (1)");

    const compare = page.locator("details.compare");
    await compare.locator("summary").click();
    await expect(compare.locator(".compare-left")).toHaveValue("1.9.0");
    await expect(compare.locator(".compare-right")).toHaveValue("1.10.0");
    const change = (name: string) => compare.locator(`tr[data-compare="${name}"]`);
    await expect(change("Orders.Cancel")).toHaveAttribute("data-change", "removed");
    await expect(change("Orders.Get")).toHaveAttribute("data-change", "same");
    await expect(change("Orders.Place")).toHaveAttribute("data-change", "changed");
    await expect(change("Orders.Place").locator(".change")).toHaveText("changed: request");
    await expect(change("Orders.Handle")).toHaveAttribute("data-change", "added");
    await expect(change("Orders.Get").locator("td").nth(1)).toHaveText("GetRequest → Reply");

    // The other way round, chosen by the operator: kept through churn.
    await compare.locator(".compare-left").selectOption("1.10.0");
    await compare.locator(".compare-right").selectOption("1.9.0");
    await churnFor(churns, 10);
    await expect(compare).toHaveAttribute("open", "");
    await expect(compare.locator(".compare-left")).toHaveValue("1.10.0");
    await expect(compare.locator(".compare-right")).toHaveValue("1.9.0");
    await expect(change("Orders.Cancel")).toHaveAttribute("data-change", "added");
    await expect(change("Orders.Handle")).toHaveAttribute("data-change", "removed");
    await expect(handlers.locator('[data-endpoint="Orders.Get"]')).toHaveCount(1);
  } finally {
    await stop(churns);
  }
});

/** A console that checks its nodes every 300 ms. */
const probed = test.extend<{ muster: Muster }>({
  muster: async ({}, use) => {
    const muster = new Muster(["--probe-interval", "300ms"]);
    await muster.start();
    await use(muster);
    await muster.stop();
  },
});

probed("nodes by state first (unreachable, failing), then by address; Call on a shared endpoint", async ({
  page,
  context,
  muster,
}) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const peerAddress = "127.0.0.1:18760";
  const peer = await startPeer(peerAddress);
  const name = "e2e.svc.greeter";
  const newer = greeter(name, "g-healthy", 18760, GO_MICRO);
  newer.version = "2.0.0";
  newer.nodes = [
    { id: "g-healthy", address: peerAddress, metadata: GO_MICRO },
    // Nothing listens here: unreachable.
    { id: "g-down", address: "127.0.0.1:18769", metadata: GO_MICRO },
    // The console itself answers HTTP, but not as go-micro: failing.
    { id: "g-wrong", address: `127.0.0.1:${muster.port}`, metadata: GO_MICRO },
  ];
  const older = greeter(name, "g-gone", 18761, GO_MICRO);
  older.nodes.push({ id: "g-old", address: "127.0.0.1:9", metadata: GO_MICRO });
  const churns = [
    new Churn(muster, { service: "e2e.svc.elsewhere", intervalMs: 200, basePort: 19800 }).start(),
  ];
  try {
    await muster.register(newer, 120);
    await muster.register(older, 120);
    const gone = await fetch(`${muster.url}/api/services/${name}/nodes/g-gone`, { method: "DELETE" });
    expect(gone.ok).toBe(true);
    await page.goto(`${muster.url}/services/${name}`);
    await whenLive(page);
    const order = () => page.locator("tr[data-node]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-node")));
    // Needing attention (by address): :9, the console's port, :18769; then healthy; then the tombstone.
    await expect.poll(order, { timeout: 15_000 }).toEqual(["g-old", "g-wrong", "g-down", "g-healthy", "g-gone"]);
    await expect(page.locator('tr[data-node="g-healthy"] [data-health]')).toHaveText(/healthy/);
    await expect(page.locator('tr[data-node="g-gone"]')).toHaveAttribute("data-state", "deregistered");

    // Both versions register Greeter.Hello alike: one card, whose picker offers both versions'
    // live nodes, and whose Call reaches the chosen one while the registry churns.
    const hello = page.locator('[data-endpoint="Greeter.Hello"]');
    await expect(hello).toHaveCount(1);
    await expect(hello.locator(".versions-badge")).toHaveCount(0);
    await hello.locator(".call-panel > summary").click();
    const picker = hello.locator("select.call-node option");
    await expect(picker).toHaveText(["any (round robin)", "g-down", "g-healthy", "g-wrong", "g-old"], { useInnerText: true });
    const editor = hello.locator("textarea.call-request");
    await editor.fill('{"name": "x", "typed": true}');
    await hello.locator("select.call-node").selectOption("g-healthy");
    await churnFor(churns, 8);
    await expect(editor).toHaveValue('{"name": "x", "typed": true}');
    await hello.locator("button.call-send").click();
    await expect(hello.locator(".call-status")).toContainText("200 from g-healthy");
    await expect(hello.locator(".call-response")).toContainText('"msg": "Hello x"');

    // The node's own commands: the copied curl, run as it is, asks that node's Debug.Health.
    const healthy = page.locator('tr[data-node="g-healthy"]');
    await healthy.getByRole("button", { name: "Copy as micro command" }).click();
    await expect
      .poll(() => page.evaluate(() => navigator.clipboard.readText()))
      .toBe(`micro call --address '${peerAddress}' '${name}' Debug.Health '{}'`);
    await healthy.getByRole("button", { name: "Copy as curl" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toContain(`http://${peerAddress}/`);
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    expect(execSync(curl, { shell: "/bin/sh", encoding: "utf8" })).toContain('"status":"ok"');
  } finally {
    await stop(churns);
    peer.kill();
  }
});
