/** The table of `flotilla` subcommands. Services add themselves here as they land. */

export interface CommandModule {
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  main(args: readonly string[]): Promise<number>;
}

export interface CommandSpec {
  readonly summary: string;
  readonly load: () => Promise<CommandModule>;
}

export const commands: Readonly<Record<string, CommandSpec>> = {
  store: {
    summary: "run one member of the Raft-replicated store (etcd v3 API, etcd's flags)",
    load: async () => import("../store/main.ts"),
  },
  server: {
    summary: "run one control-plane replica: a store member and the API server (--cluster-init for the first)",
    load: async () => import("../apiserver/replica-main.ts"),
  },
  apiserver: {
    summary: "run the Kubernetes-compatible API server against a store (etcd v3 endpoints)",
    load: async () => import("../apiserver/main.ts"),
  },
  snapshot: {
    summary: "save a store member's snapshot, or restore one into a new member's data directory",
    load: async () => import("../store/snapshot-command.ts"),
  },
  version: {
    summary: "print the Flotilla version",
    load: async () => import("./version.ts"),
  },
};
