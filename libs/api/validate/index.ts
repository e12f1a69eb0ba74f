/** Upstream-style validation of API objects: see ../defaults/README.md for what is checked. */
export { hasValidation, validateObject, validateObjectUpdate } from "./validate-object.ts";
export { validateContainer, validateEnv, validateVolumeMounts } from "./container.ts";
export { validatePodSpec, validatePodTemplateSpec, validateVolumes } from "./pod.ts";
export { validateProbe } from "./probe.ts";
export { validateResourceRequirements } from "./resources.ts";
export { nodePortMax, nodePortMin, validateService, validateServiceUpdate } from "./service.ts";
export {
  configDataBytesMax,
  validateConfigMap,
  validateConfigMapUpdate,
  validateNamespace,
  validateNode,
  validatePersistentVolumeClaim,
  validatePersistentVolumeClaimUpdate,
  validateSecret,
  validateSecretUpdate,
} from "./core.ts";
export { validateHorizontalPodAutoscaler, validateIngress, validateLease } from "./cluster.ts";
export {
  cronJobNameBytesMax,
  validateCronJob,
  validateDaemonSet,
  validateDeployment,
  validateDeploymentSpec,
  validateJob,
  validateJobSpec,
  validateReplicaSet,
  validateReplicationController,
  validateStatefulSet,
} from "./workloads.ts";
export { cronFields, isKnownTimeZone, parseCronSchedule } from "./cron.ts";
export type { CronFieldBounds, CronParseResult, CronSchedule } from "./cron.ts";
export { isCIDR, isIP, isIPv4, isIPv6 } from "./ip.ts";
