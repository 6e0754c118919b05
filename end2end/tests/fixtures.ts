import { test as base, expect, Page } from "@playwright/test";
import { Muster } from "./support/muster";

/** Every test gets a fresh console with an empty data dir, stopped afterwards. */
export const test = base.extend<{ muster: Muster }>({
  muster: async ({}, use, testInfo) => {
    const muster = new Muster();
    await muster.start();
    await use(muster);
    await muster.stop();
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach("muster.log", { body: muster.log.join("") });
    }
  },
});

export { expect };

/** Waits until the wasm bundle has hydrated the page and the watch socket is live. */
export async function whenLive(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.hydrated === "true");
  await expect(page.getByTestId("connection")).toHaveText("live");
}

/** A link of the main navigation in the top bar. */
export function nav(page: Page, name: string) {
  return page.locator("header nav").getByRole("link", { name });
}
