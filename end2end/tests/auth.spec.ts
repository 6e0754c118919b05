import { test, expect } from "@playwright/test";
import { Muster } from "./support/muster";

/** An admin token strong enough for the console's start-up check. */
const TOKEN = "e2e-secret-7b5d1f4a0f3a9c2e";

// With an admin token the console is read-only until the operator signs in; the session
// cookie then unlocks the forms.
test("sign in with the admin token unlocks actions", async ({ page }) => {
  const muster = new Muster(["--admin-token", TOKEN]);
  await muster.start();
  try {
    await page.goto(`${muster.url}/register`);
    await page.waitForFunction(() => document.body.dataset.hydrated === "true");
    await expect(page.getByRole("button", { name: "Register" })).toBeDisabled();
    await page.locator("header").getByRole("link", { name: "Sign in" }).click();

    await page.getByLabel("Admin token").fill("wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toBeVisible();

    await page.getByLabel("Admin token").fill(TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.goto(`${muster.url}/register`);
    await page.waitForFunction(() => document.body.dataset.hydrated === "true");
    await expect(page.getByRole("button", { name: "Register" })).toBeEnabled();
    await page.getByLabel("Service name").fill("e2e.signed.in");
    await page.getByLabel(/^Nodes/).fill("127.0.0.1:18099");
    await page.getByRole("button", { name: "Register" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Registered 1 node" })).toBeVisible();
  } finally {
    await muster.stop();
  }
});
