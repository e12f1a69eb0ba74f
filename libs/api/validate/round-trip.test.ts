import { describe, expect, test } from "vitest";
import { defaultObject } from "../defaults/index.ts";
import { errorString } from "../field-errors.ts";
import { newInvalid } from "../status-errors.ts";
import type { KubeObject } from "../types/meta.ts";
import { validateObject } from "./validate-object.ts";

const podSpec = { containers: [{ name: "app", image: "app:1", ports: [{ containerPort: 8080, name: "http" }], readinessProbe: { httpGet: { port: "http" } } }] };
const template = { metadata: { labels: { app: "a" } }, spec: podSpec };

// One small object per kind, as people write them; defaulted, each must validate clean.
const samples: KubeObject[] = [
  { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec: { ...podSpec, hostNetwork: true } } as KubeObject,
  { apiVersion: "v1", kind: "Service", metadata: { name: "s", namespace: "default" }, spec: { selector: { app: "a" }, ports: [{ port: 80, targetPort: "http" }] } } as KubeObject,
  { apiVersion: "v1", kind: "Service", metadata: { name: "h", namespace: "default" }, spec: { clusterIP: "None", selector: { app: "a" } } } as KubeObject,
  { apiVersion: "v1", kind: "Service", metadata: { name: "lb", namespace: "default" }, spec: { type: "LoadBalancer", ports: [{ port: 443, nodePort: 30443 }], sessionAffinity: "ClientIP" } } as KubeObject,
  { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "default" }, stringData: { password: "x" } } as KubeObject,
  { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" }, data: { "app.conf": "x=1" } } as KubeObject,
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } },
  { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "d", namespace: "default" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } as KubeObject,
  { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "default" }, spec: { selector: { matchLabels: { app: "a" } }, template } } as KubeObject,
  { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "r", namespace: "default" }, spec: { selector: { matchLabels: { app: "a" } }, template } } as KubeObject,
  { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s", namespace: "default" }, spec: { serviceName: "s", selector: { matchLabels: { app: "a" } }, template } } as KubeObject,
  { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "ds", namespace: "default" }, spec: { selector: { matchLabels: { app: "a" } }, template } } as KubeObject,
  {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "j", namespace: "default" },
    spec: { template: { spec: { ...podSpec, restartPolicy: "OnFailure" } } },
  } as KubeObject,
  {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "cj", namespace: "default" },
    spec: { schedule: "0 */6 * * *", timeZone: "Etc/UTC", jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: "Never" } } } } },
  } as KubeObject,
  {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "h", namespace: "default" },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "d" }, maxReplicas: 4, behavior: {} },
  } as KubeObject,
  {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "i", namespace: "default" },
    spec: { rules: [{ host: "app.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "s", port: { name: "http" } } } }] } }] },
  } as KubeObject,
];

describe("defaulted objects validate clean", () => {
  test.each(samples.map((sample) => [`${sample.kind}/${sample.metadata.name}`, sample] as const))("%s", (_name, sample) => {
    expect(validateObject(defaultObject(sample)).map(errorString)).toEqual([]);
  });
});

describe("errors become upstream's 422 Status", () => {
  test("the selector mismatch cause carries the Go map text", () => {
    const deployment = structuredClone(samples[8]) as KubeObject & { spec: { selector: { matchLabels: Record<string, string> } } };
    deployment.spec.selector.matchLabels = { app: "b" };
    const errors = validateObject(defaultObject(deployment));
    const status = newInvalid({ group: "apps", kind: "Deployment" }, "d", errors).status;
    expect(status.message).toBe('Deployment.apps "d" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"a"}: `selector` does not match template `labels`');
    expect(status.details?.causes).toEqual([
      { reason: "FieldValueInvalid", message: 'Invalid value: map[string]string{"app":"a"}: `selector` does not match template `labels`', field: "spec.template.metadata.labels" },
    ]);
  });
});
