import { describe, expect, it } from "vitest";
import type { JsonObject } from "../patch/json.ts";
import { findDuplicateFields } from "./duplicates.ts";
import { checkFields } from "./validate.ts";

const deploymentName = "io.k8s.api.apps.v1.Deployment";

function deployment(spec: JsonObject, extra: JsonObject = {}): JsonObject {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: { app: "web" } }, spec, ...extra };
}

const podTemplate = (container: JsonObject): JsonObject => ({ metadata: { labels: { app: "web" } }, spec: { containers: [container] } });

describe("checkFields()", () => {
  it("accepts a valid Deployment unchanged", () => {
    const object = deployment({ replicas: 2, selector: { matchLabels: { app: "web" } }, template: podTemplate({ name: "web", image: "nginx", ports: [{ containerPort: 80 }] }) });
    const result = checkFields(object, deploymentName);
    expect(result.unknownFields).toEqual([]);
    expect(result.typeError).toBeUndefined();
    expect(result.pruned).toEqual(object);
  });

  it("reports unknown fields at depth and in arrays by path, and prunes them", () => {
    const object = deployment({ foo: 1, template: podTemplate({ name: "web", bar: true, ports: [{ containerPort: 80, baz: "x" }] }) }, { extra: {} });
    const result = checkFields(object, deploymentName);
    expect(result.unknownFields).toEqual(["spec.foo", "spec.template.spec.containers[0].bar", "spec.template.spec.containers[0].ports[0].baz", "extra"]);
    expect(result.pruned).toEqual(deployment({ template: podTemplate({ name: "web", ports: [{ containerPort: 80 }] }) }));
    expect(object["extra"]).toEqual({});
  });

  it("treats map keys as data but checks map values", () => {
    const labels = { "any/key": "v", other: "w" };
    expect(checkFields(deployment({}, { metadata: { name: "web", labels } }), deploymentName).unknownFields).toEqual([]);
    const limits = { template: podTemplate({ name: "web", resources: { limits: { cpu: "100m", memory: 1024 } } }) };
    expect(checkFields(deployment(limits), deploymentName).typeError).toBeUndefined();
    const badLabel = checkFields(deployment({}, { metadata: { name: "web", labels: { app: 3 } } }), deploymentName);
    expect(badLabel.typeError).toBe("json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels.app of type string");
  });

  it("accepts an integer or a string for IntOrString, and nothing else", () => {
    const probe = (port: unknown): JsonObject => deployment({ template: podTemplate({ name: "web", livenessProbe: { httpGet: { port: port as string } } }) });
    expect(checkFields(probe(8080), deploymentName).typeError).toBeUndefined();
    expect(checkFields(probe("http"), deploymentName).typeError).toBeUndefined();
    expect(checkFields(probe(true), deploymentName).typeError).toBe(
      "json: cannot unmarshal bool into Go struct field HTTPGetAction.spec.template.spec.containers.livenessProbe.httpGet.port of type intstr.IntOrString",
    );
  });

  it("words a wrong type as Go's encoding/json does, naming the struct and the field path", () => {
    expect(checkFields(deployment({ replicas: "two" }), deploymentName).typeError).toBe(
      "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
    );
    expect(checkFields(deployment({ replicas: 1.5 }), deploymentName).typeError).toBe(
      "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32",
    );
    expect(checkFields(deployment({ template: { spec: { containers: {} } } }), deploymentName).typeError).toBe(
      "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container",
    );
    expect(checkFields(deployment({ paused: "yes" }), deploymentName).typeError).toContain("of type bool");
  });

  it("refuses a quantity that does not parse, in the parser's words, and accepts numbers and suffixes", () => {
    const limits = (cpu: unknown): JsonObject => deployment({ template: podTemplate({ name: "web", resources: { limits: { cpu: cpu as string } } }) });
    expect(checkFields(limits("abc"), deploymentName).typeError).toBe("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    expect(checkFields(limits("100m"), deploymentName).typeError).toBeUndefined();
    expect(checkFields(limits(0.5), deploymentName).typeError).toBeUndefined();
    expect(checkFields(limits(" 2Gi "), deploymentName).typeError).toBeUndefined();
  });

  it("accepts null anywhere, as Go decodes it to the zero value", () => {
    const result = checkFields(deployment({ replicas: null, template: null }, { metadata: { name: "web", creationTimestamp: null } }), deploymentName);
    expect(result.typeError).toBeUndefined();
    expect(result.unknownFields).toEqual([]);
  });

  it("keeps RawExtension data as written", () => {
    const revision = { apiVersion: "apps/v1", kind: "ControllerRevision", metadata: { name: "r" }, revision: 1, data: { anything: { goes: [1] } } };
    const result = checkFields(revision, "io.k8s.api.apps.v1.ControllerRevision");
    expect(result.unknownFields).toEqual([]);
    expect(result.pruned).toEqual(revision);
  });
});

describe("findDuplicateFields()", () => {
  it("reports repeated keys by path, in objects nested in arrays too", () => {
    const text = '{"spec":{"replicas":1,"replicas":2,"containers":[{"name":"a"},{"name":"b","name":"c"}]},"kind":"x"}';
    expect(findDuplicateFields(text)).toEqual(["spec.replicas", "spec.containers[1].name"]);
  });

  it("is not fooled by braces, commas and quotes inside strings, nor by equal keys in sibling objects", () => {
    const text = '{"a":"{\\"a\\":1,","b":[{"a":1},{"a":2}],"c":{"a":"]}"}}';
    expect(findDuplicateFields(text)).toEqual([]);
  });

  it("finds nothing in a document without repeats", () => {
    expect(findDuplicateFields(JSON.stringify({ metadata: { name: "x", labels: { a: "b" } }, items: [1, 2, { a: 1 }] }))).toEqual([]);
  });
});
