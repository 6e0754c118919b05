// The live console keeps the operator's place (issue #12): what the operator opened, typed or
// scrolled survives the live stream, whether the changes are elsewhere or in the service shown.
import { Locator, Page } from "@playwright/test";
import { test, expect, whenLive } from "./fixtures";
import { Churn } from "./support/churn";
import { Muster, sleep } from "./support/muster";

/** A field of a go-micro schema (`values: null` for a scalar, as go-micro sends it). */
function field(name: string, type: string, values: object[] | null = null) {
  return { name, type, values };
}

/** Four levels: Request > order > customer > address, with scalars at every level. */
const deepRequest = field("PlaceRequest", "PlaceRequest", [
  field("id", "string"),
  field("order", "Order", [
    field("ref", "string"),
    field("customer", "Customer", [
      field("email", "string"),
      field("address", "Address", [field("street", "string"), field("city", "string")]),
    ]),
  ]),
]);

/** Enough endpoints to make the page scroll. */
const deepEndpoints = ["Place", "Get", "List", "Cancel", "Refund", "Ship"].map((method) => ({
  name: `Orders.${method}`,
  request: deepRequest,
  response: field("Reply", "Reply", [field("ok", "bool")]),
  metadata: { stream: "false" },
}));

function deepService(name: string, nodeId: string, port: number) {
  return {
    name,
    version: "1.0.0",
    metadata: null,
    endpoints: deepEndpoints,
    nodes: [{ id: nodeId, address: `127.0.0.1:${port}`, metadata: {} }],
  };
}

/** The request schema of one endpoint card. */
function requestTree(page: Page, endpoint: string): Locator {
  return page.locator(`[data-endpoint="${endpoint}"] .schema-part`).first().locator("ul.schema");
}

/** Opens every item of a schema tree, level by level (a level's children render when it
 * opens, so the loop runs until no closed one is left a moment later). */
async function expandFully(tree: Locator): Promise<void> {
  const closed = tree.locator('[role=treeitem][aria-expanded="false"] > .tree-row');
  await expect(async () => {
    while ((await closed.count()) > 0) await closed.first().click();
    await sleep(150);
    expect(await closed.count()).toBe(0);
  }).toPass();
}

/** The names of the fields visible in a tree, in order. */
async function visibleFields(tree: Locator): Promise<string[]> {
  return tree.locator(".field").evaluateAll((fields) =>
    fields.filter((f) => (f as HTMLElement).offsetParent !== null).map((f) => f.textContent ?? ""),
  );
}

/** Focus is inside the open modal dialog. */
async function focusInDialog(page: Page): Promise<boolean> {
  return page.evaluate(() => document.activeElement?.closest("dialog[open]") != null);
}

async function deleteNode(muster: Muster, service: string, id: string): Promise<void> {
  const response = await fetch(`${muster.url}/api/services/${service}/nodes/${id}`, { method: "DELETE" });
  expect(response.ok).toBe(true);
}

test.use({ viewport: { width: 1100, height: 600 } });

test("changes elsewhere: the open tree, the scroll, the dialog and typed text all stay", async ({
  page,
  context,
  muster,
}) => {
  await muster.register(deepService("e2e.deep", "deep-1", 18200), 60);
  await page.goto(`${muster.url}/services/e2e.deep`);
  await whenLive(page);
  const tree = requestTree(page, "Orders.Place");
  await expandFully(tree);
  const fields = await visibleFields(tree);
  expect(fields).toContain("city"); // the fourth level is open
  expect(fields.length).toBe(9);

  await page.locator('tr[data-node="deep-1"]').getByRole("button", { name: "Deregister" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 250));
  expect(await page.evaluate(() => window.scrollY)).toBe(250);

  // A second tab, on the register form, with text typed and the cursor in it.
  const form = await context.newPage();
  await form.goto(`${muster.url}/register`);
  await whenLive(form);
  await form.getByLabel("Service name").fill("typed.by.hand");
  await form.getByLabel(/^Nodes/).fill("10.0.0.9:8080");
  await form.getByLabel(/^Nodes/).press("End");
  await page.bringToFront();

  const churn = new Churn(muster, { service: "e2e.elsewhere", intervalMs: 300 }).start();
  await churn.until(20);
  await churn.stop();
  await sleep(500); // the last events reach the page

  expect(await visibleFields(tree)).toEqual(fields);
  expect(await page.evaluate(() => window.scrollY)).toBe(250);
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("deep-1");
  expect(await focusInDialog(page)).toBe(true);
  await expect(form.getByLabel("Service name")).toHaveValue("typed.by.hand");
  await expect(form.getByLabel(/^Nodes/)).toHaveValue("10.0.0.9:8080");
  await expect(form.getByLabel(/^Nodes/)).toBeFocused();
});

