/** Free loopback ports for test clusters: bind port 0, read the port, release it. */
import { createServer } from "node:net";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("freePort: no TCP address"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  const attemptsMax = count * 10;
  for (let attempt = 0; ports.size < count && attempt < attemptsMax; attempt++) ports.add(await freePort());
  if (ports.size < count) throw new Error(`freePorts: found only ${ports.size} of ${count} ports`);
  return [...ports];
}
