/** postStart and preStop hooks: exec in the container, httpGet or tcpSocket to the pod, or sleep. */
import { setTimeout as sleep } from "node:timers/promises";
import type { LifecycleHandler } from "../../../libs/api/index.ts";
import { runProbeAction, type ProbeTarget } from "./probes.ts";

/** Runs the hook within timeoutSeconds; returns a failure message, or undefined when it succeeded. */
export async function runLifecycleHandler(handler: LifecycleHandler, target: ProbeTarget, timeoutSeconds: number): Promise<string | undefined> {
  if (handler.sleep !== undefined) {
    await sleep(Math.min(handler.sleep.seconds, timeoutSeconds) * 1000);
    return undefined;
  }
  const outcome = await runProbeAction({ ...handler, timeoutSeconds }, target);
  return outcome.result === "success" ? undefined : outcome.message;
}
