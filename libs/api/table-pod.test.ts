import { describe, expect, test } from "vitest";
import { podRow } from "./table-pod.ts";
import type { Container, ContainerStatus, Pod, PodStatus } from "./types/pod.ts";

const nowMs = Date.parse("2024-05-01T12:00:00Z");
const ago = (seconds: number) => new Date(nowMs - seconds * 1000).toISOString();
const day = 24 * 3600;

const containers = (count: number): Container[] => Array.from({ length: count }, (_, index) => ({ name: `c${index}` }));
const running = { running: {} };

function status(fields: Partial<ContainerStatus>): ContainerStatus {
  return { name: "", ready: false, restartCount: 0, image: "", imageID: "", ...fields };
}

function pod(name: string, spec: { containers: number; init?: number; sidecars?: string[] }, podStatus: PodStatus, deleting = false): Pod {
  const init: Container[] = [...containers(spec.init ?? 0).map((container, index) => ({ ...container, name: `i${index}` }))];
  for (const sidecar of spec.sidecars ?? []) init.push({ name: sidecar, restartPolicy: "Always" });
  return {
    metadata: { name, ...(deleting ? { deletionTimestamp: ago(10) } : {}) },
    spec: { containers: containers(spec.containers), ...(init.length > 0 ? { initContainers: init } : {}) },
    status: podStatus,
  };
}

// The five columns kubectl shows without -o wide.
const narrow = (row: ReturnType<typeof podRow>) => row.cells.slice(0, 5);