test("changes of the service shown: new nodes appear, the tree and the dialog stay", async ({ page, muster }) => {
  await muster.register(deepService("e2e.busy", "busy-1", 18210), 60);
  await page.goto(`${muster.url}/services/e2e.busy`);
  await whenLive(page);
  const tree = requestTree(page, "Orders.Place");
  await expandFully(tree);
  const fields = await visibleFields(tree);
  expect(fields.length).toBe(9);
  await page.locator('tr[data-node="busy-1"]').getByRole("button", { name: "Deregister" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog).toBeVisible();

  const churn = new Churn(muster, {
    service: "e2e.busy",
    endpoints: deepEndpoints,
    intervalMs: 300,
    basePort: 19100,
  }).start();
  await expect(page.locator('tr[data-node="e2e.busy-churn-0"]')).toBeVisible();
  await churn.until(20);
  await churn.stop();
  await sleep(500);

  // Every node the churn registered has its row (alive, or the tombstone of a deregistered one).
  const rows = page.locator('tr[data-node^="e2e.busy-churn-"]');
  await expect(rows).toHaveCount(churn.registered.length);
  expect(await visibleFields(tree)).toEqual(fields);
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("busy-1");
  expect(await focusInDialog(page)).toBe(true);
  await expect(page.locator('[data-endpoint="Orders.Place"]')).toHaveCount(1);
});

test("a node without endpoints neither erases its version's schemas nor goes unflagged", async ({
  page,
  muster,
}) => {
  await muster.register(deepService("e2e.mixed", "full-1", 18220), 60);
  await page.goto(`${muster.url}/services/e2e.mixed`);
  await whenLive(page);
  await expect(page.locator("article.endpoint")).toHaveCount(6);

  await muster.register(
    { ...deepService("e2e.mixed", "bare-1", 18221), endpoints: [] },
    60,
  );
  const bare = page.locator('tr[data-node="bare-1"]');
  await expect(bare).toContainText("its record lists no endpoints");
  await expect(page.locator("article.endpoint")).toHaveCount(6);
  await expect(page.locator(".endpoints-source")).toContainText("node full-1's");
  await expect(page.locator('tr[data-node="full-1"] .endpoints-differ')).toHaveCount(0);

  // The API says the same.
  const [version] = await (await fetch(`${muster.url}/api/services/e2e.mixed`)).json();
  expect(version.endpoints.length).toBe(6);
  expect(version.endpoint_outliers).toEqual([{ node: "bare-1", endpoints: 0 }]);
});

test("register: all errors at once; success links the node and resets; a second submit refreshes", async ({
  page,
  muster,
}) => {
  await page.goto(`${muster.url}/register`);
  await whenLive(page);
  await page.getByLabel("Service name").fill("e2e.twice");
  await page.getByLabel(/^Nodes/).fill("a b c");
  await page.getByLabel(/^Metadata/).fill("novalue");
  await page.getByLabel(/^Endpoints/).fill("{");
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.locator("#nodes-error")).toBeVisible();
  await expect(page.locator("#metadata-error")).toBeVisible();
  await expect(page.locator("#endpoints-error")).toBeVisible();

  const submit = async () => {
    await page.getByLabel("Service name").fill("e2e.twice");
    await page.getByLabel(/^Nodes/).fill("127.0.0.1:18230");
    await page.getByLabel(/^Metadata/).fill("");
    await page.getByLabel(/^Endpoints/).fill("");
    await page.getByRole("button", { name: "Register" }).click();
  };
  await submit();
  const done = page.locator(".done[role=status]");
  await expect(done).toContainText("Registered 1 node of e2e.twice");
  await expect(page.getByLabel("Service name")).toHaveValue("");
  await expect(page.getByLabel(/^Nodes/)).toHaveValue("");
  const link = done.locator(".created a");
  await expect(link).toHaveText(/^e2e\.twice-/);
  const id = await link.innerText();

  await submit();
  await expect(done).toContainText("Refreshed 1 node of e2e.twice");
  await expect(done.locator(".created a")).toHaveText(id);
  const [version] = await (await fetch(`${muster.url}/api/services/e2e.twice`)).json();
  expect(version.nodes.map((node: { id: string }) => node.id)).toEqual([id]);

  await done.locator(".created a").click();
  await expect(page).toHaveURL(new RegExp(`/services/e2e\\.twice#node-`));
  await expect(page.locator(`tr[data-node="${id}"]`)).toBeVisible();
});

