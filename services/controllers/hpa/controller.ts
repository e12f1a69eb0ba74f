/**
 * The HorizontalPodAutoscaler controller (pkg/controller/podautoscaler): every sync period
 * (15 s) each autoscaler reads its target's scale, the PodMetrics of the target's pods from
 * metrics.k8s.io, and proposes a replica count per metric (replicas.ts); the largest proposal is
 * stabilized and rate-limited by the behavior (behavior.ts), clamped to min/max, and written
 * through the target's scale subresource with a SuccessfulRescale event. Status carries
 * currentReplicas, desiredReplicas, currentMetrics, lastScaleTime and the AbleToScale,
 * ScalingActive and ScalingLimited conditions; it is written only when it changed, so a second
 * reconcile of a converged autoscaler writes nothing.
 */
import { deepEqual, formatLabelSelector, formatTime, isStatusError, resourceForObject } from "../../../libs/api/index.ts";
import type { HorizontalPodAutoscaler, KubeObject, LabelSelector, MetricSpec, MetricStatus, Pod, ResourceInfo } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { podsResource } from "../common/resources.ts";
import { downscaleStabilizationSecondsDefault, scaleDownRules, scaleUpRules, ScalingHistory } from "./behavior.ts";
import { cpuInitializationPeriodMsDefault, initialReadinessDelayMsDefault, MetricError, podRequests, resourceReplicas, toleranceDefault, type CalculatorOptions } from "./replicas.ts";
import { autoscalerSpec, formatResourceValue, hpaV1Resource, hpaV2Resource, parseResourceValue, podMetricsResource, podMetricValues, type AutoscalerSpec } from "./spec.ts";
import { setCondition, type HpaCondition } from "./status.ts";

/** upstream's --horizontal-pod-autoscaler-sync-period. */
export const syncPeriodMsDefault = 15_000;

export interface HpaControllerOptions {
  readonly syncPeriodMs?: number;
  readonly downscaleStabilizationSeconds?: number;
  readonly tolerance?: number;
  readonly cpuInitializationPeriodMs?: number;
  readonly initialReadinessDelayMs?: number;
}

interface TargetScale {
  readonly resource: ResourceInfo;
  readonly specReplicas: number;
  readonly selector: string;
}

interface MetricProposal {
  readonly replicas: number;
  readonly status: MetricStatus;
  readonly description: string;
}

interface SyncState {
  readonly hpa: HorizontalPodAutoscaler;
  readonly spec: AutoscalerSpec;
  conditions: HpaCondition[];
  readonly nowMs: number;
}

export class HorizontalPodAutoscalerController implements Controller {
  readonly name = "horizontalpodautoscaler";
  readonly #syncPeriodMs: number;
  readonly #downscaleStabilizationSeconds: number;
  readonly #calculator: CalculatorOptions;
  readonly #history = new ScalingHistory();
  #context: ControllerContext | undefined;
  #autoscalers: Informer<HorizontalPodAutoscaler> | undefined;
  #pods: Informer<Pod> | undefined;

