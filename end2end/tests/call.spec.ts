import { spawn, ChildProcess } from "node:child_process";
import path from "node:path";
import { test, expect, whenLive } from "./fixtures";
import { Muster, greeter, sleep } from "./support/muster";

// The Call panel against a fake go-micro v1.18 node (muster-rpc's fake peer, replaying the
// captured replies), while a background generator keeps changing other services.

const fakePeer = path.resolve(__dirname, "../../target/release/fake-go-micro");
let nextPeerPort = 18600;

/** Starts the fake go-micro node and waits until it listens. */
async function startPeer(): Promise<{ child: ChildProcess; address: string }> {
  const address = `127.0.0.1:${nextPeerPort++}`;
  const child = spawn(fakePeer, [address, "v1.18"], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk) => String(chunk).includes("listening") && resolve());
    child.once("exit", (code) => reject(new Error(`fake-go-micro exited (${code})`)));
  });
  return { child, address };
}

/** Registers and deregisters an unrelated service every 150 ms until stopped. */
function churn(muster: Muster): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    for (let round = 0; running; round++) {
      await muster.register(greeter(`e2e.churn.${round % 3}`, `churn-${round}`, 19000 + (round % 50)));
      await fetch(`${muster.url}/api/services/e2e.churn.${(round + 1) % 3}/nodes/churn-${round - 1}`, {
        method: "DELETE",
      });
      await sleep(150);
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

test("call an endpoint from its panel under churn: reply, go-micro error, text kept", async ({ page, muster }) => {
  const peer = await startPeer();
  try {
    const service = greeter("go.micro.srv.greeter", "greeter-1", 0, {
      broker: "http", protocol: "mucp", registry: "mdns", server: "mucp", transport: "http",
    });
    service.nodes[0].address = peer.address;
    service.endpoints.push({ ...service.endpoints[0], name: "Greeter.Fail" });
    await muster.register(service);
    const stopChurn = churn(muster);

    await page.goto(`${muster.url}/services/go.micro.srv.greeter`);
    await whenLive(page);
    const hello = page.locator('[data-endpoint="Greeter.Hello"]');
    await hello.locator(".call-panel > summary").click();
    const editor = hello.locator("textarea.call-request");
    // The example request, in the schema's field order (name before address).
    await expect(editor).toHaveValue(/"name": ""[\s\S]*"address": \{[\s\S]*"city": ""/);

    await editor.fill('{"name": "x"}');
    await sleep(1500); // several registry changes while the text sits in the editor
    await expect(editor).toHaveValue('{"name": "x"}');
    await editor.press("Control+Enter");
    await expect(hello.locator(".call-status")).toContainText("200 from greeter-1");
    await expect(hello.locator(".call-response")).toContainText('"msg": "Hello x"');

    const fail = page.locator('[data-endpoint="Greeter.Fail"]');
    await fail.locator(".call-panel > summary").click();
    await fail.locator("button.call-send").click();
    await expect(fail.locator(".call-status")).toContainText("502");
    await expect(fail.locator(".call-remote")).toContainText('"detail": "boom"');
    await expect(fail.locator(".call-remote")).toContainText('"code": 500');

    await sleep(1500); // more churn: both panels keep their text and their replies
    await expect(editor).toHaveValue('{"name": "x"}');
    await expect(hello.locator(".call-response")).toContainText('"msg": "Hello x"');
    await expect(fail.locator(".call-remote")).toContainText("boom");
    await stopChurn();

    // The last request per endpoint is remembered across a reload.
    await page.reload();
    await whenLive(page);
    await hello.locator(".call-panel > summary").click();
    await expect(editor).toHaveValue('{"name": "x"}');
  } finally {
    peer.child.kill();
  }
});
