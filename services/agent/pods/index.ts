/** The agent's pod half: pod workers over a ContainerRuntime, probes, volumes, and the fake runtime. */
export { PodManager, clusterDnsDefault, clusterDomainDefault, resyncIntervalMsDefault, podsPerNodeMax } from "./pod-manager.ts";
export type { PodManagerOptions } from "./pod-manager.ts";
export { PodWorker, formatBackoff, minimumGracePeriodSeconds, defaultGracePeriodSeconds } from "./pod-worker.ts";
export { CrashLoopBackoff, crashLoopInitialDelayMs, crashLoopMaxDelayMs, crashLoopResetAfterMs } from "./backoff.ts";
export { FakeRuntime, fakeStopExitCode, normalizeImage } from "./fake-runtime.ts";
export type { FakeExecHandler, FakeRuntimeOptions } from "./fake-runtime.ts";
export { ContainerConfigError, containerEnvironment, expandVariables, serviceLinkVariables } from "./env.ts";
export type { EnvSources, EnvVarValue } from "./env.ts";
export { ProbeState, ProbeWorker, runProbeAction, probeDefaults } from "./probes.ts";
export type { ProbeKind, ProbeOutcome, ProbeResult, ProbeRunner } from "./probes.ts";
export { VolumeManager, VolumeError, writeAtomicDirectory, containerMounts, volumeFiles } from "./volumes.ts";
export { computePodStatus, podPhase, qosClass, formatTimeMs } from "./status.ts";
export { sandboxConfig, containerConfig, podDnsConfig, labelNode, labelPodUid, labelPodName, labelPodNamespace, labelContainerName } from "./runtime-config.ts";
export { silentLogger } from "./worker-context.ts";
export type { PodLogger } from "./worker-context.ts";
export { serveStream, formatLogs, parseCriLogLine, bridgeWebSocket, streamSubprotocol } from "./streams.ts";
export type { CriLogLine, StreamContext } from "./streams.ts";
