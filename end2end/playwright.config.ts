import { defineConfig } from "@playwright/test";

// Browser tests run against the release build made by scripts/build-site.sh, served by the real
// `muster` binary on a loopback port of its own. Chromium is Debian's (/usr/bin/chromium):
// Playwright's own browser downloads are not available on these machines.
const port = Number(process.env.MUSTER_E2E_PORT ?? 3210);

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
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
  webServer: {
    command: `../target/release/muster --registry memory --listen 127.0.0.1:${port} --site-root ../target/site`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: "pipe",
  },
});
