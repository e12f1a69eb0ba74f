/** `flotilla apiserver`: the Kubernetes-compatible API server alone, against a store's etcd v3 endpoints. */
import { runDaemon } from "../cli/daemon.ts";
import { parseApiServerFlags } from "./config.ts";
import { run } from "./server.ts";

export async function main(args: readonly string[]): Promise<number> {
  return runDaemon("apiserver", args, parseApiServerFlags, run);
}
