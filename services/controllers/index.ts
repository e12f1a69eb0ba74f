/**
 * services/controllers: the reconcilers `flotilla server` runs under its controller lease (see
 * README.md for what each does and does not do yet). The manager (manager.ts) runs them.
 */
import type { Controller } from "../../libs/client/types.ts";
import { DeploymentController } from "./deployment/controller.ts";
import { GarbageCollector } from "./garbagecollector/controller.ts";
import { ReplicaSetController } from "./replicaset/controller.ts";

export { DeploymentController } from "./deployment/controller.ts";
export { GarbageCollector } from "./garbagecollector/controller.ts";
export { ReplicaSetController } from "./replicaset/controller.ts";
export type { ReplicaSetControllerOptions } from "./replicaset/controller.ts";

export interface ControllersOptions {
  /** Pods a ReplicaSet creates or deletes per reconcile at most (upstream's burstReplicas, 500). */
  readonly burstReplicas?: number;
}

/** One instance of every controller, configured from the server's flags. */
export function allControllers(options: ControllersOptions = {}): Controller[] {
  return [new ReplicaSetController(options.burstReplicas === undefined ? {} : { burstReplicas: options.burstReplicas }), new DeploymentController(), new GarbageCollector()];
}
