// Issue #17, "Everywhere": who may act, said in plain words (read-only note, reasons on
// disabled actions, sign-in that returns to the page, a signed-in indicator with Sign out),
// the phone width (390 px: no horizontal scrolling, tables as cards), and two consoles on one
// host on the LAN page. Every test runs while a script keeps changing another service.
//
// A console with an admin token is read-only until signed in, so the services and the churn
// come from a second console without one, sharing the run's mDNS registry on `lo`.
import { Page } from "@playwright/test";
import { test as base, expect, whenLive } from "./fixtures";
import { Churn } from "./support/churn";
import { Muster, greeter, registry } from "./support/muster";

/** An admin token strong enough for the console's start-up check. */
const TOKEN = "e2e-everywhere-3c9a71d05be24f68";

const SERVICE = "go.micro.srv.everywhere";
const NODE = "go.micro.srv.everywhere-1";

const test = base.extend<{ writer: Muster; guarded: Muster }>({
  // Registers what the guarded console shows (loopback, no token: it may act).
  writer: async ({}, use) => {
    const writer = new Muster(["--no-advertise", "--no-lan"]);
    await writer.start();
    await use(writer);
    await writer.stop();
  },
  // The console under test: started with an admin token.
  guarded: async ({}, use, testInfo) => {
    const guarded = new Muster(["--admin-token", TOKEN, "--no-advertise", "--no-lan"]);
    await guarded.start();
    await use(guarded);
    await guarded.stop();
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach("muster.log", { body: guarded.log.join("") });
    }
  },
});

test.skip(registry !== "mdns", "two consoles share the multicast loopback of end2end/run.sh");

/** Changes `e2e.everywhere.churn` through `writer` in the background. */
function churn(writer: Muster): Churn {
  return new Churn(writer, { service: "e2e.everywhere.churn", intervalMs: 250, basePort: 19700 }).start();
}

/** The guarded console's page for SERVICE, once the writer's node has reached it. */
async function openService(page: Page, guarded: Muster): Promise<void> {
  await page.goto(`${guarded.url}/services/${SERVICE}`);
  await whenLive(page);
  await expect(page.locator(`tr[data-node="${NODE}"]`)).toBeVisible({ timeout: 20_000 });
}

