// An operator's console (issue #17, first slice): a framed 404 that suggests what was meant,
// tab titles that name the page, sortable columns kept in the URL, keyboard shortcuts and a
// theme switch. Every test runs while a script keeps changing another service.
import { Page } from "@playwright/test";
import { test, expect, whenLive, nav } from "./fixtures";
import { Churn } from "./support/churn";
import { Muster } from "./support/muster";

/** A service record with `nodes` nodes (ids `NAME-0` ..) on ports from `port`. */
function record(name: string, nodes: number, port: number, version = "1.0.0") {
  return {
    name,
    version,
    metadata: null,
    endpoints: [],
    nodes: Array.from({ length: nodes }, (_, i) => ({
      id: `${name}-${i}`,
      address: `127.0.0.1:${port + i}`,
      metadata: {},
    })),
  };
}

/** Starts changing `e2e.ops.churn` in the background. */
function churn(muster: Muster): Churn {
  return new Churn(muster, { service: "e2e.ops.churn", intervalMs: 200, basePort: 19500 }).start();
}

/** The service names of the table's rows, top to bottom. */
function rowNames(page: Page): Promise<string[]> {
  return page.locator("tbody tr[data-service]").evaluateAll((rows) =>
    rows.map((row) => row.getAttribute("data-service") ?? ""),
  );
}

test("an unknown service or path: a framed 404 suggesting similar names, and the way back", async ({
  page,
  muster,
}) => {
  await muster.register(record("go.micro.srv.order", 1, 18600), 60);
  await muster.register(record("go.micro.srv.user", 1, 18610), 60);
  const changes = churn(muster);
  try {
    const response = await page.goto(`${muster.url}/services/go.micro.srv.ordr`);
    expect(response?.status()).toBe(404);
    await whenLive(page);
    const notFound = page.getByTestId("not-found");
    await expect(notFound).toContainText("No service of this name is registered");
    await expect(page.locator("header.topbar")).toBeVisible();
    const suggestions = page.getByTestId("suggestions");
    await expect(suggestions.getByRole("link")).toHaveText(["go.micro.srv.order"]);
    await changes.until(5);
    await suggestions.getByRole("link", { name: "go.micro.srv.order" }).click();
    await expect(page).toHaveURL(/\/services\/go\.micro\.srv\.order$/);
    await expect(page).toHaveTitle("go.micro.srv.order · Muster");
    await expect(page.locator('tr[data-node="go.micro.srv.order-0"]')).toBeVisible();

    const unknown = await page.goto(`${muster.url}/no/such/go.micro.srv.usr`);
    expect(unknown?.status()).toBe(404);
    await whenLive(page);
    await expect(page).toHaveTitle("Not found · Muster");
    await expect(page.getByTestId("not-found")).toContainText("There is no page at this address.");
    await expect(page.getByTestId("suggestions").getByRole("link")).toContainText(["go.micro.srv.user"]);
    await page.getByRole("link", { name: "Back to all services" }).click();
    await expect(page).toHaveTitle("Services · Muster");
    await expect(page.locator('tr[data-service="go.micro.srv.order"]')).toBeVisible();

    await page.goto(`${muster.url}/services/`);
    await whenLive(page);
    await expect(page).toHaveTitle("Services · Muster");
    await expect(page.locator('tr[data-service="go.micro.srv.user"]')).toBeVisible();
  } finally {
    await changes.stop();
  }
});

test("tab titles name the page", async ({ page, muster }) => {
  await muster.register(record("go.micro.srv.order", 1, 18620), 60);
  const changes = churn(muster);
  try {
    await page.goto(`${muster.url}/`);
    await whenLive(page);
    await expect(page).toHaveTitle("Services · Muster");
    for (const [link, title] of [
      ["Events", "Events · Muster"],
      ["LAN", "LAN · Muster"],
      ["Stats", "Stats · Muster"],
      ["Register", "Register · Muster"],
      ["Services", "Services · Muster"],
    ]) {
      await nav(page, link).click();
      await expect(page).toHaveTitle(title);
    }
    await page.locator('tr[data-service="go.micro.srv.order"] a').click();
    await expect(page).toHaveTitle("go.micro.srv.order · Muster");
    // The server renders the same title.
    await page.goto(`${muster.url}/events`);
    await expect(page).toHaveTitle("Events · Muster");
  } finally {
    await changes.stop();
  }
});

