import { describe, expect, it } from "vitest";
import { containerConfigToWire, containerStatsFromWire, containerStatusFromWire, nanosecondsToMs, sandboxConfigToWire, sandboxStatusFromWire } from "./convert.ts";
import type { SandboxConfig } from "./runtime.ts";

const sandbox: SandboxConfig = {
  name: "web-0",
  namespace: "shop",
  uid: "0f3c",
  attempt: 2,
  hostname: "web-0",
  logDirectory: "/var/log/pods/shop_web-0_0f3c",
  dns: { servers: ["10.96.0.10"], searches: ["shop.svc.cluster.local"], options: ["ndots:5"] },
  portMappings: [{ protocol: "UDP", containerPort: 53, hostPort: 5353 }],
  labels: { app: "web" },
  cgroupParent: "/kubepods/pod0f3c",
  sysctls: { "net.ipv4.ip_unprivileged_port_start": "0" },
  securityContext: { runAsUser: 1000, supplementalGroups: [5, 6] },
};

describe("sandboxConfigToWire", () => {
  it("carries identity, DNS, port mappings and linux settings under CRI's field names", () => {
    const wire = sandboxConfigToWire(sandbox);
    expect(wire.metadata).toEqual({ name: "web-0", uid: "0f3c", namespace: "shop", attempt: 2 });
    expect(wire.log_directory).toBe("/var/log/pods/shop_web-0_0f3c");
    expect(wire.dns_config).toEqual({ servers: ["10.96.0.10"], searches: ["shop.svc.cluster.local"], options: ["ndots:5"] });
    expect(wire.port_mappings).toEqual([{ protocol: "UDP", container_port: 53, host_port: 5353, host_ip: "" }]);
    expect(wire.linux.cgroup_parent).toBe("/kubepods/pod0f3c");
    expect(wire.linux.sysctls).toEqual({ "net.ipv4.ip_unprivileged_port_start": "0" });
    expect(wire.linux.security_context.run_as_user).toEqual({ value: "1000" });
    expect(wire.linux.security_context.supplemental_groups).toEqual(["5", "6"]);
  });

  it("leaves unset wrappers absent rather than zero (run_as_user 0 would mean root)", () => {
    const wire = sandboxConfigToWire({ ...sandbox, securityContext: {} });
    expect("run_as_user" in wire.linux.security_context).toBe(false);
    expect("run_as_group" in wire.linux.security_context).toBe(false);
    expect("dns_config" in sandboxConfigToWire({ name: "a", namespace: "b", uid: "c", attempt: 0, hostname: "a", logDirectory: "/l" })).toBe(false);
  });
});

describe("containerConfigToWire", () => {
  it("maps env to KeyValue, mounts with propagation names, and resources as int64 strings", () => {
    const wire = containerConfigToWire({
      name: "app",
      attempt: 1,
      image: "docker.io/flotilla/busybox:1",
      command: ["sh"],
      args: ["-c", "true"],
      env: [{ name: "A", value: "1" }],
      mounts: [{ containerPath: "/data", hostPath: "/srv/data", readOnly: true, propagation: "HostToContainer" }],
      logPath: "app/1.log",
      resources: { cpuQuotaMicroseconds: 50_000, cpuPeriodMicroseconds: 100_000, memoryLimitBytes: 64 * 1024 * 1024 },
      securityContext: { capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] }, readonlyRootfs: true },
    });
    expect(wire.envs).toEqual([{ key: "A", value: "1" }]);
    expect(wire.mounts).toEqual([{ container_path: "/data", host_path: "/srv/data", readonly: true, propagation: "PROPAGATION_HOST_TO_CONTAINER" }]);
    expect(wire.linux.resources?.cpu_quota).toBe("50000");
    expect(wire.linux.resources?.memory_limit_in_bytes).toBe(String(64 * 1024 * 1024));
    expect(wire.linux.security_context.capabilities).toEqual({ add_capabilities: ["NET_ADMIN"], drop_capabilities: ["ALL"] });
    expect(wire.linux.security_context.readonly_rootfs).toBe(true);
    expect(wire.log_path).toBe("app/1.log");
  });
});

describe("wire to runtime types", () => {
  it("nanosecondsToMs keeps precision beyond 2^53 nanoseconds", () => {
    expect(nanosecondsToMs("1763775000123456789")).toBe(1763775000123);
    expect(nanosecondsToMs("0")).toBe(0);
  });

  it("containerStatusFromWire names the state and keeps the exit code and log path", () => {
    const status = containerStatusFromWire({
      id: "c1",
      metadata: { name: "app", attempt: 0 },
      state: "CONTAINER_EXITED",
      created_at: "1000000000",
      started_at: "2000000000",
      finished_at: "3000000000",
      exit_code: 3,
      image: { image: "docker.io/flotilla/busybox:1" },
      image_ref: "sha256:ab",
      reason: "Error",
      message: "",
      labels: {},
      annotations: {},
      log_path: "/logs/app/0.log",
    });
    expect(status.state).toBe("Exited");
    expect(status.exitCode).toBe(3);
    expect(status.finishedAtMs).toBe(3000);
    expect(status.logPath).toBe("/logs/app/0.log");
  });

  it("sandboxStatusFromWire reads the pod IP and an unknown state as NotReady", () => {
    const status = sandboxStatusFromWire({
      id: "s1",
      metadata: { name: "web", uid: "u", namespace: "ns", attempt: 0 },
      state: "SANDBOX_SOMETHING_NEW",
      created_at: "5000000",
      labels: {},
      annotations: {},
      network: { ip: "10.244.1.5", additional_ips: [{ ip: "fd00::5" }] },
    });
    expect(status.ip).toBe("10.244.1.5");
    expect(status.additionalIps).toEqual(["fd00::5"]);
    expect(status.state).toBe("NotReady");
  });

  it("containerStatsFromWire keeps cumulative CPU as a bigint and leaves absent usage undefined", () => {
    const stats = containerStatsFromWire({
      attributes: { id: "c1", metadata: { name: "app", attempt: 0 }, labels: { a: "b" } },
      cpu: { timestamp: "7000000", usage_core_nano_seconds: { value: "9007199254740993" } },
      memory: { timestamp: "7000000", working_set_bytes: { value: "4096" } },
      writable_layer: null,
    });
    expect(stats.cpuUsageCoreNanoseconds).toBe(9007199254740993n);
    expect(stats.memoryWorkingSetBytes).toBe(4096);
    expect(stats.writableLayerUsedBytes).toBeUndefined();
    expect(stats.timestampMs).toBe(7);
  });
});
