/** `flotilla server`: one control-plane replica (store member + API server). */
import { runDaemon } from "../cli/daemon.ts";
import { parseReplicaFlags, runReplica } from "./replica.ts";

export async function main(args: readonly string[]): Promise<number> {
  return runDaemon("server", args, parseReplicaFlags, runReplica);
}
