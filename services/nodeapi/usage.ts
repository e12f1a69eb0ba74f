/**
 * ReportUsage: a node's CPU and memory usage (its own and its pods'), kept as the latest sample
 * per node in the store (services/apiserver/metrics/samples.ts) for metrics.k8s.io. The node's
 * name comes from its certificate; pods are not checked against their binding here (a node can
 * only misreport usage, and metrics.k8s.io serves pods that exist).
 */
import { parseUsageSample, type UsageStore } from "../apiserver/metrics/samples.ts";
import { invalidArgument } from "./errors.ts";

export async function reportUsage(store: UsageStore, nodeName: string, json: unknown): Promise<void> {
  let sample;
  try {
    sample = parseUsageSample(json, nodeName);
  } catch (error) {
    throw invalidArgument(`usage sample: ${error instanceof Error ? error.message : String(error)}`);
  }
  await store.write(sample);
}
