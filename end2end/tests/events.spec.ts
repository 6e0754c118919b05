// The events page (issue #17): every row links to its service and node and says why in plain
// words, with the address and, for the console's own actions, who asked; the filter and the
// pause live in the URL, a paused log holds still and counts what is new; the export is the
// filtered log as NDJSON. Each test runs while a script keeps changing another service.
import { ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, expect, whenLive } from "./fixtures";
import { Churn } from "./support/churn";
import { binary, freePort, greeter, Muster, registerOutOfBand, registryArgs, sleep } from "./support/muster";

function churn(muster: Muster): Churn {
  return new Churn(muster, { service: "e2e.other.churn", intervalMs: 200, basePort: 19700 }).start();
}

/** Another process owning `service` with registration TTL `ttl` ("3s"), announced over the registry. */
async function ownedElsewhere(service: object, ttl: string): Promise<ChildProcess> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "muster-ev-")), "service.json");
  writeFileSync(file, JSON.stringify(service));
  const child = spawn(binary, ["register", "-f", file, "--ttl", ttl, ...registryArgs()], { stdio: "ignore" });
  await sleep(300);
  if (child.exitCode !== null) throw new Error(`muster register exited (${child.exitCode})`);
  return child;
}

test("rows link to the service and node and say why: an evict names who asked, an expiry its TTL", async ({
  page,
  muster,
}) => {
  const port = await freePort();
  const owner = await registerOutOfBand(greeter("e2e.events.foreign", "foreign-1", port));
  // A second console holding mDNS records 3 s at most: a node whose owner died expires soon.
  const shortLived = new Muster(["--mdns-max-ttl", "3s"]);
  await shortLived.start();
  let short: ChildProcess | undefined;
  const changes = churn(muster);
  try {
    await page.goto(`${muster.url}/services/e2e.events.foreign`);
    await whenLive(page);
    const row = page.locator('tr[data-node="foreign-1"]');
    await expect(row).toBeVisible();
    // Its owner dies without a goodbye: the evict sticks (a live owner would re-announce).
    owner.kill("SIGKILL");
    await changes.until(3);
    await row.getByRole("button", { name: "Evict" }).click();
    await page.getByRole("button", { name: "Yes, evict" }).click();
    await expect(row).toHaveAttribute("data-state", "evicted");

    // The service's own History shows the same row.
    await page.locator("details.history summary").click();
    const history = page.locator('details.history tr[data-action="delete"][data-event-node="foreign-1"]');
    await expect(history.locator("td.why")).toHaveText("evicted from this console");

    await page.goto(`${muster.url}/events?q=e2e.events&action=delete`);
    await whenLive(page);
    await expect(page.locator("#event-filter")).toHaveValue("e2e.events");
    const evicted = page.locator('tr[data-action="delete"][data-event-node="foreign-1"]');
    await expect(evicted.locator("td.why")).toHaveText("evicted from this console");
    await expect(evicted.locator("td.actor")).toHaveText(/^local user \(127\.0\.0\.1\)$/);
    await expect(evicted.locator("td.address")).toHaveText(`127.0.0.1:${port}`);
    await expect(evicted.getByRole("link", { name: "e2e.events.foreign" })).toHaveAttribute(
      "href",
      "/services/e2e.events.foreign",
    );
    // Churn events of the other service are filtered out meanwhile.
    await changes.until(10);
    await expect(page.locator("tbody tr[data-seq]")).toHaveCount(1);

    await evicted.getByRole("link", { name: "foreign-1" }).click();
    await expect(page).toHaveURL(/\/services\/e2e\.events\.foreign#node-foreign-1$/);
    await expect(page.locator('tr[data-node="foreign-1"]')).toBeVisible();

    // Nobody refreshes short-1 once its owner died: its TTL runs out, and the row says so.
    short = await ownedElsewhere(greeter("e2e.events.short", "short-1", await freePort()), "60s");
    await page.goto(`${shortLived.url}/events?q=e2e.events.short`);
    await whenLive(page);
    await expect(page.locator('tr[data-action="create"][data-event-node="short-1"] td.why')).toHaveText("registered");
    short.kill("SIGKILL");
    const expired = page.locator('tr[data-action="delete"][data-event-node="short-1"]');
    await expect(expired.locator("td.why")).toHaveText("TTL 3 s ran out", { timeout: 15_000 });
    await expect(expired.locator("td.actor")).toHaveText("");
    // It went stale before it expired. (With a 3 s TTL it may also have gone stale and come
    // back while its owner lived: the backend's timings reach the view once a second, later
    // than 85 % of 3 s; that revival is its own "refreshed again" row.)
    await expect(
      page.locator('tr[data-action="update"][data-event-node="short-1"] td.why', {
        hasText: "missed its refresh (TTL 3 s)",
      }),
    ).not.toHaveCount(0);
  } finally {
    owner.kill("SIGKILL");
    short?.kill("SIGKILL");
    await changes.stop();
    await shortLived.stop();
  }
});

test("pause holds the list still and counts what is new; filter and pause are in the URL", async ({
  page,
  muster,
}) => {
  const changes = churn(muster);
  try {
    await page.goto(`${muster.url}/events`);
    await whenLive(page);
    await changes.until(4);
    const rows = page.locator("tbody tr[data-seq]");
    await expect(rows.first()).toBeVisible();
    // The table is not a live region; the status line is the only polite announcement.
    await expect(page.locator("table.event-log")).not.toHaveAttribute("aria-live", /.*/);
    await expect(page.getByRole("status").filter({ hasText: "events shown" })).toContainText("live");

    await page.getByRole("button", { name: "Pause" }).click();
    await expect(page).toHaveURL(/[?&]paused=\d+/);
    const held = await rows.evaluateAll((all) => all.map((row) => row.getAttribute("data-seq")));
    const at = changes.changes;
    await changes.until(at + 5);
    const status = page.locator("p.event-status");
    await expect(status).toContainText(/Paused: \d+ events? shown, [1-9]\d* new/);
    await expect(page.getByRole("button", { name: /^Resume \([1-9]\d* new\)$/ })).toBeVisible();
    expect(await rows.evaluateAll((all) => all.map((row) => row.getAttribute("data-seq")))).toEqual(held);

    // A reload keeps the pause (and what it holds) and the filter.
    await page.locator("#event-filter").fill("churn");
    await expect(page).toHaveURL(/[?&]q=churn/);
    await expect(page).toHaveURL(/[?&]paused=\d+/);
    await page.reload();
    await whenLive(page);
    await expect(page.locator("#event-filter")).toHaveValue("churn");
    await expect(status).toContainText("Paused:");
    const newest = Math.max(...held.map(Number));
    const shown = await rows.evaluateAll((all) => all.map((row) => Number(row.getAttribute("data-seq"))));
    expect(shown.every((seq) => seq <= newest)).toBe(true);

    await page.getByRole("button", { name: /^Resume/ }).click();
    await expect(page).not.toHaveURL(/paused=/);
    await expect(page).toHaveURL(/[?&]q=churn/);
    await expect(status).toContainText("live");
    await expect
      .poll(async () => Math.max(...(await rows.evaluateAll((all) => all.map((r) => Number(r.getAttribute("data-seq")))))))
      .toBeGreaterThan(newest);
  } finally {
    await changes.stop();
  }
});

test("the NDJSON export is the filtered log, one event per line", async ({ page, muster }) => {
  await muster.register(greeter("e2e.events.exported", "exported-1", 18701), 60);
  const changes = churn(muster);
  try {
    await page.goto(`${muster.url}/events?q=exported&action=create`);
    await whenLive(page);
    await changes.until(5);
    await expect(page.locator('tbody tr[data-event-node="exported-1"]')).toHaveCount(1);
    const link = page.getByRole("link", { name: "Export NDJSON" });
    await expect(link).toHaveAttribute("href", "/api/events?format=ndjson&q=exported&action=create");
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const text = readFileSync((await download.path())!, "utf8");
    const events = text.trim().split("\n").map((line) => JSON.parse(line));
    expect(events.length).toBe(1);
    expect(events[0].service.name).toBe("e2e.events.exported");
    expect(events[0].action).toBe("create");
    expect(events[0].reason).toEqual({ kind: "registered", by_console: true });
  } finally {
    await changes.stop();
  }
});
