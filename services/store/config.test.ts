import { describe, expect, it } from "vitest";
import { computeMemberId, parseStoreFlags, type StoreConfig } from "./config.ts";

function config(argv: string[]): StoreConfig {
  const result = parseStoreFlags(argv);
  if (!("config" in result)) throw new Error("expected a config");
  return result.config;
}

describe("parseStoreFlags", () => {
  it("uses etcd's defaults for a single member", () => {
    const resolved = config([]);
    expect(resolved.name).toBe("default");
    expect(resolved.dataDir).toBe("default.etcd");
    expect(resolved.initialCluster).toHaveLength(1);
    expect(resolved.initialCluster[0]?.peerUrls).toEqual(["http://localhost:2380"]);
    expect(resolved.electionTicks).toBe(10);
    expect(resolved.quotaBackendBytes).toBe(2 * 1024 * 1024 * 1024);
  });

  it("resolves a three-member cluster and picks this member's id", () => {
    const resolved = config([
      "--name=b",
      "--initial-advertise-peer-urls=http://127.0.0.1:2381",
      "--initial-cluster=a=http://127.0.0.1:2380,b=http://127.0.0.1:2381,c=http://127.0.0.1:2382",
    ]);
    expect(resolved.initialCluster.map((member) => member.name)).toEqual(["a", "b", "c"]);
    expect(resolved.memberId).toBe(resolved.initialCluster[1]?.id);
    expect(new Set(resolved.initialCluster.map((member) => member.id)).size).toBe(3);
  });

  it("gives member ids that are safe, nonzero and depend on the cluster token", () => {
    const a = computeMemberId(["http://127.0.0.1:2380/"], "one");
    const b = computeMemberId(["http://127.0.0.1:2380/"], "two");
    expect(Number.isSafeInteger(a) && a > 0).toBe(true);
    expect(a).not.toBe(b);
  });

  it("refuses an election timeout under five heartbeats, as etcd does", () => {
    expect(() => config(["--election-timeout=200", "--heartbeat-interval=100"])).toThrow(
      "--election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]",
    );
  });

  it("refuses a local name missing from --initial-cluster", () => {
    expect(() => config(["--name=x", "--initial-cluster=a=http://127.0.0.1:2380"])).toThrow(
      /--initial-cluster: couldn't find local name "x"/,
    );
  });

  it("refuses advertised peer URLs that disagree with --initial-cluster", () => {
    expect(() =>
      config(["--name=a", "--initial-advertise-peer-urls=http://127.0.0.1:2380", "--initial-cluster=a=http://127.0.0.1:2390"]),
    ).toThrow(/--initial-cluster has a=http:\/\/127.0.0.1:2390 but --initial-advertise-peer-urls is http:\/\/127.0.0.1:2380/);
  });

  it("refuses a URL without a scheme, naming the flag", () => {
    expect(() => config(["--listen-client-urls=localhost:2379"])).toThrow(/flag --listen-client-urls: invalid value "localhost:2379"/);
  });

  it("refuses https URLs without certificate files", () => {
    expect(() => config(["--listen-client-urls=https://127.0.0.1:2379"])).toThrow(/flag --cert-file: https URLs need/);
  });

  it("refuses the same peer URL for two members", () => {
    expect(() => config(["--name=a", "--initial-advertise-peer-urls=http://h:1", "--initial-cluster=a=http://h:1,b=http://h:1"])).toThrow(
      /peer URL http:\/\/h:1 is given for both a and b/,
    );
  });
});