describe("pod rows (upstream's TestPrintPod cases)", () => {
  const cases: [string, Pod, (string | number)[]][] = [
    [
      "counts restarts and ready containers",
      pod("test1", { containers: 2 }, { phase: "podPhase" as "Pending", containerStatuses: [status({ ready: true, restartCount: 3, state: running }), status({ restartCount: 3 })] }),
      ["test1", "1/2", "podPhase", "6", "<unknown>"],
    ],
    [
      "lets a waiting container's reason override the phase",
      pod("test2", { containers: 2 }, { phase: "Running", containerStatuses: [status({ ready: true, restartCount: 3, state: running }), status({ restartCount: 3, state: { waiting: { reason: "ContainerWaitingReason" } } })] }),
      ["test2", "1/2", "ContainerWaitingReason", "6", "<unknown>"],
    ],
    [
      "lets the first container's reason win over later ones",
      pod("test3", { containers: 2 }, {
        phase: "Running",
        containerStatuses: [status({ restartCount: 3, state: { waiting: { reason: "ContainerWaitingReason" } } }), status({ restartCount: 3, state: { terminated: { exitCode: 0, reason: "ContainerTerminatedReason" } } })],
      }),
      ["test3", "0/2", "ContainerWaitingReason", "6", "<unknown>"],
    ],
    [
      "prefers the pod's reason to its phase",
      pod("test5", { containers: 2 }, { phase: "Running", reason: "podReason", containerStatuses: [status({ ready: true, restartCount: 3, state: running }), status({ ready: true, restartCount: 3 })] }),
      ["test5", "1/2", "podReason", "6", "<unknown>"],
    ],
    [
      "shows NotReady when a completed container sits beside a running one without the Ready condition",
      pod("test6", { containers: 2 }, {
        phase: "Running",
        containerStatuses: [status({ ready: true, restartCount: 3, state: { terminated: { exitCode: 0, reason: "Completed" } } }), status({ ready: true, restartCount: 3, state: running })],
      }),
      ["test6", "1/2", "NotReady", "6", "<unknown>"],
    ],
    [
      "shows Running for the same pod with the Ready condition",
      pod("test6", { containers: 2 }, {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True" }],
        containerStatuses: [status({ ready: true, restartCount: 3, state: { terminated: { exitCode: 0, reason: "Completed" } } }), status({ ready: true, restartCount: 3, state: running })],
      }),
      ["test6", "1/2", "Running", "6", "<unknown>"],
    ],
    [
      "shows Init:0/1 and the restart age while the init container restarts",
      pod("test7", { containers: 1, init: 1 }, {
        phase: "Pending",
        initContainerStatuses: [status({ restartCount: 3, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(10) } } })],
        containerStatuses: [status({ state: { waiting: {} } })],
      }),
      ["test7", "0/1", "Init:0/1", "3 (10s ago)", "<unknown>"],
    ],
    [
      "counts completed init containers in Init:1/2 and adds their restarts",
      pod("test10", { containers: 1, init: 2 }, {
        phase: "Pending",
        initContainerStatuses: [
          status({ restartCount: 2, state: { terminated: { exitCode: 0 } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(120) } } }),
          status({ restartCount: 3, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(10) } } }),
        ],
        containerStatuses: [status({ state: { waiting: {} } })],
      }),
      ["test10", "0/1", "Init:1/2", "5 (10s ago)", "<unknown>"],
    ],
    [
      "ignores init restarts once the containers run",
      pod("test11", { containers: 1, init: 1 }, {
        phase: "Running",
        initContainerStatuses: [status({ restartCount: 2, state: { terminated: { exitCode: 0 } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(120) } } })],
        containerStatuses: [status({ restartCount: 4, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(20) } } })],
      }),
      ["test11", "0/1", "Running", "4 (20s ago)", "<unknown>"],
    ],
    [
      "shows the most recent restart among containers",
      pod("test14", { containers: 2 }, {
        phase: "Running",
        containerStatuses: [
          status({ ready: true, restartCount: 6, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * day) } } }),
          status({ ready: true, restartCount: 3, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(20 * day) } } }),
        ],
      }),
      ["test14", "2/2", "Running", "9 (5d ago)", "<unknown>"],
    ],
    [
      "shows SchedulingGated from the PodScheduled condition",
      pod("test15", { containers: 2 }, { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }] }),
      ["test15", "0/2", "SchedulingGated", "0", "<unknown>"],
    ],
    [
      "keeps Completed for a succeeded pod being deleted",
      pod("test18", { containers: 1 }, { phase: "Succeeded", containerStatuses: [status({ state: { terminated: { exitCode: 0, reason: "Completed" } } })] }, true),
      ["test18", "0/1", "Completed", "0", "<unknown>"],
    ],
    [
      "shows Terminating for a running pod being deleted",
      pod("test19", { containers: 1 }, { phase: "Running", containerStatuses: [status({ state: running })] }, true),
      ["test19", "0/1", "Terminating", "0", "<unknown>"],
    ],
    ["shows Terminating for a pending pod being deleted", pod("test20", { containers: 1 }, { phase: "Pending" }, true), ["test20", "0/1", "Terminating", "0", "<unknown>"]],
  ];

  test.each(cases)("%s", (_name, input, expected) => {
    expect(narrow(podRow(input, nowMs))).toEqual(expected);
  });
});

describe("pod rows with sidecars (upstream's TestPrintPodWithRestartableInitContainer)", () => {
  const sidecarSpec = { containers: 1, sidecars: ["s1", "s2"] };

  test("a sidecar not yet started holds initialisation at Init:0/2", () => {
    const input = pod("test1", sidecarSpec, {
      phase: "Pending",
      conditions: [{ type: "Initialized", status: "False" }],
      initContainerStatuses: [
        status({ name: "s1", restartCount: 3, state: running, started: false, lastState: { terminated: { exitCode: 1, finishedAt: ago(10) } } }),
        status({ name: "s2", state: { waiting: {} }, started: false }),
      ],
      containerStatuses: [status({ state: { waiting: {} } })],
    });
    expect(narrow(podRow(input, nowMs))).toEqual(["test1", "0/3", "Init:0/2", "3 (10s ago)", "<unknown>"]);
  });

  test("started sidecars count as containers and their restarts stay counted", () => {
    const input = pod("test2", sidecarSpec, {
      phase: "Running",
      conditions: [{ type: "Initialized", status: "True" }],
      initContainerStatuses: [
        status({ name: "s1", restartCount: 3, state: running, started: true, lastState: { terminated: { exitCode: 1, finishedAt: ago(10) } } }),
        status({ name: "s2", state: running, started: true }),
      ],
      containerStatuses: [status({ ready: true, restartCount: 4, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(20) } } })],
    });
    expect(narrow(podRow(input, nowMs))).toEqual(["test2", "1/3", "Running", "7 (10s ago)", "<unknown>"]);
  });

  test("statuses of unknown containers do not break the count", () => {
    const input: Pod = {
      metadata: { name: "test4" },
      spec: { initContainers: [{ name: "init1" }, { name: "sidecar1", restartPolicy: "Always" }], containers: [{ name: "container1" }] },
      status: { phase: "Running", initContainerStatuses: [status({ name: "initinvalid" }), status({ name: "init1" })], containerStatuses: [status({ name: "x" })] },
    };
    expect(narrow(podRow(input, nowMs))).toEqual(["test4", "0/2", "Init:0/2", "0", "<unknown>"]);
  });
});

