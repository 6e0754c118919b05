import { defineConfig } from "@playwright/test";

// Browser tests drive Debian's Chromium (/usr/bin/chromium): Playwright's own browser downloads
// are not available on these machines. Each test starts its own `muster` (tests/support).
export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  // list for people; json so run.sh can print one plain "N passed, N failed" line at the end.
  reporter: [["list"], ["json", { outputFile: process.env.MUSTER_E2E_REPORT ?? "test-results/report.json" }]],
  use: {
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
});