async function signIn(page: Page): Promise<void> {
  await page.getByLabel("Admin token").fill(TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("read-only says so in plain words, and disabled actions say why", async ({ page, writer, guarded }) => {
  await writer.register(greeter(SERVICE, NODE, 18701), 120);
  const changes = churn(writer);
  try {
    await openService(page, guarded);
    const note = page.getByTestId("read-only");
    await expect(note).toHaveText("Read-only: sign in to register or evict");
    await expect(note).toHaveAttribute("id", "access-note");
    await expect(note.getByRole("link", { name: "sign in" })).toHaveAttribute(
      "href",
      `/login?next=${encodeURIComponent(`/services/${SERVICE}`)}`,
    );
    await changes.until(4);
    const evict = page.locator(`tr[data-node="${NODE}"]`).getByRole("button", { name: "Evict" });
    await expect(evict).toBeDisabled();
    await expect(evict).toHaveAttribute("title", "Read-only: sign in to register or evict");
    await expect(evict).toHaveAttribute("aria-describedby", "access-note");
    await expect(evict).toHaveAccessibleDescription("Read-only: sign in to register or evict");

    await page.goto(`${guarded.url}/register`);
    await whenLive(page);
    await page.getByLabel("Service name").fill("half.typed");
    await changes.until(8);
    const submit = page.getByRole("button", { name: "Register" });
    await expect(submit).toBeDisabled();
    await expect(submit).toHaveAttribute("title", "Read-only: sign in to register or evict");
    await expect(page.getByLabel("Service name")).toHaveValue("half.typed");
  } finally {
    await changes.stop();
  }
});

test("sign in from a service page returns there; Sign out makes it read-only again", async ({
  page,
  writer,
  guarded,
}) => {
  await writer.register(greeter(SERVICE, NODE, 18702), 120);
  const changes = churn(writer);
  try {
    await openService(page, guarded);
    await page.getByTestId("read-only").getByRole("link", { name: "sign in" }).click();
    await expect(page).toHaveURL(/\/login\?next=/);
    await changes.until(4);
    await signIn(page);
    await expect(page).toHaveURL(`${guarded.url}/services/${SERVICE}`);
    await whenLive(page);

    const signedIn = page.getByTestId("signed-in");
    await expect(signedIn).toHaveText("Signed in as admin");
    await expect(page.getByTestId("read-only")).toHaveCount(0);
    const evict = page.locator(`tr[data-node="${NODE}"]`).getByRole("button", { name: "Evict" });
    await expect(evict).toBeEnabled();
    await expect(evict).not.toHaveAttribute("title", /.+/);
    await changes.until(8);

    await page.locator("header").getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(`${guarded.url}/services/${SERVICE}`);
    await whenLive(page);
    await expect(page.getByTestId("read-only")).toHaveText("Read-only: sign in to register or evict");
    await expect(page.getByTestId("signed-in")).toHaveCount(0);
    await expect(evict).toBeDisabled();
    // The server forgot the session, not only the page.
    const session = await (await page.request.get(`${guarded.url}/api/session`)).json();
    expect(session.can_write).toBe(false);
    expect(session.signed_in).toBe(false);
  } finally {
    await changes.stop();
  }
});

test("a return path to another site lands on the front page instead", async ({ page, writer, guarded }) => {
  const changes = churn(writer);
  try {
    for (const next of ["//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example"]) {
      await page.goto(`${guarded.url}/login?next=${encodeURIComponent(next)}`);
      await whenLive(page);
      await signIn(page);
      await expect(page).toHaveURL(`${guarded.url}/`);
      await page.locator("header").getByRole("button", { name: "Sign out" }).click();
      await expect(page).toHaveURL(`${guarded.url}/`);
      // The form is not the only way in: a POST with the hostile `next` is redirected home too.
      const response = await page.request.post(`${guarded.url}/login`, {
        form: { token: TOKEN, next },
        maxRedirects: 0,
      });
      expect(response.status()).toBe(303);
      expect(response.headers()["location"]).toBe("/");
      await page.request.post(`${guarded.url}/logout`, { form: { next }, maxRedirects: 0 }).then((logout) => {
        expect(logout.headers()["location"]).toBe("/");
      });
    }
    await changes.until(4);
  } finally {
    await changes.stop();
  }
});

/** The document is no wider than the viewport: nothing to scroll sideways. */
async function expectNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  expect(widths.scroll, `${where}: scrollWidth ${widths.scroll} > innerWidth ${widths.inner}`).toBeLessThanOrEqual(
    widths.inner,
  );
}

/** How a table of `selector` lays out its first body row: `block` as a card, else `table-row`. */
async function rowDisplay(page: Page, selector: string): Promise<{ display: string; label: string }> {
  return page.locator(`${selector} tbody tr`).first().evaluate((row) => {
    const cell = row.querySelector("td[data-label]")!;
    return {
      display: getComputedStyle(row).display,
      label: getComputedStyle(cell, "::before").content,
    };
  });
}

test("at 390 px no page scrolls sideways, and tables become cards", async ({ page, muster }) => {
  // The console under test may act (loopback, no token) and advertises itself, so the LAN
  // page has a row.
  const changes = churn(muster);
  try {
    const longName = "com.example.fulfilment.warehouse.inventory.reservations";
    await muster.register(
      {
        ...greeter(longName, `${longName}-4b1f0c2e-9d7a-4c55-8f1e-2a6b3c9d0e11`, 18710, {
          server: "grpc",
          transport: "grpc",
          broker: "http",
          registry: "mdns",
          protocol: "grpc",
          region: "eu-central-1-very-long-zone-name",
        }),
        version: "2.14.0-rc.1+build.7731",
      },
      120,
    );
    await muster.register(greeter(SERVICE, NODE, 18711), 120);
    await page.setViewportSize({ width: 390, height: 844 });

    const pages = [
      ["/", "table.service-table"],
      [`/services/${longName}`, "table.node-table"],
      ["/events", "table.event-log"],
      ["/lan", "table.lan-table"],
      ["/stats", null],
      ["/register", null],
      ["/login", null],
      ["/no/such/page", null],
    ] as const;
    for (const [path, table] of pages) {
      await page.goto(`${muster.url}${path}`);
      await whenLive(page);
      if (table) {
        await expect(page.locator(`${table} tbody tr`).first()).toBeVisible({ timeout: 20_000 });
        const { display, label } = await rowDisplay(page, table);
        expect(display, `${path}: rows as cards`).toBe("block");
        expect(label, `${path}: cells labelled`).not.toBe("none");
      }
      await changes.until(changes.changes + 2);
      await expectNoSidewaysScroll(page, path);
    }

    // A schema opened on the phone stays inside the width too.
    await page.goto(`${muster.url}/services/${longName}`);
    await whenLive(page);
    await page.getByRole("button", { name: "Expand all" }).first().click();
    await expect(page.locator('[role="treeitem"][aria-expanded="true"]').first()).toBeVisible();
    await expectNoSidewaysScroll(page, "an open schema");

    // At desktop width the same tables are tables.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(muster.url);
    await whenLive(page);
    expect((await rowDisplay(page, "table.service-table")).display).toBe("table-row");
  } finally {
    await changes.stop();
  }
});

test("two consoles on one host are both on the LAN page, once each", async ({ page, writer }) => {
  const first = new Muster();
  const second = new Muster();
  await first.start();
  await second.start();
  const changes = churn(writer);
  try {
    await page.goto(`${first.url}/lan`);
    await whenLive(page);
    // The row of the console on `port`, told apart by the port in its instance name.
    const row = (port: number) =>
      page
        .locator('tr[data-type="_http._tcp.local."]')
        .filter({ has: page.locator("td.instance", { hasText: new RegExp(`^Muster on .*:${port}$`) }) });
    for (const muster of [first, second]) {
      const listed = row(muster.port);
      await expect(listed).toHaveCount(1, { timeout: 20_000 });
      await expect(listed.getByTestId("lan-open")).toHaveAttribute("href", `http://127.0.0.1:${muster.port}/`);
    }
    await changes.until(10);
    for (const muster of [first, second]) {
      await expect(row(muster.port)).toHaveCount(1);
    }
  } finally {
    await changes.stop();
    await second.stop();
    await first.stop();
  }
});