describe("pod rows: init failures, exit codes and wide columns", () => {
  test("names failed init containers by reason, signal or exit code", () => {
    const failing = (terminated: { exitCode: number; reason?: string; signal?: number }) =>
      podRow(pod("p", { containers: 1, init: 1 }, { phase: "Pending", initContainerStatuses: [status({ state: { terminated } })] }), nowMs).cells[2];
    expect([failing({ exitCode: 1, reason: "Error" }), failing({ exitCode: 137, signal: 9 }), failing({ exitCode: 2 })]).toEqual(["Init:Error", "Init:Signal:9", "Init:ExitCode:2"]);
    const waiting = podRow(pod("p", { containers: 1, init: 1 }, { phase: "Pending", initContainerStatuses: [status({ state: { waiting: { reason: "CrashLoopBackOff" } } })] }), nowMs);
    expect(waiting.cells[2]).toBe("Init:CrashLoopBackOff");
  });

  test("shows ContainerCreating and CrashLoopBackOff from waiting containers and Unknown for lost nodes", () => {
    const waiting = (reason: string) => podRow(pod("p", { containers: 1 }, { phase: "Pending", containerStatuses: [status({ state: { waiting: { reason } } })] }), nowMs).cells[2];
    expect([waiting("ContainerCreating"), waiting("CrashLoopBackOff")]).toEqual(["ContainerCreating", "CrashLoopBackOff"]);
    const lost = pod("p", { containers: 1 }, { phase: "Running", reason: "NodeLost" }, true);
    expect(podRow(lost, nowMs).cells[2]).toBe("Unknown");
  });

  test("fills the wide columns: first IP, node, nominated node and readiness gates", () => {
    const input: Pod = {
      metadata: { name: "test1", creationTimestamp: ago(190) },
      spec: { containers: containers(2), nodeName: "test1", readinessGates: [{ conditionType: "condition1" }, { conditionType: "condition2" }, { conditionType: "condition3" }] },
      status: {
        phase: "Running",
        podIPs: [{ ip: "1.1.1.1" }, { ip: "2001:db8::" }],
        nominatedNodeName: "node1",
        conditions: [
          { type: "condition1", status: "False" },
          { type: "condition2", status: "True" },
        ],
        containerStatuses: [status({ ready: true, restartCount: 3, state: running }), status({ restartCount: 3 })],
      },
    };
    expect(podRow(input, nowMs).cells).toEqual(["test1", "1/2", "Running", "6", "3m10s", "1.1.1.1", "test1", "node1", "1/3"]);
    expect(podRow(pod("test2", { containers: 1 }, {}), nowMs).cells.slice(5)).toEqual(["<none>", "<none>", "<none>", "<none>"]);
  });

  test("marks finished pods with a Completed row condition", () => {
    expect(podRow(pod("s", { containers: 1 }, { phase: "Succeeded" }), nowMs).conditions).toEqual([
      { type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." },
    ]);
    expect(podRow(pod("f", { containers: 1 }, { phase: "Failed" }), nowMs).conditions?.[0]?.reason).toBe("Failed");
    expect(podRow(pod("r", { containers: 1 }, { phase: "Running" }), nowMs).conditions).toBeUndefined();
  });
});