  constructor(options: HpaControllerOptions = {}) {
    this.#syncPeriodMs = options.syncPeriodMs ?? syncPeriodMsDefault;
    this.#downscaleStabilizationSeconds = options.downscaleStabilizationSeconds ?? downscaleStabilizationSecondsDefault;
    this.#calculator = {
      tolerance: options.tolerance ?? toleranceDefault,
      cpuInitializationPeriodMs: options.cpuInitializationPeriodMs ?? cpuInitializationPeriodMsDefault,
      initialReadinessDelayMs: options.initialReadinessDelayMs ?? initialReadinessDelayMsDefault,
    };
  }

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#autoscalers = context.informers.informerFor<HorizontalPodAutoscaler>(hpaV2Resource);
    this.#pods = context.informers.informerFor<Pod>(podsResource);
    const enqueue = (hpa: HorizontalPodAutoscaler): void => context.queue.add(`${hpa.metadata.namespace ?? ""}/${hpa.metadata.name ?? ""}`);
    this.#autoscalers.addHandlers({
      onAdd: enqueue,
      onUpdate: (previous, current) => {
        // Our own status writes come back as updates: only a spec change needs a sync before the period ends.
        if (previous.metadata.generation !== current.metadata.generation) enqueue(current);
      },
      onDelete: (hpa) => this.#history.forget(`${hpa.metadata.namespace ?? ""}/${hpa.metadata.name ?? ""}`),
    });
  }

  async reconcile(key: string): Promise<void> {
    const context = this.#context;
    if (context === undefined || this.#autoscalers === undefined) throw new Error("horizontalpodautoscaler controller used before setup()");
    const hpa = this.#autoscalers.get(key);
    if (hpa === undefined) {
      this.#history.forget(key);
      return;
    }
    try {
      await this.#sync(context, key, hpa);
    } finally {
      // Level-based on a clock: metrics change without any object changing.
      context.queue.addAfter(key, this.#syncPeriodMs);
    }
  }

  async #sync(context: ControllerContext, key: string, hpa: HorizontalPodAutoscaler): Promise<void> {
    const state: SyncState = { hpa, spec: autoscalerSpec(hpa), conditions: [...(hpa.status?.conditions ?? [])], nowMs: context.nowMs() };
    const scale = await this.#readScale(context, state);
    if (scale === undefined) return;
    state.conditions = setCondition(state.conditions, { type: "AbleToScale", status: "True", reason: "SucceededGetScale", message: "the HPA controller was able to get the target's current scale" }, state.nowMs);
    const current = scale.specReplicas;
    this.#history.recordInitial(key, current, state.nowMs);
    const { minReplicas, maxReplicas } = state.spec;
    let desired = current;
    let reason = "";
    let metricStatuses: MetricStatus[] = [];
    if (current === 0 && minReplicas !== 0) {
      state.conditions = setCondition(state.conditions, { type: "ScalingActive", status: "False", reason: "ScalingDisabled", message: "scaling is disabled since the replica count of the target is zero" }, state.nowMs);
    } else if (current > maxReplicas) {
      [desired, reason] = [maxReplicas, "Current number of replicas above Spec.MaxReplicas"];
    } else if (current < minReplicas) {
      [desired, reason] = [minReplicas, "Current number of replicas below Spec.MinReplicas"];
    } else {
      const computed = await this.#computeFromMetrics(context, state, scale);
      metricStatuses = computed.statuses;
      if (computed.replicas === undefined) {
        await this.#writeStatus(context, state, current, hpa.status?.desiredReplicas ?? current, metricStatuses, false);
        throw new Error(`horizontal pod autoscaler ${key}: ${computed.error ?? "no metric could be computed"}`);
      }
      desired = this.#normalize(key, state, current, computed.replicas);
      if (desired > current) reason = `${computed.description} above target`;
      if (desired < current) reason = "All metrics below target";
    }
    const rescale = desired !== current && !(current === 0 && minReplicas !== 0);
    if (rescale && !(await this.#rescale(context, key, state, scale, current, desired, reason))) return;
    await this.#writeStatus(context, state, current, rescale ? desired : current, metricStatuses, rescale);
  }

  #normalize(key: string, state: SyncState, current: number, proposed: number): number {
    const rules = this.#rules(state.spec);
    const normalized = this.#history.normalize({ key, currentReplicas: current, desiredReplicas: proposed, minReplicas: state.spec.minReplicas, maxReplicas: state.spec.maxReplicas, ...rules, nowMs: state.nowMs });
    state.conditions = setCondition(state.conditions, { type: "AbleToScale", status: "True", ...normalized.stabilized }, state.nowMs);
    state.conditions = setCondition(state.conditions, { type: "ScalingLimited", status: normalized.limited.status ? "True" : "False", reason: normalized.limited.reason, message: normalized.limited.message }, state.nowMs);
    return normalized.replicas;
  }

  #rules(spec: AutoscalerSpec): { scaleUp: ReturnType<typeof scaleUpRules>; scaleDown: ReturnType<typeof scaleDownRules> } {
    return { scaleUp: scaleUpRules(spec.scaleUp), scaleDown: scaleDownRules(spec.scaleDown, this.#downscaleStabilizationSeconds) };
  }

  async #readScale(context: ControllerContext, state: SyncState): Promise<TargetScale | undefined> {
    const { spec, hpa } = state;
    const resource = resourceForObject(spec.targetApiVersion, spec.targetKind);
    let failure: string | undefined;
    let target: KubeObject & { spec?: { replicas?: number; selector?: LabelSelector } } = { metadata: {} };
    if (resource === undefined || !resource.subresources.some((subresource) => subresource.name === "scale")) {
      failure = `no scale subresource for ${spec.targetKind} in ${spec.targetApiVersion}`;
    } else {
      try {
        target = await context.client.get(resource, hpa.metadata.namespace, spec.targetName);
      } catch (error) {
        if (!isStatusError(error, "NotFound")) throw error;
        failure = `${resource.resource}.${resource.group} "${spec.targetName}" not found`;
      }
    }
    if (resource === undefined || failure !== undefined) {
      const message = `the HPA controller was unable to get the target's current scale: ${failure ?? ""}`;
      context.events.record(hpa, "Warning", "FailedGetScale", failure ?? "");
      state.conditions = setCondition(state.conditions, { type: "AbleToScale", status: "False", reason: "FailedGetScale", message }, state.nowMs);
      await this.#writeStatus(context, state, hpa.status?.currentReplicas ?? 0, hpa.status?.desiredReplicas ?? 0, hpa.status?.currentMetrics ?? [], false);
      return undefined;
    }
    return { resource, specReplicas: target.spec?.replicas ?? 1, selector: formatLabelSelector(target.spec?.selector) };
  }

  async #computeFromMetrics(
    context: ControllerContext,
    state: SyncState,
    scale: TargetScale,
  ): Promise<{ replicas: number | undefined; statuses: MetricStatus[]; description: string; error?: string }> {
    const statuses: MetricStatus[] = [];
    let best: MetricProposal | undefined;
    let firstError: string | undefined;
    let invalid = 0;
    for (const metric of state.spec.metrics) {
      try {
        const proposal = await this.#proposal(context, state, scale, metric);
        statuses.push(proposal.status);
        if (best === undefined || proposal.replicas > best.replicas) best = proposal;
      } catch (error) {
        if (!(error instanceof MetricError)) throw error;
        invalid++;
        const reason = metric.type === "Resource" ? "FailedGetResourceMetric" : `FailedGet${metric.type}Metric`;
        firstError ??= error.message;
        context.events.record(state.hpa, "Warning", reason, error.message);
        state.conditions = setCondition(state.conditions, { type: "ScalingActive", status: "False", reason, message: `the HPA was unable to compute the replica count: ${error.message}` }, state.nowMs);
        statuses.push({ type: metric.type });
      }
    }
    const total = state.spec.metrics.length;
    // Upstream: with some metrics invalid, never scale down on the valid ones alone.
    if (best === undefined || (invalid > 0 && best.replicas < scale.specReplicas)) {
      const message = `invalid metrics (${invalid} invalid out of ${total}), first error is: ${firstError ?? ""}`;
      context.events.record(state.hpa, "Warning", "FailedComputeMetricsReplicas", message);
      return { replicas: undefined, statuses, description: "", error: message };
    }
    state.conditions = setCondition(
      state.conditions,
      { type: "ScalingActive", status: "True", reason: "ValidMetricFound", message: `the HPA was able to successfully calculate a replica count from ${best.description}` },
      state.nowMs,
    );
    return { replicas: best.replicas, statuses, description: best.description };
  }

  async #proposal(context: ControllerContext, state: SyncState, scale: TargetScale, metric: MetricSpec): Promise<MetricProposal> {
    const source = metric.type === "Resource" ? metric.resource : metric.type === "ContainerResource" ? metric.containerResource : undefined;
    if (source === undefined) throw new MetricError(`${metric.type} metrics need the custom or external metrics API, which Flotilla does not serve`);
    const container = metric.type === "ContainerResource" ? metric.containerResource?.container : undefined;
    const resource = source.name;
    const namespace = state.hpa.metadata.namespace;
    const listed = await context.client.list(podMetricsResource, namespace, { labelSelector: scale.selector });
    const metrics = podMetricValues(listed.items, resource, container);
    if (metrics.size === 0) throw new MetricError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const pods = (this.#pods?.listMatching(namespace, scale.selector) ?? []).filter((pod) => container === undefined || (pod.spec?.containers ?? []).some((entry) => entry.name === container));
    const utilizationTarget = source.target.type === "Utilization" ? (source.target.averageUtilization ?? defaultUtilization(resource)) : undefined;
    const averageTarget = source.target.averageValue === undefined ? undefined : parseResourceValue(resource, source.target.averageValue);
    if (utilizationTarget === undefined && averageTarget === undefined) throw new MetricError(`invalid ${resource} target: Utilization needs averageUtilization, AverageValue needs averageValue`);
    const scoped = container === undefined ? pods : pods.map((pod) => ({ ...pod, spec: { ...pod.spec, containers: (pod.spec?.containers ?? []).filter((entry) => entry.name === container) } }));
    const requests = utilizationTarget === undefined ? new Map<string, number>() : podRequests(scoped, resource, (quantity) => parseResourceValue(resource, quantity));
    const result = resourceReplicas({
      currentReplicas: scale.specReplicas,
      pods,
      metrics,
      requests,
      target: utilizationTarget === undefined ? { resource, averageValue: averageTarget ?? 0 } : { resource, averageUtilization: utilizationTarget },
      nowMs: state.nowMs,
      options: this.#calculator,
    });
    const current = { averageValue: formatResourceValue(resource, result.rawAverage), ...(result.utilization === undefined ? {} : { averageUtilization: result.utilization }) };
    const status: MetricStatus =
      container === undefined ? { type: "Resource", resource: { name: resource, current } } : { type: "ContainerResource", containerResource: { name: resource, container, current } };
    const description = utilizationTarget === undefined ? `${resource} resource` : `${resource} resource utilization (percentage of request)`;
    return { replicas: result.replicas, status, description };
  }

  async #rescale(context: ControllerContext, key: string, state: SyncState, scale: TargetScale, current: number, desired: number, reason: string): Promise<boolean> {
    try {
      await context.client.patch(scale.resource, state.hpa.metadata.namespace, state.spec.targetName, "merge", { spec: { replicas: desired } }, { subresource: "scale" });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      context.events.record(state.hpa, "Warning", "FailedRescale", `New size: ${desired}; reason: ${reason}; error: ${message}`);
      state.conditions = setCondition(state.conditions, { type: "AbleToScale", status: "False", reason: "FailedUpdateScale", message: `the HPA controller was unable to update the target scale: ${message}` }, state.nowMs);
      await this.#writeStatus(context, state, current, state.hpa.status?.desiredReplicas ?? current, state.hpa.status?.currentMetrics ?? [], false);
      throw new Error(`horizontal pod autoscaler ${key}: rescale to ${desired}`, { cause: error });
    }
    state.conditions = setCondition(state.conditions, { type: "AbleToScale", status: "True", reason: "SucceededRescale", message: `the HPA controller was able to update the target scale to ${desired}` }, state.nowMs);
    context.events.record(state.hpa, "Normal", "SuccessfulRescale", `New size: ${desired}; reason: ${reason}`);
    this.#history.recordScale(key, current, desired, this.#rules(state.spec), state.nowMs);
    return true;
  }

  async #writeStatus(context: ControllerContext, state: SyncState, current: number, desired: number, metrics: MetricStatus[], rescaled: boolean): Promise<void> {
    const { hpa } = state;
    const lastScaleTime = rescaled ? formatTime(state.nowMs) : hpa.status?.lastScaleTime;
    const status = state.spec.isV1 ? v1Status(hpa, current, desired, metrics, lastScaleTime) : v2Status(hpa, current, desired, metrics, lastScaleTime, state.conditions);
    if (deepEqual(JSON.parse(JSON.stringify(hpa.status ?? {})) as never, JSON.parse(JSON.stringify(status)) as never)) return;
    const resource = state.spec.isV1 ? hpaV1Resource : hpaV2Resource;
    try {
      await context.client.update(resource, { ...hpa, status } as HorizontalPodAutoscaler, { subresource: "status" });
    } catch (error) {
      // A newer version is on its way to the informer; the next sync writes from it.
      if (isStatusError(error, "Conflict") || isStatusError(error, "NotFound")) return;
      throw error;
    }
  }
}

