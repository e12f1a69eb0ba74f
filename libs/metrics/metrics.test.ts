import { afterEach, describe, expect, it } from "vitest";
import type { Server } from "node:http";
import { Counter, createRegistry, serveMetrics } from "./index.ts";

describe("serveMetrics", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it("serves registered metrics and a health verdict", async () => {
    const registry = createRegistry();
    const proposals = new Counter({ name: "flotilla_test_proposals_total", help: "proposals", registers: [registry] });
    proposals.inc(3);
    let healthy = true;
    server = await serveMetrics(registry, "127.0.0.1", 0, async () => (healthy ? { healthy } : { healthy, reason: "no leader" }));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no address");
    const base = `http://127.0.0.1:${address.port}`;
    expect(await (await fetch(`${base}/metrics`)).text()).toContain("flotilla_test_proposals_total 3");
    const ok = await fetch(`${base}/health`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ health: "true", reason: "" });
    healthy = false;
    const bad = await fetch(`${base}/health`);
    expect(bad.status).toBe(503);
    expect(await bad.json()).toEqual({ health: "false", reason: "no leader" });
  });
});
