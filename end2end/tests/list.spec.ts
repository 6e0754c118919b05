// The services list (issue #17): search (terms AND-ed, key=value, a trailing * glob, Enter
// opens the only match), facet chips, the health strip with the "no healthy node" emphasis
// and the needs-attention sort, "last change", page size and "page N of M". Every test runs
// while a script keeps changing another service, and what the user typed or scrolled to stays.
import { ChildProcess } from "node:child_process";
import { Page } from "@playwright/test";
import { test as base, expect, whenLive } from "./fixtures";
import { Churn } from "./support/churn";
import { Muster } from "./support/muster";
import { MUCP, startPeer } from "./support/peer";

const test = base;

/** A service with one endpoint per name in `endpoints` and nodes `[id, address, metadata]`. */
function record(
  name: string,
  endpoints: string[],
  nodes: [string, string, Record<string, string>][],
  version = "1.0.0",
) {
  return {
    name,
    version,
    metadata: null,
    endpoints: endpoints.map((endpoint) => ({
      name: endpoint,
      request: { name: "Request", type: "Request", values: [] },
      response: { name: "Response", type: "Response", values: [] },
      metadata: {},
    })),
    nodes: nodes.map(([id, address, metadata]) => ({ id, address, metadata })),
  };
}

/** Starts changing `e2e.list.churn` in the background. */
function churn(muster: Muster): Churn {
  return new Churn(muster, { service: "e2e.list.churn", intervalMs: 200, basePort: 19700 }).start();
}

/** The service names of the table's rows, top to bottom. */
function rowNames(page: Page): Promise<string[]> {
  return page.locator("tbody tr[data-service]").evaluateAll((rows) =>
    rows.map((row) => row.getAttribute("data-service") ?? ""),
  );
}

/** Three go-micro services with endpoints and real node metadata, and `fillers` others. */
async function registerCatalog(muster: Muster, fillers = 0): Promise<void> {
  const grpc = { server: "grpc", transport: "grpc", protocol: "grpc", registry: "mdns", broker: "http" };
  await muster.register(
    record("go.micro.srv.order", ["Orders.Place", "Orders.Cancel"], [["order-1", "127.0.0.1:18701", grpc]]),
    60,
  );
  await muster.register(
    record("go.micro.srv.user", ["Users.Get"], [["user-1", "127.0.0.1:18702", MUCP]]),
    60,
  );
  await muster.register(
    record("go.micro.api.gateway", ["Gateway.Route"], [
      ["gateway-1", "127.0.0.1:18703", { ...MUCP, server: "http" }],
    ]),
    60,
  );
  for (let i = 0; i < fillers; i++) {
    const name = `e2e.fill.${String(i).padStart(3, "0")}`;
    await muster.register(record(name, [], [[`${name}-0`, `127.0.0.1:${18800 + i}`, {}]]), 60);
  }
}

