import { describe, expect, test } from "vitest";
import { defaultObject } from "../defaults/index.ts";
import { errorString } from "../field-errors.ts";
import type { CronJob, DaemonSet, Deployment, Job, StatefulSet } from "../types/workloads.ts";
import { validateObject, validateObjectUpdate } from "./validate-object.ts";

function deployment(): Deployment {
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

function messages(object: Deployment | StatefulSet | DaemonSet | Job | CronJob): string[] {
  return validateObject(defaultObject(object)).map(errorString);
}

function firstContainer(object: Deployment) {
  const container = object.spec?.template.spec?.containers[0];
  if (container === undefined) throw new Error("fixture has a container");
  return container;
}

describe("Deployment validation", () => {
  test("a minimal Deployment is valid, raw or defaulted", () => {
    expect(validateObject(deployment())).toEqual([]);
    expect(messages(deployment())).toEqual([]);
  });

  test("a container without an image gives exactly the upstream error", () => {
    const object = deployment();
    delete firstContainer(object).image;
    expect(messages(object)).toEqual(["spec.template.spec.containers[0].image: Required value"]);
  });

  test("a selector that does not select the template labels is reported on the template labels", () => {
    const object = deployment();
    object.spec!.selector = { matchLabels: { app: "api" } };
    object.spec!.template.metadata = { labels: { app: "web", tier: "front" } };
    expect(messages(object)).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web", "tier":"front"}: `selector` does not match template `labels`',
    ]);
  });

  test("a missing and an empty selector are refused", () => {
    const missing = deployment();
    delete (missing.spec as Partial<NonNullable<Deployment["spec"]>>).selector;
    expect(messages(missing)).toEqual([
      "spec.selector: Required value",
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
    const empty = deployment();
    empty.spec!.selector = {};
    expect(messages(empty)).toEqual(["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]);
  });

  test("duplicate container names are reported on the second", () => {
    const object = deployment();
    object.spec!.template.spec!.containers.push({ name: "nginx", image: "nginx:1.27" });
    expect(messages(object)).toEqual(['spec.template.spec.containers[1].name: Duplicate value: "nginx"']);
  });

  test("a bad port number, protocol and port name are each reported", () => {
    const object = deployment();
    firstContainer(object).ports = [{ containerPort: 70000, protocol: "HTTP" as "TCP", name: "Web_Port" }];
    expect(messages(object)).toEqual([
      'spec.template.spec.containers[0].ports[0].name: Invalid value: "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
      'spec.template.spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ]);
  });

  test("duplicate port names in one container are refused", () => {
    const object = deployment();
    firstContainer(object).ports = [{ containerPort: 80, name: "http" }, { containerPort: 81, name: "http" }];
    expect(messages(object)).toEqual(['spec.template.spec.containers[0].ports[1].name: Duplicate value: "http"']);
  });

  test("negative replicas and a restartPolicy other than Always are refused", () => {
    const object = deployment();
    object.spec!.replicas = -1;
    object.spec!.template.spec!.restartPolicy = "Never";
    expect(messages(object)).toEqual([
      "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
  });

  test("maxSurge and maxUnavailable may not both be 0", () => {
    const object = deployment();
    object.spec!.strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: "0%" } };
    expect(messages(object)).toEqual(["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0%: may not be 0 when `maxSurge` is 0"]);
  });

  test("a percent above 100 and a malformed percent are refused", () => {
    const object = deployment();
    object.spec!.strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: "x%", maxUnavailable: "150%" } };
    expect(messages(object)).toEqual([
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: x%: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be greater than 100%",
    ]);
  });

  test("requests above limits name the resource and the limit", () => {
    const object = deployment();
    firstContainer(object).resources = { requests: { cpu: "2" }, limits: { cpu: "500m" } };
    expect(messages(object)).toEqual(['spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 500m']);
  });

  test("a probe needs exactly one handler and non-negative periods", () => {
    const object = deployment();
    firstContainer(object).livenessProbe = { periodSeconds: -5 };
    firstContainer(object).readinessProbe = { exec: { command: ["true"] }, tcpSocket: { port: 80 } };
    expect(messages(object)).toEqual([
      "spec.template.spec.containers[0].livenessProbe: Required value: must specify a handler type",
      "spec.template.spec.containers[0].livenessProbe.periodSeconds: Invalid value: -5: must be greater than or equal to 0",
      "spec.template.spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
    ]);
  });

  test("volume mounts must name a volume and use unique paths", () => {
    const object = deployment();
    object.spec!.template.spec!.volumes = [{ name: "data", emptyDir: {} }];
    firstContainer(object).volumeMounts = [
      { name: "data", mountPath: "/data" },
      { name: "cache", mountPath: "/data" },
    ];
    expect(messages(object)).toEqual([
      'spec.template.spec.containers[0].volumeMounts[1].name: Not found: "cache"',
      'spec.template.spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique',
    ]);
  });

  test("env names may not hold '=' and a valueFrom needs one source", () => {
    const object = deployment();
    firstContainer(object).env = [{ name: "A=B", value: "x" }, { name: "", value: "y" }, { name: "C", valueFrom: {} }];
    expect(messages(object)).toEqual([
      "spec.template.spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
      "spec.template.spec.containers[0].env[1].name: Required value",
      'spec.template.spec.containers[0].env[2].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
    ]);
  });

  test("the selector may not change on update", () => {
    const old = defaultObject(deployment());
    old.metadata.resourceVersion = "5";
    const next = defaultObject(deployment());
    next.metadata.resourceVersion = "5";
    next.spec!.selector = { matchLabels: { app: "web", tier: "x" } };
    next.spec!.template.metadata = { labels: { app: "web", tier: "x" } };
    expect(validateObjectUpdate(next, old).map(errorString)).toEqual(['spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"x"}}: field is immutable']);
  });

  test("a name that is not a DNS subdomain is refused", () => {
    const object = deployment();
    object.metadata.name = "Web";
    expect(messages(object)[0]).toMatch(/^metadata\.name: Invalid value: "Web": a lowercase RFC 1123 subdomain/);
  });
});

describe("StatefulSet, DaemonSet, Job and CronJob validation", () => {
  test("a StatefulSet may change only some spec fields", () => {
    const old: StatefulSet = defaultObject({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "default", resourceVersion: "1" },
      spec: { serviceName: "db", selector: { matchLabels: { app: "db" } }, template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "db", image: "db:1" }] } } },
    });
    const scaled = structuredClone(old);
    scaled.spec!.replicas = 3;
    expect(validateObjectUpdate(scaled, old)).toEqual([]);
    const renamed = structuredClone(old);
    renamed.spec!.serviceName = "other";
    expect(validateObjectUpdate(renamed, old).map(errorString)).toEqual([
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });

  test("a StatefulSet's containers may mount its volumeClaimTemplates by name, and nothing else undeclared", () => {
    const statefulSet = (mount: string): StatefulSet => ({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "default" },
      spec: {
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "db", image: "db:1", volumeMounts: [{ name: mount, mountPath: "/data" }] }] } },
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    });
    expect(messages(statefulSet("data"))).toEqual([]);
    expect(messages(statefulSet("other"))).toEqual(['spec.template.spec.containers[0].volumeMounts[0].name: Not found: "other"']);
  });

  test("a DaemonSet may not surge and be unavailable at once", () => {
    const daemonSet: DaemonSet = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "kube-system" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: { metadata: { labels: { app: "agent" } }, spec: { containers: [{ name: "agent", image: "agent:1" }] } },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } },
      },
    };
    expect(messages(daemonSet)).toEqual(["spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero"]);
  });

  test("a Job template must restart OnFailure or Never", () => {
    const job: Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "pi", namespace: "default" },
      spec: { template: { spec: { containers: [{ name: "pi", image: "perl:5" }] } } },
    };
    expect(messages(job)).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
    job.spec!.template.spec!.restartPolicy = "Never";
    expect(messages(job)).toEqual([]);
  });

  test("a Job's template may not change on update", () => {
    const old: Job = defaultObject({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "pi", namespace: "default", resourceVersion: "1" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl:5" }] } } },
    });
    const next = structuredClone(old);
    next.spec!.template.spec!.containers[0]!.image = "perl:6";
    expect(validateObjectUpdate(next, old).map((error) => error.field)).toEqual(["spec.template"]);
  });

  function cronJob(schedule: string, timeZone?: string): CronJob {
    return {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "backup", namespace: "default" },
      spec: {
        schedule,
        ...(timeZone === undefined ? {} : { timeZone }),
        jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "b", image: "busybox:1" }] } } } },
      },
    };
  }

  test.each(["*/5 * * * *", "0 3 * * mon-fri", "@hourly", "15,45 0-6/2 1 JAN,jul ?"])("schedule %j is valid", (schedule) => {
    expect(messages(cronJob(schedule))).toEqual([]);
  });

  test.each([
    ["* * * *", 'spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]'],
    ["61 * * * *", 'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'],
    ["* * * * 1-7", 'spec.schedule: Invalid value: "* * * * 1-7": end of range (7) above maximum (6): 1-7'],
    ["*/0 * * * *", 'spec.schedule: Invalid value: "*/0 * * * *": step of range should be a positive number: */0'],
    ["@fortnightly", 'spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly'],
    ["5-1 * * * *", 'spec.schedule: Invalid value: "5-1 * * * *": beginning of range (5) beyond end of range (1): 5-1'],
    ["x * * * *", 'spec.schedule: Invalid value: "x * * * *": failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
  ])("schedule %j is refused", (schedule, message) => {
    expect(messages(cronJob(schedule))).toEqual([message]);
  });

  test("a TZ prefix in the schedule and an unknown time zone are refused", () => {
    expect(messages(cronJob("TZ=UTC 0 * * * *"))).toEqual(['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']);
    expect(messages(cronJob("0 * * * *", "Mars/Olympus"))).toEqual(['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']);
    expect(messages(cronJob("0 * * * *", "Europe/Berlin"))).toEqual([]);
  });

  test("a CronJob name may be at most 52 characters", () => {
    const object = cronJob("@daily");
    object.metadata.name = "a".repeat(53);
    expect(messages(object)).toEqual([`metadata.name: Invalid value: "${"a".repeat(53)}": must be no more than 52 characters`]);
  });
});
