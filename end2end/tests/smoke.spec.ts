import { test, expect, whenLive } from "./fixtures";

// The page is server-rendered, then the wasm bundle hydrates it: typing in the search box only
// changes the count if the reactive (wasm) half is running.
test("services page renders on the server and hydrates", async ({ page, muster }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  const response = await page.goto(muster.url);
  expect(response?.status()).toBe(200);
  await expect(page.locator("header .brand")).toHaveText("Muster");

  const count = page.getByTestId("service-count");
  await expect(count).toHaveText("0 of 0 services");

  await whenLive(page);
  await page.getByLabel("Search").fill("no-such-service");
  await expect(count).toHaveText("0 of 0 services matching “no-such-service”");
  await expect(page).toHaveURL(/\?q=no-such-service/);

  expect(errors).toEqual([]);
});