test("search: terms AND-ed, key=value, a * glob, Enter opens the only match; typed text survives churn", async ({
  page,
  muster,
}) => {
  await registerCatalog(muster);
  const changes = churn(muster);
  try {
    await page.goto(`${muster.url}/`);
    await whenLive(page);
    const search = page.getByLabel("Search");
    const searchFor = async (text: string, expected: string[]) => {
      await search.fill(text);
      await expect.poll(() => rowNames(page)).toEqual(expected);
    };

    await searchFor("srv", ["go.micro.srv.order", "go.micro.srv.user"]);
    await searchFor("srv place", ["go.micro.srv.order"]); // a name and an endpoint
    await searchFor("srv  USERS.get", ["go.micro.srv.user"]);
    await searchFor("srv gateway", []); // AND, not OR
    await searchFor("127.0.0.1:18703", ["go.micro.api.gateway"]); // a node address
    await searchFor("grpc", ["go.micro.srv.order"]); // a metadata value
    await searchFor("transport=http", ["go.micro.api.gateway", "go.micro.srv.user"]);
    await searchFor("server=grpc", ["go.micro.srv.order"]);
    await searchFor("server=grp", []); // a value is whole
    await searchFor("transport=http srv", ["go.micro.srv.user"]);
    await searchFor("go.micro.srv.*", ["go.micro.srv.order", "go.micro.srv.user"]);
    await searchFor("go.micro.*", ["go.micro.api.gateway", "go.micro.srv.order", "go.micro.srv.user"]);
    await searchFor("micro.srv.*", []); // a glob is anchored at the field's start
    await expect(page).toHaveURL(/[?&]q=micro\.srv\.%2A/);
    await expect(page.getByTestId("service-count")).toHaveText("0 of 4 services matching “micro.srv.*”");

    // The filter is in the URL: a reload shows the same rows (first from the server's render).
    await search.fill("transport=http srv");
    await expect(page).toHaveURL(/[?&]q=transport%3Dhttp%20srv/);
    await page.reload();
    await expect.poll(() => rowNames(page)).toEqual(["go.micro.srv.user"]);
    await whenLive(page);
    await expect(search).toHaveValue("transport=http srv");

    // Typing goes on while the churn changes another service: nothing typed is lost.
    await search.fill("");
    await search.pressSequentially("go.micro.sr", { delay: 60 });
    await changes.until(changes.changes + 8);
    await expect(search).toHaveValue("go.micro.sr");
    await expect(search).toBeFocused();
    await expect.poll(() => rowNames(page)).toEqual(["go.micro.srv.order", "go.micro.srv.user"]);

    // Enter with two matches stays; with exactly one it opens that service.
    await search.press("Enter");
    await page.waitForTimeout(300);
    await expect(page).toHaveURL(/\/\?q=go\.micro\.sr(&|$)/);
    await expect(search).toHaveValue("go.micro.sr");
    await search.pressSequentially("v.*  cancel", { delay: 30 });
    await expect.poll(() => rowNames(page)).toEqual(["go.micro.srv.order"]);
    await search.press("Enter");
    await expect(page).toHaveURL(/\/services\/go\.micro\.srv\.order$/);
    await expect(page).toHaveTitle("go.micro.srv.order · Muster");
  } finally {
    await changes.stop();
  }
});

test("facet chips: state and server/protocol/transport values with counts, toggled in the URL, with the search", async ({
  page,
  muster,
}) => {
  await registerCatalog(muster);
  const changes = churn(muster);
  try {
    await page.goto(`${muster.url}/`);
    await whenLive(page);
    const facets = page.getByTestId("facets");
    const chip = (facet: string) => facets.locator(`a[data-facet="${facet}"]`);
    await expect(chip("server=grpc").locator(".chip-count")).toHaveText("1");
    await expect(chip("server=mucp").locator(".chip-count")).toHaveText("1");
    await expect(chip("transport=http").locator(".chip-count")).toHaveText("2");
    await expect(chip("protocol=mucp").locator(".chip-count")).toHaveText("2");
    await expect(chip("state=healthy")).toBeVisible();
    await expect(chip("state=no-healthy")).toBeVisible();

    await chip("transport=http").click();
    await expect(page).toHaveURL(/[?&]transport=http/);
    await expect(chip("transport=http")).toHaveAttribute("aria-pressed", "true");
    await expect.poll(() => rowNames(page)).toEqual(["go.micro.api.gateway", "go.micro.srv.user"]);
    // The other groups count within the chosen chip; its own group still counts everything.
    await expect(chip("server=http").locator(".chip-count")).toHaveText("1");
    await expect(chip("server=grpc")).toHaveCount(0);
    await expect(chip("transport=grpc").locator(".chip-count")).toHaveText("1");

    // Combined with the search text, and with a second group.
    await page.getByLabel("Search").fill("srv");
    await expect(page).toHaveURL(/q=srv/);
    await expect(page).toHaveURL(/transport=http/);
    await expect.poll(() => rowNames(page)).toEqual(["go.micro.srv.user"]);
    await changes.until(changes.changes + 6);
    await expect.poll(() => rowNames(page)).toEqual(["go.micro.srv.user"]);
    await page.getByLabel("Search").fill("");
    await chip("server=http").click();
    await expect(page).toHaveURL(/server=http/);
    await expect.poll(() => rowNames(page)).toEqual(["go.micro.api.gateway"]);

    // A second click on a chip takes it off again.
    await chip("transport=http").click();
    await expect(page).not.toHaveURL(/transport=/);
    await expect(page).toHaveURL(/server=http/);
    await chip("server=http").click();
    await expect(page).not.toHaveURL(/server=/);
    await expect.poll(async () => (await rowNames(page)).length).toBe(4);
  } finally {
    await changes.stop();
  }
});

