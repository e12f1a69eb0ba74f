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
    summary: "run one control-plane replica: a store member, the API server, and the elected controllers and scheduler (--cluster-init for the first)",
    load: async () => import("../apiserver/replica-main.ts"),
  },
  apiserver: {
    summary: "run the Kubernetes-compatible API server against a store (etcd v3 endpoints)",
    load: async () => import("../apiserver/main.ts"),
  },
  agent: {
    summary: "run the node agent on a worker machine: join the cluster, run pods through containerd's CRI",
    load: async () => import("../agent/main.ts"),
  },
  kubeconfig: {
    summary: "print or write (--out F) an admin kubeconfig with a new certificate from the cluster CA in --data-dir",
    load: async () => import("../apiserver/replica-kubeconfig-main.ts"),
  },
  token: {
    summary: "token create: a join token for another server (--kind server) or an agent, stored as a bootstrap token Secret",
    load: async () => import("../apiserver/replica-token-main.ts"),
  },
  snapshot: {
    summary: "save a store member's snapshot, or restore one into a new member's data directory",
    load: async () => import("../store/snapshot-command.ts"),
  },
  members: {
    summary: "members list|add NAME|remove NAME|ID: the control plane's store members (--endpoints, --data-dir)",
    load: async () => import("./members.ts"),
  },
  // kubectl's verbs (services/cli/kubectl): they talk to the API server in the kubeconfig.
  apply: {
    summary: "apply -f: client-side apply (three-way strategic merge) or --server-side",
    load: async () => import("./kubectl/apply.ts"),
  },
  get: {
    summary: "get resources: tables from the server, -o wide|yaml|json|name|jsonpath, -l, -L, -A, -w",
    load: async () => import("./kubectl/get.ts"),
  },
  describe: {
    summary: "describe resources with their events",
    load: async () => import("./kubectl/describe.ts"),
  },
  delete: {
    summary: "delete by name, -f, -l or --all, with --cascade",
    load: async () => import("./kubectl/delete.ts"),
  },
  scale: {
    summary: "set replicas through the scale subresource",
    load: async () => import("./kubectl/scale.ts"),
  },
  top: { summary: "top nodes|pods: CPU and memory usage from metrics.k8s.io", load: async () => import("./kubectl/top.ts") },
  label: {
    summary: "add (--overwrite) or remove (key-) labels",
    load: async () => import("./kubectl/label.ts"),
  },
  annotate: {
    summary: "add (--overwrite) or remove (key-) annotations",
    load: async () => import("./kubectl/annotate.ts"),
  },
  expose: {
    summary: "make a Service for a deployment, replica set, pod or service",
    load: async () => import("./kubectl/expose.ts"),
  },
  create: {
    summary: "create from -f, or a namespace, deployment, service, configmap or secret",
    load: async () => import("./kubectl/create.ts"),
  },
  run: {
    summary: "run a pod from an image",
    load: async () => import("./kubectl/run.ts"),
  },
  logs: {
    summary: "print a pod's (or a workload's pod's) container log: -c, -f, --tail, --since, --timestamps, -p",
    load: async () => import("./kubectl/logs.ts"),
  },
  exec: {
    summary: "run a command in a pod's container over pods/exec: -i, -t, -c, -- COMMAND",
    load: async () => import("./kubectl/exec.ts"),
  },
  "port-forward": {
    summary: "port-forward pod/NAME|deploy/NAME|svc/NAME [LOCAL:]REMOTE...: local ports to a pod over pods/portforward (SPDY)",
    load: async () => import("./kubectl/port-forward.ts"),
  },
  rollout: {
    summary: "rollout status|history|undo|pause|resume|restart",
    load: async () => import("./kubectl/rollout.ts"),
  },
  patch: {
    summary: "patch an object: -p PATCH, --type strategic|merge|json, --patch-file, --subresource",
    load: async () => import("./kubectl/patch.ts"),
  },
  edit: {
    summary: "edit an object in $KUBE_EDITOR or $EDITOR and send the change as a patch",
    load: async () => import("./kubectl/edit.ts"),
  },
  wait: {
    summary: "wait --for=condition=C[=V]|delete|jsonpath={..}=V for objects (-l, --all), --timeout",
    load: async () => import("./kubectl/wait.ts"),
  },
  cordon: {
    summary: "mark nodes unschedulable",
    load: async () => import("./kubectl/cordon.ts"),
  },
  uncordon: {
    summary: "mark nodes schedulable",
    load: async () => import("./kubectl/uncordon.ts"),
  },
  drain: {
    summary: "cordon a node and evict its pods (PodDisruptionBudgets respected): --ignore-daemonsets, --delete-emptydir-data, --force",
    load: async () => import("./kubectl/drain.ts"),
  },
  config: {
    summary: "kubeconfig: set-context --current --namespace, current-context, view",
    load: async () => import("./kubectl/config.ts"),
  },
  "api-resources": {
    summary: "the resources the API server serves",
    load: async () => import("./kubectl/api-resources.ts"),
  },
  version: {
    summary: "print the Flotilla version",
    load: async () => import("./version.ts"),
  },
};
