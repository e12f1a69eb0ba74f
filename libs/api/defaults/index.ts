/** Upstream-style defaulting of API objects: see README.md for what is defaulted. */
export { defaultObject, hasDefaults } from "./default-object.ts";
export {
  defaultContainer,
  defaultPod,
  defaultPodSpec,
  defaultPodTemplateSpec,
  defaultVolume,
  imagePullPolicyFor,
  schedulerNameDefault,
  terminationGracePeriodSecondsDefault,
  terminationMessagePathDefault,
  volumeFileModeDefault,
} from "./pod.ts";
export {
  backoffLimitDefault,
  defaultCronJob,
  defaultDaemonSet,
  defaultDeployment,
  defaultJob,
  defaultReplicaSet,
  defaultStatefulSet,
  progressDeadlineSecondsDefault,
  revisionHistoryLimitDefault,
} from "./workloads.ts";
export { defaultHorizontalPodAutoscaler, defaultNamespace, defaultSecret, defaultService, namespaceNameLabel } from "./core.ts";