test("health strip and status: no healthy node looks broken, apart from degraded; needs attention first; last change", async ({
  page,
}) => {
  const muster = new Muster(["--probe-interval", "300ms"]);
  await muster.start();
  const peers: ChildProcess[] = [];
  const changes = churn(muster);
  try {
    for (const port of [18751, 18752, 18753, 18754]) peers.push(await startPeer(`127.0.0.1:${port}`));
    await muster.register(record("e2e.status.ok", [], [
      ["ok-1", "127.0.0.1:18751", MUCP],
      ["ok-2", "127.0.0.1:18752", MUCP],
    ]));
    // Two healthy nodes and one whose address refuses: degraded, not broken.
    await muster.register(record("e2e.status.degraded", [], [
      ["deg-1", "127.0.0.1:18753", MUCP],
      ["deg-2", "127.0.0.1:18754", MUCP],
      ["deg-3", "127.0.0.1:18755", MUCP],
    ]));
    // Nothing listens on either: no node can serve.
    await muster.register(record("e2e.status.down", [], [
      ["down-1", "127.0.0.1:18756", MUCP],
      ["down-2", "127.0.0.1:18757", MUCP],
    ]));

    await page.goto(`${muster.url}/?q=e2e.status`);
    await whenLive(page);
    const row = (name: string) => page.locator(`tr[data-service="${name}"]`);
    await expect(row("e2e.status.down")).toHaveAttribute("data-status", "no-healthy");
    await expect(row("e2e.status.down").locator(".status")).toHaveText("no healthy node");
    await expect(row("e2e.status.down")).toHaveClass(/row-no-healthy/);
    await expect(row("e2e.status.degraded")).toHaveAttribute("data-status", "degraded");
    await expect(row("e2e.status.degraded").locator(".status")).toHaveText("degraded");
    await expect(row("e2e.status.ok")).toHaveAttribute("data-status", "healthy");
    // The broken row is red; the degraded one is not.
    const background = (name: string) =>
      row(name).locator("td").first().evaluate((cell) => getComputedStyle(cell).backgroundColor);
    expect(await background("e2e.status.down")).not.toBe(await background("e2e.status.degraded"));

    // The strip counts every service, whatever the search, and its "no healthy node" figure
    // agrees with the rows and stands out.
    const strip = page.getByTestId("health-strip");
    const figure = (name: string) => strip.locator(`[data-figure="${name}"] dd`);
    await expect(figure("services")).toHaveText("4");
    const noHealthy = strip.locator('[data-figure="no-healthy"]');
    await expect(noHealthy).toHaveAttribute("data-alert", "true");
    await expect(noHealthy).toHaveClass(/figure-broken/);
    await changes.until(changes.changes + 6);
    await page.getByLabel("Search").fill("");
    await page.getByLabel("Per page").selectOption("all");
    await expect
      .poll(() =>
        page.evaluate(() => {
          const shown = document.querySelector('[data-figure="no-healthy"] dd')?.textContent ?? "";
          const rows = document.querySelectorAll('tbody tr[data-status="no-healthy"]').length;
          const stale = document.querySelector('[data-figure="stale"] dd')?.textContent ?? "";
          const staleRows = [...document.querySelectorAll("tbody tr[data-service] .state-stale")]
            .map((cell) => Number(cell.textContent))
            .reduce((a, b) => a + b, 0);
          return parseInt(shown) === rows && rows >= 1 && Number(stale) === staleRows;
        }),
      )
      .toBe(true);

    // Needs attention: no healthy node, then degraded, then healthy (then by name).
    await page.getByLabel("Search").fill("e2e.status");
    await page.locator('th[data-sort="attention"]').getByRole("link").click();
    await expect(page).toHaveURL(/sort=attention&dir=asc/);
    await expect(page).toHaveURL(/q=e2e\.status/);
    await expect.poll(() => rowNames(page)).toEqual(["e2e.status.down", "e2e.status.degraded", "e2e.status.ok"]);
    await changes.until(changes.changes + 6);
    await expect.poll(() => rowNames(page)).toEqual(["e2e.status.down", "e2e.status.degraded", "e2e.status.ok"]);
    // The "no healthy node" figure links to exactly those services.
    await noHealthy.getByRole("link").click();
    await expect(page).toHaveURL(/state=no-healthy/);
    await expect.poll(() => rowNames(page)).toEqual(["e2e.status.down"]);

    // Last change: relative, the exact UTC time in the title; sorting by it surfaces what
    // just changed (here: the ok service loses a node).
    await page.goto(`${muster.url}/?q=e2e.status&sort=changed&dir=desc`);
    await whenLive(page);
    const changed = row("e2e.status.ok").locator("td.last-change");
    await expect(changed).toHaveText(/^(just now|\d+ s ago)$/);
    await expect(changed).toHaveAttribute("title", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await page.waitForTimeout(1200);
    const response = await fetch(`${muster.url}/api/services/e2e.status.ok/nodes/ok-2`, { method: "DELETE" });
    expect(response.status).toBeLessThan(300);
    await expect.poll(async () => (await rowNames(page))[0]).toBe("e2e.status.ok");
    await expect(row("e2e.status.ok")).toHaveAttribute("data-status", "healthy");
  } finally {
    await changes.stop();
    for (const peer of peers) peer.kill();
    await muster.stop();
  }
});

test("page size 50/100/all and page N of M keep sort and filter; the scroll survives churn", async ({
  page,
  muster,
}) => {
  await registerCatalog(muster, 120);
  const changes = churn(muster);
  try {
    await page.goto(`${muster.url}/?q=e2e.fill&sort=name&dir=desc`);
    await whenLive(page);
    const pageOf = page.getByTestId("page-of");
    await expect(pageOf).toHaveText("Page 1 of 3");
    await expect(page.locator("tbody tr[data-service]")).toHaveCount(50);

    await page.getByLabel("Per page").selectOption("100");
    await expect(page).toHaveURL(/size=100/);
    await expect(page).toHaveURL(/q=e2e\.fill/);
    await expect(page).toHaveURL(/sort=name&dir=desc/);
    await expect(pageOf).toHaveText("Page 1 of 2");
    await expect(page.locator("tbody tr[data-service]")).toHaveCount(100);
    await page.getByRole("link", { name: "Next →" }).click();
    await expect(page).toHaveURL(/page=2/);
    await expect(page).toHaveURL(/size=100/);
    await expect(page).toHaveURL(/sort=name&dir=desc/);
    await expect(page).toHaveURL(/q=e2e\.fill/);
    await expect(pageOf).toHaveText("Page 2 of 2");
    await expect.poll(async () => (await rowNames(page))[0]).toBe("e2e.fill.019");
    await expect(page.locator("tbody tr[data-service]")).toHaveCount(20);

    // A chip keeps the page size and the sort.
    await page.getByTestId("facets").locator('a[data-facet="state=healthy"]').click();
    await expect(page).toHaveURL(/state=healthy/);
    await expect(page).toHaveURL(/size=100/);
    await expect(page).toHaveURL(/sort=name&dir=desc/);
    await expect(page).not.toHaveURL(/page=/);

    // All on one page, the churn's service among them; scrolled down, the view stays put.
    await page.goto(`${muster.url}/?size=all`);
    await whenLive(page);
    await expect(pageOf).toHaveText("Page 1 of 1");
    await expect(page.locator("tbody tr[data-service]")).toHaveCount(124);
    await page.locator('tr[data-service="e2e.fill.080"]').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, 200));
    const scrolled = await page.evaluate(() => window.scrollY);
    expect(scrolled).toBeGreaterThan(1000);
    await changes.until(changes.changes + 10);
    expect(await page.evaluate(() => window.scrollY)).toBe(scrolled);
    await expect(page.locator("tbody tr[data-service]")).toHaveCount(124);
  } finally {
    await changes.stop();
  }
});
