/**
 * The two kinds the ReplicaSet controller keeps: apps/v1 ReplicaSet and core v1
 * ReplicationController. Upstream runs the same controller for both (pkg/controller/replication
 * wraps pkg/controller/replicaset through a conversion); here the controller takes one of these
 * descriptions, which differ only in the resource, the ownerReference and the selector's shape
 * (a LabelSelector, or a plain label map).
 */
import { defined } from "../../../libs/assert/index.ts";
import { findResource, labelSelectorAsSelector, selectorFromSet } from "../../../libs/api/index.ts";
import type { KubeObject, LabelSelector, PodTemplateSpec, ReplicaSetStatus, ResourceInfo, Selector } from "../../../libs/api/index.ts";

/** What the controller reads of a ReplicaSet or a ReplicationController. */
export interface ReplicatedObject extends KubeObject {
  spec?: { replicas?: number; minReadySeconds?: number; selector?: unknown; template?: PodTemplateSpec };
  status?: ReplicaSetStatus;
}

export interface ReplicatedKind {
  /** The controller's name (its work queue and log lines). */
  readonly controllerName: string;
  readonly resource: ResourceInfo;
  /** apiVersion and kind of the controller ownerReference on its pods. */
  readonly apiVersion: string;
  readonly kind: string;
  /** The pod selector, or undefined when it cannot be parsed. */
  selectorOf(object: ReplicatedObject): Selector | undefined;
}

export const replicaSetKind: ReplicatedKind = {
  controllerName: "replicaset",
  resource: defined(findResource("apps", "v1", "replicasets"), "registry serves replicasets"),
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  selectorOf(object) {
    try {
      return labelSelectorAsSelector(object.spec?.selector as LabelSelector | undefined);
    } catch {
      return undefined;
    }
  },
};

export const replicationControllerKind: ReplicatedKind = {
  controllerName: "replicationcontroller",
  resource: defined(findResource("", "v1", "replicationcontrollers"), "registry serves replicationcontrollers"),
  apiVersion: "v1",
  kind: "ReplicationController",
  selectorOf(object) {
    try {
      // An empty map selects nothing here (validation requires one; defaulting fills it).
      const selector = object.spec?.selector as Record<string, string> | undefined;
      return Object.keys(selector ?? {}).length === 0 ? undefined : selectorFromSet(selector);
    } catch {
      return undefined;
    }
  },
};
