import { test, expect, chromium, Browser } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import config from "../playwright.config";
import { Muster, freePort, greeter } from "./support/muster";
import { whenLive } from "./fixtures";

// The console over HTTPS with a certificate from a CA this test makes (openssl CLI). Chromium
// is told to accept exactly that certificate's public key (--ignore-certificate-errors-spki-list,
// not --ignore-certificate-errors), the page checks who issued what it got, and a browser
// without the pin refuses the site. Meanwhile a script changes other services (churn).

const TOKEN = "e2e-https-0f3a9c2e7b5d1f4a";

function openssl(dir: string, args: string[], input?: Buffer): Buffer {
  return execFileSync("openssl", args, { cwd: dir, input, stdio: ["pipe", "pipe", "pipe"] });
}

/** A CA and a certificate for localhost/127.0.0.1 signed by it; the leaf's SPKI pin. */
function makeCertificates(): { dir: string; ca: Buffer; spki: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "muster-e2e-pki-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(dir, ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
    "-subj", "/CN=muster e2e ca", "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  writeFileSync(path.join(dir, "leaf.ext"),
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  openssl(dir, ["req", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"]);
  openssl(dir, ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
    "-CAcreateserial", "-days", "2", "-extfile", "leaf.ext", "-out", "leaf.pem"]);
  const publicKey = openssl(dir, ["x509", "-in", "leaf.pem", "-pubkey", "-noout"]);
  const der = openssl(dir, ["pkey", "-pubin", "-outform", "der"], publicKey);
  const spki = openssl(dir, ["dgst", "-sha256", "-binary"], der).toString("base64");
  return { dir, ca: readFileSync(path.join(dir, "ca.pem")), spki };
}

/** Registers and deregisters `churn.N` over HTTPS (trusting the test CA) until stopped. */
function churn(muster: Muster, ca: Buffer): () => Promise<void> {
  let running = true;
  const call = (method: string, route: string, body?: object) =>
    new Promise<void>((resolve) => {
      const request = httpsRequest(`${muster.url}${route}`, {
        method,
        ca,
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      }, (response) => {
        response.resume();
        response.on("end", () => resolve());
      });
      request.on("error", () => resolve());
      request.end(body ? JSON.stringify(body) : undefined);
    });
  const loop = (async () => {
    for (let i = 0; running; i++) {
      await call("POST", "/api/services", { ...greeter(`churn.${i % 5}`, `churn-${i}`, 19000 + (i % 50)), ttl: 30 });
      await call("DELETE", `/api/services/churn.${(i + 3) % 5}/nodes/churn-${i - 3}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

test("the console over HTTPS: redirect, HSTS, Secure cookie, CSP, live view", async () => {
  const { dir, ca, spki } = makeCertificates();
  const redirectPort = await freePort();
  const muster = new Muster([
    "--tls-cert", path.join(dir, "leaf.pem"), "--tls-key", path.join(dir, "leaf.key"),
    "--redirect-http", `127.0.0.1:${redirectPort}`, "--admin-token", TOKEN,
  ]);
  await muster.start();
  const stopChurn = churn(muster, ca);
  const args = config.use?.launchOptions?.args ?? [];
  const executablePath = config.use?.launchOptions?.executablePath;
  const browsers: Browser[] = [];
  try {
    const unpinned = await chromium.launch({ executablePath, args });
    browsers.push(unpinned);
    await expect((await unpinned.newPage()).goto(muster.url)).rejects.toThrow(/ERR_CERT/);

    const browser = await chromium.launch({ executablePath, args: [...args, `--ignore-certificate-errors-spki-list=${spki}`] });
    browsers.push(browser);
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });

    const response = await page.goto(`http://localhost:${redirectPort}/register`);
    await expect(page).toHaveURL(`${muster.url}/register`);
    const security = await response!.securityDetails();
    expect(security?.issuer).toBe("muster e2e ca");
    expect(security?.subjectName).toBe("localhost");
    expect(response!.headers()["strict-transport-security"]).toBe("max-age=31536000");
    expect(response!.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    await whenLive(page);

    await page.locator("header").getByRole("link", { name: "Sign in" }).click();
    await page.getByLabel("Admin token").fill(TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    const session = (await context.cookies()).find((cookie) => cookie.name === "muster_session");
    expect(session?.secure).toBe(true);
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe("Strict");

    await page.goto(`${muster.url}/register`);
    await whenLive(page);
    await expect(page.getByRole("button", { name: "Register" })).toBeEnabled();
    await page.getByLabel("Service name").fill("e2e.over.https");
    await page.getByLabel(/^Nodes/).fill("127.0.0.1:18098");
    await page.getByRole("button", { name: "Register" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Registered 1 node" })).toBeVisible();
    expect(violations).toEqual([]);
  } finally {
    await stopChurn();
    for (const browser of browsers) await browser.close();
    await muster.stop();
  }
});