test("column headers sort both ways; the sort stays in the URL through search and paging", async ({
  page,
  muster,
}) => {
  await muster.register(record("e2e.sortme.a", 1, 18700), 60);
  await muster.register(record("e2e.sortme.b", 3, 18710), 60);
  await muster.register(record("e2e.sortme.c", 2, 18720, "1.9.0"), 60);
  await muster.register(record("e2e.sortme.c", 1, 18730, "1.10.0"), 60);
  for (let i = 0; i < 55; i++) {
    await muster.register(record(`e2e.page.${String(i).padStart(2, "0")}`, 1, 18800 + i), 60);
  }
  const changes = churn(muster);
  try {
    await page.goto(`${muster.url}/?q=sortme`);
    await whenLive(page);
    await changes.until(3);
    const nodes = page.locator('th[data-sort="nodes"]');
    await nodes.getByRole("link").click();
    await expect(page).toHaveURL(/[?&]sort=nodes&dir=desc/);
    await expect(page).toHaveURL(/[?&]q=sortme/);
    await expect(nodes).toHaveAttribute("aria-sort", "descending");
    await expect.poll(() => rowNames(page)).toEqual(["e2e.sortme.b", "e2e.sortme.c", "e2e.sortme.a"]);
    await nodes.getByRole("link").click();
    await expect(page).toHaveURL(/[?&]sort=nodes&dir=asc/);
    await expect(nodes).toHaveAttribute("aria-sort", "ascending");
    await expect.poll(() => rowNames(page)).toEqual(["e2e.sortme.a", "e2e.sortme.b", "e2e.sortme.c"]);
    // Versions newest first, in semver order.
    await expect(page.locator('tr[data-service="e2e.sortme.c"] td').nth(1)).toHaveText("1.10.0, 1.9.0");

    // Typing a search keeps the sort.
    await page.getByLabel("Search").fill("e2e.sortme.");
    await expect(page).toHaveURL(/q=e2e\.sortme\./);
    await expect(page).toHaveURL(/sort=nodes&dir=asc/);
    await changes.until(10);
    await expect.poll(() => rowNames(page)).toEqual(["e2e.sortme.a", "e2e.sortme.b", "e2e.sortme.c"]);

    // Paging keeps search and sort.
    await page.goto(`${muster.url}/?q=e2e.page&sort=name&dir=desc`);
    await whenLive(page);
    await expect(page.getByTestId("page-of")).toHaveText("Page 1 of 2");
    expect((await rowNames(page))[0]).toBe("e2e.page.54");
    await page.getByRole("link", { name: "Next →" }).click();
    await expect(page).toHaveURL(/q=e2e\.page/);
    await expect(page).toHaveURL(/sort=name&dir=desc/);
    await expect(page).toHaveURL(/page=2/);
    await expect(page.getByTestId("page-of")).toHaveText("Page 2 of 2");
    await expect.poll(() => rowNames(page)).toEqual(["e2e.page.04", "e2e.page.03", "e2e.page.02", "e2e.page.01", "e2e.page.00"]);
  } finally {
    await changes.stop();
  }
});

test("keyboard: / focuses the search, a skip link comes first, focus is outlined", async ({ page, muster }) => {
  await muster.register(record("go.micro.srv.order", 1, 18630), 60);
  const changes = churn(muster);
  try {
    await page.goto(`${muster.url}/`);
    await whenLive(page);
    // The first Tab reaches the skip link, visibly; Enter moves focus to the content.
    await page.keyboard.press("Tab");
    const skip = page.getByRole("link", { name: "Skip to content" });
    await expect(skip).toBeFocused();
    await expect(skip).toBeInViewport();
    const outline = await skip.evaluate((el) => getComputedStyle(el).outlineStyle);
    expect(outline).toBe("solid");
    await page.keyboard.press("Enter");
    await expect(page.locator("main#content")).toBeFocused();

    // `/` jumps to the search box, and types nothing there.
    await page.keyboard.press("/");
    const search = page.getByLabel("Search");
    await expect(search).toBeFocused();
    await expect(search).toHaveValue("");
    await page.keyboard.type("go.micro/");
    await expect(search).toHaveValue("go.micro/");
    await changes.until(5);

    // Not while typing in another field: on the register form `/` is text.
    await nav(page, "Register").click();
    const name = page.getByLabel("Service name");
    await name.fill("a");
    await name.press("/");
    await expect(name).toHaveValue("a/");
    await expect(name).toBeFocused();
  } finally {
    await changes.stop();
  }
});

test("theme switch: dark, light or the system's, remembered across reloads", async ({ page, muster }) => {
  const changes = churn(muster);
  try {
    await page.emulateMedia({ colorScheme: "light" });
    await page.goto(`${muster.url}/`);
    await whenLive(page);
    const theme = page.getByTestId("theme");
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await background();
    await expect(theme).toHaveValue("system");

    await theme.selectOption("dark");
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    const dark = await background();
    expect(dark).not.toBe(light);
    await changes.until(5);
    await page.reload();
    // Applied before hydration, by the pre-paint script.
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    await whenLive(page);
    await expect(theme).toHaveValue("dark");
    expect(await background()).toBe(dark);

    // Light wins over a dark system.
    await page.emulateMedia({ colorScheme: "dark" });
    await theme.selectOption("light");
    expect(await background()).toBe(light);
    await theme.selectOption("system");
    await expect(page.locator("html")).not.toHaveAttribute("data-theme", /.*/);
    expect(await background()).toBe(dark);
    await page.reload();
    await whenLive(page);
    await expect(theme).toHaveValue("system");
  } finally {
    await changes.stop();
  }
});
