/**
 * services/controllers: the reconcilers `flotilla server` runs under its controller lease (see
 * README.md for what each does and does not do yet). The manager (manager.ts) runs them.
 */
import type { Controller } from "../../libs/client/types.ts";
import { CronJobController } from "./cronjob/controller.ts";
import { DaemonSetController } from "./daemonset/controller.ts";
import { DeploymentController } from "./deployment/controller.ts";
import { DisruptionController } from "./disruption/controller.ts";
import { EndpointsController } from "./endpoints/controller.ts";
import { EphemeralVolumeController } from "./ephemeral/controller.ts";
import { GarbageCollector } from "./garbagecollector/controller.ts";
import { HorizontalPodAutoscalerController } from "./hpa/controller.ts";
import { JobController } from "./job/controller.ts";
import { NamespaceController } from "./namespace/controller.ts";
import { LocalPathProvisioner } from "./localpath/controller.ts";
import { NodeLifecycleController } from "./nodelifecycle/controller.ts";
import type { NodeLifecycleOptions } from "./nodelifecycle/controller.ts";
import { ReplicaSetController } from "./replicaset/controller.ts";
import { replicationControllerKind } from "./replicaset/kinds.ts";
import { ServiceAccountController } from "./serviceaccount/controller.ts";
import { StatefulSetController } from "./statefulset/controller.ts";
import { NodeIpamController } from "../network/node-ipam-controller.ts";
import { ServiceLbController } from "../network/servicelb-controller.ts";
import { IngressStatusController } from "../ingress/status-controller.ts";

export { CronJobController } from "./cronjob/controller.ts";
export { DaemonSetController } from "./daemonset/controller.ts";
export { DeploymentController } from "./deployment/controller.ts";
export { DisruptionController } from "./disruption/controller.ts";
export { EndpointsController } from "./endpoints/controller.ts";
export { EphemeralVolumeController } from "./ephemeral/controller.ts";
export { GarbageCollector } from "./garbagecollector/controller.ts";
export { HorizontalPodAutoscalerController } from "./hpa/controller.ts";
export type { HpaControllerOptions } from "./hpa/controller.ts";
export { JobController } from "./job/controller.ts";
export { LocalPathProvisioner } from "./localpath/controller.ts";
export { NamespaceController } from "./namespace/controller.ts";
export { defaultTolerationSecondsDefault, NodeLifecycleController, nodeMonitorGracePeriodMsDefault, nodeMonitorPeriodMsDefault } from "./nodelifecycle/controller.ts";
export type { NodeLifecycleOptions } from "./nodelifecycle/controller.ts";
export { ReplicaSetController } from "./replicaset/controller.ts";
export type { ReplicaSetControllerOptions } from "./replicaset/controller.ts";
export { ServiceAccountController } from "./serviceaccount/controller.ts";
export { StatefulSetController } from "./statefulset/controller.ts";

export interface ControllersOptions {
  /** Pods a ReplicaSet creates or deletes per reconcile at most (upstream's burstReplicas, 500). */
  readonly burstReplicas?: number;
  /** A node silent this long is NotReady (--node-monitor-grace-period, 40 s). */
  readonly nodeMonitorGracePeriodMs?: number;
  /** How often silent nodes are looked at (--node-monitor-period, 5 s). */
  readonly nodeMonitorPeriodMs?: number;
  /** Eviction delay for pods without their own not-ready/unreachable toleration (300 s). */
  readonly defaultTolerationSeconds?: number;
  /** The pod network a /24 per node is cut from (--cluster-cidr, 10.244.0.0/16). */
  readonly clusterCidr?: string;
}

/** Upstream's default --node-cidr-mask-size for IPv4. */
const nodeCidrMaskBits = 24;

function nodeLifecycleOptions(options: ControllersOptions): NodeLifecycleOptions {
  const picked: NodeLifecycleOptions = {};
  if (options.nodeMonitorGracePeriodMs !== undefined) picked.nodeMonitorGracePeriodMs = options.nodeMonitorGracePeriodMs;
  if (options.nodeMonitorPeriodMs !== undefined) picked.nodeMonitorPeriodMs = options.nodeMonitorPeriodMs;
  if (options.defaultTolerationSeconds !== undefined) picked.defaultTolerationSeconds = options.defaultTolerationSeconds;
  return picked;
}

/** One instance of every controller, configured from the server's flags. */
export function allControllers(options: ControllersOptions = {}): Controller[] {
  return [
    new ReplicaSetController(options.burstReplicas === undefined ? {} : { burstReplicas: options.burstReplicas }),
    new ReplicaSetController({ ...(options.burstReplicas === undefined ? {} : { burstReplicas: options.burstReplicas }), kind: replicationControllerKind }),
    new DeploymentController(),
    new GarbageCollector(),
    new NodeLifecycleController(nodeLifecycleOptions(options)),
    new JobController(),
    new StatefulSetController(),
    new CronJobController(),
    new ServiceAccountController(),
    new EndpointsController(),
    new DaemonSetController(),
    new NodeIpamController({ clusterCidr: options.clusterCidr ?? "10.244.0.0/16", nodeMaskBits: nodeCidrMaskBits }),
    new IngressStatusController(),
    new ServiceLbController(),
    new NamespaceController(),
    new EphemeralVolumeController(),
    new LocalPathProvisioner(),
    new HorizontalPodAutoscalerController(),
    new DisruptionController(),
  ];
}
