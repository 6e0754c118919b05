// A fake go-micro node (muster-rpc's fake peer as a process): answers Debug.Health, so the
// console's health checks find it healthy; killing it makes it unreachable.
import { spawn, ChildProcess } from "node:child_process";
import path from "node:path";

const fakePeer = path.resolve(__dirname, "../../../target/release/fake-go-micro");

/** go-micro v1.18's node metadata (mucp over HTTP). */
export const MUCP = { broker: "http", protocol: "mucp", registry: "mdns", server: "mucp", transport: "http" };

/** Starts a fake go-micro v1.18 node on `address` and waits until it listens. */
export async function startPeer(address: string): Promise<ChildProcess> {
  const child = spawn(fakePeer, [address, "v1.18"], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk) => String(chunk).includes("listening") && resolve());
    child.once("exit", (code) => reject(new Error(`fake-go-micro exited (${code})`)));
  });
  return child;
}
