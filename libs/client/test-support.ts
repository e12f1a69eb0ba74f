/** Helpers for libs/client's own unit tests. */

/** How long a unit test waits for an asynchronous condition before failing. */
export const unitWaitMsMax = 5_000;

/** Polls `condition` on the event loop until it holds, failing after unitWaitMsMax. */
export async function waitUntil(condition: () => boolean, timeoutMs = unitWaitMsMax): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A loopback port nothing listens on (bound, read, released). */
export async function freePortForTest(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
