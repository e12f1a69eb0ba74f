/**
 * The resources the controllers read and write, looked up once in libs/api's registry (a missing
 * one is a bug in the registry table, so it crashes at import).
 */
import { defined } from "../../../libs/assert/index.ts";
import { findResource } from "../../../libs/api/index.ts";
import type { ResourceInfo } from "../../../libs/api/index.ts";

function resource(group: string, version: string, plural: string): ResourceInfo {
  return defined(findResource(group, version, plural), `registry serves ${group}/${version}/${plural}`);
}

export const podsResource = resource("", "v1", "pods");
export const nodesResource = resource("", "v1", "nodes");
export const namespacesResource = resource("", "v1", "namespaces");
export const servicesResource = resource("", "v1", "services");
export const endpointsResource = resource("", "v1", "endpoints");
export const serviceAccountsResource = resource("", "v1", "serviceaccounts");
export const persistentVolumeClaimsResource = resource("", "v1", "persistentvolumeclaims");
export const persistentVolumesResource = resource("", "v1", "persistentvolumes");
export const replicaSetsResource = resource("apps", "v1", "replicasets");
export const deploymentsResource = resource("apps", "v1", "deployments");
export const statefulSetsResource = resource("apps", "v1", "statefulsets");
export const daemonSetsResource = resource("apps", "v1", "daemonsets");
export const controllerRevisionsResource = resource("apps", "v1", "controllerrevisions");
export const jobsResource = resource("batch", "v1", "jobs");
export const cronJobsResource = resource("batch", "v1", "cronjobs");
export const leasesResource = resource("coordination.k8s.io", "v1", "leases");
export const endpointSlicesResource = resource("discovery.k8s.io", "v1", "endpointslices");
export const storageClassesResource = resource("storage.k8s.io", "v1", "storageclasses");
