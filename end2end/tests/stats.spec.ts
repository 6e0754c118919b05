import { test, expect } from "@playwright/test";
import { whenLive } from "./fixtures";
import { Muster } from "./support/muster";
import { Churn } from "./support/churn";

// The Stats page shows what the console holds and what it dropped, live: a viewer past
// --max-watchers is refused, and the page says so (marked) without being reloaded, while a
// script keeps changing another service.

test("the stats page counts what the console holds and what it refused", async ({ page, browser }) => {
  const muster = new Muster(["--max-watchers", "1"]);
  await muster.start();
  const churn = new Churn(muster, { service: "e2e.stats.churn", intervalMs: 200 }).start();
  try {
    await page.goto(`${muster.url}/stats`);
    await whenLive(page);
    await expect(page).toHaveTitle(/Muster/);
    const console = page.getByTestId("stats-console");
    await expect(console.locator('[data-stat="watchers"] td')).toHaveText("1");
    await expect(page.getByTestId("stats-dnssd").locator('[data-stat="max_records"] td')).toHaveText("20000");
    await expect(page.getByTestId("stats-process").locator('[data-stat="rss_bytes"] td')).toHaveText(/MiB$/);
    const refused = console.locator('[data-stat="watchers_refused"]');
    await expect(refused.locator("td")).toHaveText("0");
    await expect(refused).not.toHaveClass(/loss/);

    // A second viewer is one too many: refused, and counted here.
    const other = await browser.newPage();
    await other.goto(`${muster.url}/`);
    await expect(refused.locator("td")).not.toHaveText("0", { timeout: 15_000 });
    await expect(refused).toHaveClass(/loss/);
    await other.close();
    await churn.until(10);
    await expect(page.getByTestId("connection")).toHaveText("live");
  } finally {
    await churn.stop();
    await muster.stop();
  }
});
