// The churn generator of the live-console tests: a background loop that changes the registry
// every `intervalMs` through the console's JSON API (register a node, or deregister one),
// while a test acts on the page. `changes` counts the changes the console accepted, so a test
// can wait for "20 changes" instead of sleeping.
import { Muster, sleep } from "./muster";

export interface ChurnOptions {
  /** Service the changes go to: each change registers or deregisters one node of it. */
  service: string;
  /** Version of that service (default "1.0.0"). */
  version?: string;
  /** Wait between two changes. */
  intervalMs?: number;
  /** Nodes kept at most before the oldest is deregistered (default 3). */
  keep?: number;
  /** First port of the nodes' addresses (each node gets its own). */
  basePort?: number;
  /** Endpoints each node's record carries (default none). */
  endpoints?: object[];
}

export class Churn {
  /** Changes made so far. */
  changes = 0;
  /** Ids of every node registered so far. */
  readonly registered: string[] = [];
  private stopped = false;
  private loop?: Promise<void>;
  private error?: unknown;

  constructor(private readonly muster: Muster, private readonly options: ChurnOptions) {}

  /** Starts changing the registry in the background. */
  start(): this {
    this.loop = this.run().catch((error) => {
      this.error = error;
    });
    return this;
  }

  /** Resolves once `count` changes were made since the start (fails if the loop failed). */
  async until(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.changes < count) {
      if (this.error) throw this.error;
      if (Date.now() > deadline) throw new Error(`churn made ${this.changes} of ${count} changes`);
      await sleep(50);
    }
  }

  /** Stops after the change in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    if (this.error) throw this.error;
  }

  private async run(): Promise<void> {
    const { service, version = "1.0.0", intervalMs = 300, keep = 3, basePort = 19000, endpoints = [] } =
      this.options;
    const alive: string[] = [];
    let next = 0;
    while (!this.stopped) {
      if (alive.length >= keep) {
        const id = alive.shift()!;
        const response = await fetch(
          `${this.muster.url}/api/services/${encodeURIComponent(service)}/nodes/${encodeURIComponent(id)}`,
          { method: "DELETE" },
        );
        if (!response.ok) throw new Error(`churn deregister ${id}: ${response.status} ${await response.text()}`);
      } else {
        const id = `${service}-churn-${next}`;
        await this.muster.register({
          name: service,
          version,
          metadata: null,
          endpoints,
          nodes: [{ id, address: `127.0.0.1:${basePort + next}`, metadata: { churn: String(next) } }],
        });
        next++;
        alive.push(id);
        this.registered.push(id);
      }
      this.changes++;
      await sleep(intervalMs);
    }
  }
}
