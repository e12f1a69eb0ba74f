import { describe, expect, it } from "vitest";
import type { Pod, Status } from "../../../libs/api/index.ts";
import { findResource } from "../../../libs/api/index.ts";
import { execFlags, execQuery, exitCodeOf } from "./exec.ts";
import { parseArgs } from "./flags.ts";
import { logQuery, logsFlags } from "./logs.ts";
import { containerFor, podFor } from "./pods.ts";
import { testContext } from "./test-support.ts";

const pods = findResource("", "v1", "pods")!;
const deployments = findResource("apps", "v1", "deployments")!;

describe("logs and exec requests", () => {
  it("turns logs flags into pods/log parameters", () => {
    expect(logQuery("web", parseArgs(["-f", "--tail=20", "--since=2m", "--timestamps", "-p"], logsFlags))).toBe("container=web&follow=true&timestamps=true&previous=true&tailLines=20&sinceSeconds=120");
    expect(logQuery("web", parseArgs([], logsFlags))).toBe("container=web");
  });

  it("repeats command parameters for exec, and asks for stderr only without a tty", () => {
    expect(execQuery(["sh", "-c", "echo hi"], "main", true, false)).toBe("command=sh&command=-c&command=echo+hi&container=main&stdout=true&stderr=true&stdin=true");
    expect(execQuery(["sh"], "main", true, true)).toBe("command=sh&container=main&stdout=true&stdin=true&tty=true");
    const combined = parseArgs(["-it", "web", "--", "sh"], execFlags);
    expect([combined.flags.get("stdin"), combined.flags.get("tty"), combined.positionals, combined.trailing]).toEqual([["true"], ["true"], ["web"], ["sh"]]);
    expect(parseArgs(["-ic", "main"], execFlags).flags.get("container")).toEqual(["main"]);
  });

  it("reads the exit code from the channel-3 Status", () => {
    expect(exitCodeOf({ status: "Success" } as Status)).toBe(0);
    expect(exitCodeOf({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "42" }] } } as unknown as Status)).toBe(42);
    expect(exitCodeOf({ status: "Failure", message: "no such container" } as Status)).toBe(1);
  });
});

describe("pod and container choice", () => {
  it("picks a running pod of a deployment and says which, and defaults to the first container with a note", async () => {
    const context = testContext({ namespace: "demo" });
    context.fake.seed(deployments, { metadata: { name: "web", namespace: "demo" }, spec: { selector: { matchLabels: { app: "web" } }, template: {} } } as never);
    const pod = (name: string, phase: string): Pod => ({
      metadata: { name, namespace: "demo", labels: { app: "web" } },
      spec: { containers: [{ name: "app", image: "x" }, { name: "sidecar", image: "y" }] },
      status: { phase: phase as "Running" | "Pending" },
    });
    context.fake.seed(pods, pod("web-a", "Pending"));
    context.fake.seed(pods, pod("web-b", "Running"));
    const chosen = await podFor(context, "deploy/web");
    expect(chosen.metadata.name).toBe("web-b");
    expect(containerFor(context, chosen, undefined)).toBe("app");
    expect(context.err()).toBe('Found 2 pods, using pod/web-b\nDefaulted container "app" out of: app, sidecar\n');
    expect(containerFor(context, chosen, "sidecar")).toBe("sidecar");
  });
});