function defaultUtilization(resource: string): number | undefined {
  return resource === "cpu" ? 80 : undefined;
}

function v2Status(hpa: HorizontalPodAutoscaler, current: number, desired: number, metrics: MetricStatus[], lastScaleTime: string | undefined, conditions: HpaCondition[]): NonNullable<HorizontalPodAutoscaler["status"]> {
  return {
    ...(hpa.metadata.generation === undefined ? {} : { observedGeneration: hpa.metadata.generation }),
    ...(lastScaleTime === undefined ? {} : { lastScaleTime }),
    currentReplicas: current,
    desiredReplicas: desired,
    ...(metrics.length === 0 ? {} : { currentMetrics: metrics }),
    ...(conditions.length === 0 ? {} : { conditions }),
  };
}

/** autoscaling/v1 keeps only the CPU utilization; its conditions have no field of their own. */
function v1Status(hpa: HorizontalPodAutoscaler, current: number, desired: number, metrics: MetricStatus[], lastScaleTime: string | undefined): NonNullable<HorizontalPodAutoscaler["status"]> {
  const cpu = metrics.find((metric) => metric.type === "Resource" && metric.resource?.name === "cpu")?.resource?.current.averageUtilization;
  return {
    ...(hpa.metadata.generation === undefined ? {} : { observedGeneration: hpa.metadata.generation }),
    ...(lastScaleTime === undefined ? {} : { lastScaleTime }),
    currentReplicas: current,
    desiredReplicas: desired,
    ...(cpu === undefined ? {} : { currentCPUUtilizationPercentage: cpu }),
  } as NonNullable<HorizontalPodAutoscaler["status"]>;
}