test("the confirmation is a modal: focus inside, Escape closes, focus returns, outcome shown", async ({
  page,
  muster,
}) => {
  await muster.register(deepService("e2e.modal", "modal-1", 18240), 60);
  await muster.register(deepService("e2e.modal", "modal-2", 18241), 60);
  await page.goto(`${muster.url}/services/e2e.modal`);
  await whenLive(page);
  const trigger = page.locator('tr[data-node="modal-1"]').getByRole("button", { name: "Deregister" });
  await trigger.click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("sends a goodbye");
  expect(await focusInDialog(page)).toBe(true);
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press("Tab");
    expect(await focusInDialog(page)).toBe(true);
  }
  // Modal: the page behind does not take clicks.
  const behind = await page.evaluate(() => {
    const button = document.querySelector('tr[data-node="modal-2"] button') as HTMLElement;
    const box = button.getBoundingClientRect();
    const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return hit === button;
  });
  expect(behind).toBe(false);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(trigger).toBeFocused();
  await expect(page.locator('tr[data-node="modal-1"]')).toHaveAttribute("data-state", "alive");

  await trigger.click();
  await page.getByRole("button", { name: "Yes, deregister" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator(".outcome [role=status]")).toContainText("Deregistered modal-1");
  await expect(page.locator('tr[data-node="modal-1"]')).toHaveAttribute("data-state", "deregistered");

  // The node leaves while its dialog is open: the dialog says so and offers nothing to confirm.
  await page.locator('tr[data-node="modal-2"]').getByRole("button", { name: "Deregister" }).click();
  await expect(dialog).toBeVisible();
  await deleteNode(muster, "e2e.modal", "modal-2");
  await expect(dialog).toContainText("modal-2 has left the registry (now deregistered)");
  await expect(page.getByRole("button", { name: "Yes, deregister" })).toBeDisabled();
});

test("offline: data marked stale, actions disabled with the reason; back live without reload", async ({
  page,
  muster,
}) => {
  await muster.register(deepService("e2e.down", "down-1", 18250), 60);
  await page.goto(`${muster.url}/services/e2e.down`);
  await whenLive(page);
  await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
  const action = page.locator('tr[data-node="down-1"]').getByRole("button", { name: "Deregister" });
  await expect(action).toBeEnabled();

  await muster.stop();
  const badge = page.getByTestId("connection");
  await expect(badge).toHaveText(/^offline since \d\d:\d\d:\d\d UTC$/);
  await expect(page.locator("main")).toHaveClass(/stale/);
  await expect(page.locator(".stale-note")).toContainText("may be out of date");
  await expect(action).toBeDisabled();
  await expect(action).toHaveAttribute("title", /not reachable/);
  await expect(page.locator('tr[data-node="down-1"]')).toBeVisible(); // still shown

  await muster.start();
  await expect(badge).toHaveText("live", { timeout: 20_000 });
  await expect(page.locator("main")).not.toHaveClass(/stale/);
  await expect(action).toBeEnabled();
  expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(
    true,
  );
});

test("the badge says loading, not live, until the snapshot is applied", async ({ page, muster }) => {
  for (let i = 0; i < 5; i++) {
    await muster.register(deepService(`e2e.snap${i}`, `snap-${i}`, 18260 + i), 60);
  }
  // The real server's frames pass through, but the snapshot is held until the test lets go.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  let loading = false;
  await page.routeWebSocket(/\/api\/watch/, (socket) => {
    const server = socket.connectToServer();
    server.onMessage(async (message) => {
      const type = typeof message === "string" ? JSON.parse(message).type : "binary";
      if (type === "loading") loading = true;
      // The page asks for the snapshot deflated: it comes as the one binary frame.
      if (type === "snapshot" || type === "binary") {
        held = true;
        await released;
      }
      socket.send(message);
    });
  });
  await page.goto(`${muster.url}/`);
  await page.waitForFunction(() => document.body.dataset.hydrated === "true");
  const badge = page.getByTestId("connection");
  await expect.poll(() => held).toBe(true);
  expect(loading, "the server announces the snapshot before sending it").toBe(true);
  // Held for a while: never "live" meanwhile, but "loading 5 services…".
  for (let i = 0; i < 5; i++) {
    await expect(badge).not.toHaveText("live", { timeout: 100 });
    await expect(badge).toHaveText("loading 5 services…");
    await sleep(100);
  }
  release();
  await expect(badge).toHaveText("live");
});

test("deep links to an endpoint and a node survive live updates and reloads", async ({ page, muster }) => {
  await muster.register(deepService("e2e.link", "link-1", 18270), 60);
  await page.goto(`${muster.url}/services/e2e.link#endpoint-1.0.0-Orders.Ship`);
  await whenLive(page);
  const target = page.locator(":target");
  await expect(target).toHaveAttribute("data-endpoint", "Orders.Ship");
  await expect(target).toBeInViewport();
  // Marked, to tell the same element from a re-rendered copy after the updates.
  await target.evaluate((element) => element.setAttribute("data-marked", "yes"));
  const churn = new Churn(muster, { service: "e2e.link", endpoints: deepEndpoints, basePort: 19200 }).start();
  await churn.until(10);
  await churn.stop();
  await sleep(300);
  await expect(page.locator(":target")).toHaveAttribute("data-marked", "yes");
  await expect(page.locator(":target")).toBeInViewport();

  await page.locator('tr[data-node="link-1"]').getByRole("link", { name: "Link to this node" }).click();
  await expect(page).toHaveURL(/#node-link-1$/);
  await page.reload();
  await whenLive(page);
  await expect(page.locator(":target")).toHaveAttribute("data-node", "link-1");
});
