/**
 * The controller manager: runs a list of Controllers (libs/client's contract) as
 * kube-controller-manager does. One shared informer factory, one rate-limited work queue per
 * controller, informers started after every controller registered its handlers, workers started
 * only once every informer has listed, a reconcile that throws requeued with backoff, and a clean
 * stop on abort (queues shut down, in-flight reconciles awaited).
 */
import {
  ApiEventRecorder,
  RateLimitingQueue,
  SharedInformerFactory,
  type ApiClient,
  type Controller,
  type ControllerContext,
  type EventRecorder,
} from "../../libs/client/index.ts";
import type { Logger } from "../../libs/log/index.ts";

/** Workers per controller unless a controller asks otherwise (upstream's --concurrent-*-syncs is 5). */
export const workersPerControllerDefault = 5;
/** A hard bound: more workers than this per controller is a configuration mistake. */
export const workersPerControllerMax = 64;

export interface ControllerManagerOptions {
  readonly client: ApiClient;
  readonly controllers: readonly Controller[];
  readonly workersPerController?: number;
  readonly logger?: Logger;
  readonly nowMs?: () => number;
  /** Events: one recorder per controller named after it, unless a factory is given (tests). */
  readonly eventRecorderFor?: (controllerName: string) => EventRecorder;
  /** Called once every informer has synced and the workers run. */
  readonly onStarted?: () => void;
}

interface Running {
  readonly controller: Controller;
  readonly queue: RateLimitingQueue;
  /** The recorder the manager made (and so stops), if it made one. */
  readonly ownEvents: ApiEventRecorder | undefined;
}

/** Runs the controllers until `signal` aborts; resolves once everything has stopped. */
export async function runControllerManager(options: ControllerManagerOptions, signal: AbortSignal): Promise<void> {
  const workers = options.workersPerController ?? workersPerControllerDefault;
  if (workers < 1 || workers > workersPerControllerMax) throw new Error(`workers per controller must be 1..${workersPerControllerMax}, got ${workers}`);
  const informers = new SharedInformerFactory(options.client, options.logger);
  const running = options.controllers.map((controller) => setUp(controller, informers, options));
  const stopQueues = () => running.forEach(({ queue }) => queue.shutDown());
  signal.addEventListener("abort", stopQueues, { once: true });
  informers.start(signal);
  try {
    await informers.waitForSync(signal);
  } catch (error) {
    if (signal.aborted) {
      await informers.stopped();
      await Promise.all(running.map(async ({ ownEvents }) => ownEvents?.stop()));
      return;
    }
    throw error;
  }
  options.logger?.info({ controllers: running.map(({ controller }) => controller.name) }, "caches synced; starting workers");
  options.onStarted?.();
  const loops = running.flatMap((entry) => Array.from({ length: workers }, async () => worker(entry, options.logger)));
  await Promise.all(loops);
  await informers.stopped();
  await Promise.all(running.map(async ({ ownEvents }) => ownEvents?.stop()));
}

function setUp(controller: Controller, informers: SharedInformerFactory, options: ControllerManagerOptions): Running {
  const queue = new RateLimitingQueue();
  const ownEvents =
    options.eventRecorderFor === undefined
      ? new ApiEventRecorder(options.client, { component: controller.name, ...(options.logger === undefined ? {} : { logger: options.logger }) })
      : undefined;
  const events = options.eventRecorderFor?.(controller.name) ?? (ownEvents as EventRecorder);
  const context: ControllerContext = { client: options.client, informers, queue, events, nowMs: options.nowMs ?? Date.now };
  try {
    controller.setup(context);
  } catch (cause) {
    throw new Error(`set up controller ${controller.name}`, { cause });
  }
  return { controller, queue, ownEvents };
}

/** One worker: take a key, reconcile it, forget its backoff on success or requeue it on failure. */
async function worker({ controller, queue }: Running, logger: Logger | undefined): Promise<void> {
  for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
    try {
      await controller.reconcile(key);
      queue.forget(key);
    } catch (error) {
      logger?.warn({ err: error, controller: controller.name, key, failures: queue.failures(key) + 1 }, "reconcile failed; requeued with backoff");
      queue.requeueWithBackoff(key);
    } finally {
      queue.done(key);
    }
  }
}
