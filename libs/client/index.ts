/**
 * libs/client: a client of Flotilla's (and Kubernetes') REST API shared by the controllers, the
 * scheduler, the agent and the CLI: an HTTPS ApiClient, list+watch informers with indexes, a
 * deduplicating rate-limited work queue, an Event recorder with deduplication, and leader
 * election on a Lease. The contract is types.ts; unit tests of reconcilers use fake.ts.
 */
export type {
  ApiClient,
  Controller,
  ControllerContext,
  EventRecorder,
  Informer,
  InformerFactory,
  InformerHandlers,
  ListOptions,
  PatchType,
  Resource,
  WatchOptions,
  WorkQueue,
  WriteOptions,
} from "./types.ts";
export type { FailedAttempt, HttpClientOptions } from "./http-client.ts";
export {
  ApiUnavailableError,
  attemptTimeoutMsDefault,
  connectRetryDelayMs,
  connectRoundsMax,
  HttpApiClient,
  optionsFromKubeconfig,
  requestTimeoutMsDefault,
  resourcePath,
  responseBytesMax,
  socketsPerServerMax,
  watchLineBytesMax,
  watchSocketsPerServerMax,
} from "./http-client.ts";
export type { InformerOptions } from "./informer.ts";
export {
  listPageItems,
  listPagesMax,
  objectKey,
  retryBackoffInitialMs,
  retryBackoffMaxMs,
  SharedInformer,
  SharedInformerFactory,
  watchTimeoutSeconds,
} from "./informer.ts";
export type { QueueClock, WorkQueueOptions } from "./workqueue.ts";
export { backoffBaseMs, backoffDelayMs, backoffMaxMs, bucketBurst, bucketRatePerSecond, RateLimitingQueue, systemClock, TokenBucket } from "./workqueue.ts";
export type { EventRecorderOptions } from "./event-recorder.ts";
export { ApiEventRecorder, dedupEntriesMax, pendingEventsMax } from "./event-recorder.ts";
export type { LeaderElectionConfig } from "./leader-election.ts";
export { LeaderElector, leaseDurationMsDefault, renewDeadlineMsDefault, retryJitterFactor, retryPeriodMsDefault } from "./leader-election.ts";
export { sleepOrAbort } from "./sleep.ts";
