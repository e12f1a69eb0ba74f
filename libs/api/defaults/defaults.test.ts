import { describe, expect, test } from "vitest";
import type { Namespace, Secret, Service } from "../types/core.ts";
import type { HorizontalPodAutoscaler } from "../types/cluster.ts";
import type { Pod } from "../types/pod.ts";
import type { CronJob, DaemonSet, Deployment, Job, StatefulSet } from "../types/workloads.ts";
import { defaultObject } from "./default-object.ts";
import { imagePullPolicyFor } from "./pod.ts";

function minimalDeployment(): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] } },
    },
  };
}

describe("defaultObject()", () => {
  test("a minimal Deployment gets the spec `kubectl get -o yaml` shows", () => {
    const defaulted = defaultObject(minimalDeployment());
    expect(defaulted.spec).toEqual({
      progressDeadlineSeconds: 600,
      replicas: 1,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: "web" } },
      strategy: { rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" }, type: "RollingUpdate" },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              image: "nginx:1.27",
              imagePullPolicy: "IfNotPresent",
              name: "nginx",
              ports: [{ containerPort: 80, protocol: "TCP" }],
              terminationMessagePath: "/dev/termination-log",
              terminationMessagePolicy: "File",
            },
          ],
          dnsPolicy: "ClusterFirst",
          restartPolicy: "Always",
          schedulerName: "default-scheduler",
          securityContext: {},
          terminationGracePeriodSeconds: 30,
        },
      },
    });
  });

  test("defaulting leaves its argument untouched and is idempotent", () => {
    const original = minimalDeployment();
    const before = JSON.stringify(original);
    const once = defaultObject(original);
    expect(JSON.stringify(original)).toBe(before);
    expect(defaultObject(once)).toEqual(once);
  });

  test("a Pod gets enableServiceLinks, requests from limits, probe and volume defaults", () => {
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: {
        volumes: [{ name: "scratch" }, { name: "conf", configMap: { name: "c" } }, { name: "s", secret: { secretName: "s" } }],
        containers: [
          {
            name: "app",
            image: "app",
            resources: { limits: { cpu: "500m" } },
            livenessProbe: { httpGet: { port: 8080 } },
          },
        ],
      },
    };
    const spec = defaultObject(pod).spec;
    expect(spec?.enableServiceLinks).toBe(true);
    expect(spec?.volumes).toEqual([
      { name: "scratch", emptyDir: {} },
      { name: "conf", configMap: { name: "c", defaultMode: 420 } },
      { name: "s", secret: { secretName: "s", defaultMode: 420 } },
    ]);
    const container = spec?.containers[0];
    expect(container?.imagePullPolicy).toBe("Always");
    expect(container?.resources?.requests).toEqual({ cpu: "500m" });
    expect(container?.livenessProbe).toEqual({
      httpGet: { port: 8080, path: "/", scheme: "HTTP" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });

  test("a template inside a Deployment gets no enableServiceLinks, as upstream", () => {
    expect(defaultObject(minimalDeployment()).spec?.template.spec?.enableServiceLinks).toBeUndefined();
  });

  test.each([
    ["nginx", "Always"],
    ["nginx:latest", "Always"],
    ["nginx:1.27", "IfNotPresent"],
    ["registry.local:5000/nginx", "Always"],
    ["registry.local:5000/nginx:1", "IfNotPresent"],
    ["nginx@sha256:abcd", "IfNotPresent"],
  ])("image %s pulls %s", (image, policy) => {
    expect(imagePullPolicyFor(image)).toBe(policy);
  });

  test("a Service gets ClusterIP, None affinity, TCP, targetPort = port and single-stack IPv4", () => {
    const service: Service = { apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } };
    expect(defaultObject(service).spec).toEqual({
      selector: { app: "web" },
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
      type: "ClusterIP",
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
    });
  });

  test("a NodePort Service gets externalTrafficPolicy Cluster; an ExternalName one no traffic policies", () => {
    const nodePort: Service = { apiVersion: "v1", kind: "Service", metadata: { name: "a" }, spec: { type: "NodePort", ports: [{ port: 80 }] } };
    expect(defaultObject(nodePort).spec?.externalTrafficPolicy).toBe("Cluster");
    const external: Service = { apiVersion: "v1", kind: "Service", metadata: { name: "b" }, spec: { type: "ExternalName", externalName: "example.com" } };
    const spec = defaultObject(external).spec;
    expect(spec?.internalTrafficPolicy).toBeUndefined();
    expect(spec?.ipFamilies).toBeUndefined();
  });

  test("a StatefulSet gets OrderedReady, partition 0, Retain/Retain and typed claim templates", () => {
    const statefulSet: StatefulSet = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db" },
      spec: {
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "db", image: "db:1" }] } },
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    };
    const spec = defaultObject(statefulSet).spec;
    expect(spec?.podManagementPolicy).toBe("OrderedReady");
    expect(spec?.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { partition: 0 } });
    expect(spec?.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(spec?.replicas).toBe(1);
    expect(spec?.revisionHistoryLimit).toBe(10);
    expect(spec?.volumeClaimTemplates?.[0]?.apiVersion).toBe("v1");
    expect(spec?.volumeClaimTemplates?.[0]?.kind).toBe("PersistentVolumeClaim");
    expect(spec?.volumeClaimTemplates?.[0]?.spec?.volumeMode).toBe("Filesystem");
  });

  test("a DaemonSet rolls with maxUnavailable 1 and maxSurge 0", () => {
    const daemonSet: DaemonSet = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent" },
      spec: { selector: { matchLabels: { app: "a" } }, template: { metadata: { labels: { app: "a" } }, spec: { containers: [{ name: "a", image: "a:1" }] } } },
    };
    expect(defaultObject(daemonSet).spec?.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  });

  test("a Job gets completions, parallelism, backoffLimit, NonIndexed, suspend false and its template's labels", () => {
    const job: Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "pi" },
      spec: { template: { metadata: { labels: { run: "pi" } }, spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl:5" }] } } },
    };
    const defaulted = defaultObject(job);
    expect(defaulted.metadata.labels).toEqual({ run: "pi" });
    expect(defaulted.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: "NonIndexed", suspend: false, podReplacementPolicy: "TerminatingOrFailed" });
    expect(defaulted.spec?.template.spec?.restartPolicy).toBe("Never");
  });

  test("a Job with only parallelism keeps completions unset", () => {
    const job: Job = { apiVersion: "batch/v1", kind: "Job", metadata: { name: "w" }, spec: { parallelism: 3, template: { spec: { containers: [] } } } };
    const spec = defaultObject(job).spec;
    expect(spec?.completions).toBeUndefined();
    expect(spec?.parallelism).toBe(3);
  });

  test("a CronJob gets Allow, suspend false and history limits 3/1; its job template only pod defaults", () => {
    const cronJob: CronJob = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "c" },
      spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "busybox" }] } } } } },
    };
    const spec = defaultObject(cronJob).spec;
    expect(spec).toMatchObject({ concurrencyPolicy: "Allow", suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(spec?.jobTemplate.spec?.backoffLimit).toBeUndefined();
    expect(spec?.jobTemplate.spec?.template.spec?.dnsPolicy).toBe("ClusterFirst");
  });

  test("a Secret is Opaque and a Namespace is Active with its name label", () => {
    const secret: Secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" } };
    expect(defaultObject(secret).type).toBe("Opaque");
    const namespace: Namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } };
    const defaulted = defaultObject(namespace);
    expect(defaulted.metadata.labels).toEqual({ "kubernetes.io/metadata.name": "team-a" });
    expect(defaulted.status?.phase).toBe("Active");
  });

  test("an autoscaling/v2 HPA gets minReplicas 1, 80% CPU and filled behavior", () => {
    const autoscaler: HorizontalPodAutoscaler = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "h" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "web", apiVersion: "apps/v1" }, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } },
    };
    const spec = defaultObject(autoscaler).spec;
    expect(spec?.minReplicas).toBe(1);
    expect(spec?.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }]);
    expect(spec?.behavior?.scaleDown).toEqual({ stabilizationWindowSeconds: 60, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] });
    expect(spec?.behavior?.scaleUp?.stabilizationWindowSeconds).toBe(0);
    expect(spec?.behavior?.scaleUp?.policies).toHaveLength(2);
  });

  test("an unknown kind comes back as an equal copy", () => {
    const object = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec: { size: 3 } };
    const defaulted = defaultObject(object);
    expect(defaulted).toEqual(object);
    expect(defaulted).not.toBe(object);
  });
});
