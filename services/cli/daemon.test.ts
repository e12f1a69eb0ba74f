import { afterEach, describe, expect, it, vi } from "vitest";
import { FlagError } from "../../libs/flags/index.ts";
import { runDaemon } from "./daemon.ts";

describe("runDaemon", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers a bad flag with exit code 2 and a message naming the flag, without running", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const run = vi.fn(async () => undefined);
    const code = await runDaemon("store", ["--x"], () => {
      throw new FlagError("snapshot-count", "invalid value");
    }, run);
    expect(code).toBe(2);
    expect(run).not.toHaveBeenCalled();
    expect(String(stderr.mock.calls[0]?.[0])).toContain("flotilla store: flag --snapshot-count: invalid value");
  });

  it("prints help and exits 0 without running", async () => {
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const run = vi.fn(async () => undefined);
    expect(await runDaemon("store", ["--help"], () => ({ help: "usage: flotilla store" }), run)).toBe(0);
    expect(run).not.toHaveBeenCalled();
    expect(String(stdout.mock.calls[0]?.[0])).toBe("usage: flotilla store\n");
  });

  it("runs with the parsed config until the run resolves", async () => {
    const seen: number[] = [];
    const code = await runDaemon("store", [], () => ({ config: 7 }), async (config: number, signal) => {
      seen.push(config);
      expect(signal.aborted).toBe(false);
    });
    expect(code).toBe(0);
    expect(seen).toEqual([7]);
  });
});
