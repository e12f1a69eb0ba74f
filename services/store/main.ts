/** `flotilla store`: one member of Flotilla's Raft-replicated store, with etcd's flags. */
import { runDaemon } from "../cli/daemon.ts";
import { parseStoreFlags } from "./config.ts";
import { runStore } from "./server.ts";

export async function main(args: readonly string[]): Promise<number> {
  return runDaemon("store", args, parseStoreFlags, runStore);
}
