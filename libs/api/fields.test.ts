import { describe, expect, test } from "vitest";
import { fieldLabelConversion, parseFieldSelectorFor, selectableFields, supportedFieldLabels } from "./field-sets.ts";
import { escapeFieldValue, fieldSelectorFromSet, FieldSelectorError, parseFieldSelector, unescapeFieldValue } from "./fields.ts";
import type { Event } from "./types/core.ts";
import type { Pod } from "./types/pod.ts";

describe("parseFieldSelector", () => {
  test("reads =, == and != terms and prints them sorted, == as =", () => {
    expect(parseFieldSelector("status.phase!=Running,metadata.name==web,spec.nodeName=n1").toString()).toBe(
      "metadata.name=web,spec.nodeName=n1,status.phase!=Running",
    );
    expect(parseFieldSelector("").isEmpty()).toBe(true);
    expect(parseFieldSelector("a=b,,").toString()).toBe("a=b");
  });

  test("matches an absent field as the empty string, as upstream's fields.Set", () => {
    expect(parseFieldSelector("spec.nodeName=").matches({})).toBe(true);
    expect(parseFieldSelector("spec.nodeName!=").matches({ "spec.nodeName": "n1" })).toBe(true);
    expect(parseFieldSelector("a=1,b!=2").matches({ a: "1", b: "2" })).toBe(false);
    expect(fieldSelectorFromSet({ a: "1" }).matches({ a: "1" })).toBe(true);
  });

  test("handles escaped commas and equals signs in values", () => {
    const selector = parseFieldSelector("a=x\\,y\\=z,b=c");
    expect(selector.requirements).toEqual([
      { field: "a", operator: "=", value: "x,y=z" },
      { field: "b", operator: "=", value: "c" },
    ]);
    expect(selector.toString()).toBe("a=x\\,y\\=z,b=c");
    expect(escapeFieldValue("a\\b")).toBe("a\\\\b");
    expect(unescapeFieldValue("a\\\\b")).toBe("a\\b");
  });

  test("refuses terms without an operator and bad escapes with upstream's messages", () => {
    expect(() => parseFieldSelector("a=b,c")).toThrow("invalid selector: 'a=b,c'; can't understand 'c'");
    expect(() => parseFieldSelector("a=b\\x")).toThrow("invalid field selector: invalid escape sequence: \\x");
    expect(() => parseFieldSelector("a=b=c")).toThrow("invalid field selector: unescaped character in value: 61");
    expect(() => parseFieldSelector("a=b\\")).toThrow("invalid field selector: invalid escape sequence: \\");
  });

  test("knows a field to be pinned only by an equality term", () => {
    const selector = parseFieldSelector("spec.nodeName=n1,status.phase!=Failed");
    expect([selector.requiresExactMatch("spec.nodeName"), selector.requiresExactMatch("status.phase")]).toEqual(["n1", undefined]);
  });
});

describe("field selectors per resource", () => {
  test("pods accept their fields, rename spec.host and refuse others with upstream's message", () => {
    expect(parseFieldSelectorFor("", "pods", "spec.host=n1,status.phase=Running").toString()).toBe("spec.nodeName=n1,status.phase=Running");
    expect(() => parseFieldSelectorFor("", "pods", "foo=bar")).toThrow(new FieldSelectorError("field label not supported: foo"));
  });

  test("cluster-scoped nodes and namespaces refuse metadata.namespace", () => {
    expect(() => fieldLabelConversion("", "nodes")("metadata.namespace", "x")).toThrow("field label not supported: metadata.namespace");
    expect(fieldLabelConversion("", "nodes")("spec.unschedulable", "true")).toEqual(["spec.unschedulable", "true"]);
    expect(supportedFieldLabels("", "namespaces")).toEqual(["metadata.name", "status.phase"]);
  });

  test("jobs and resources without their own rules use upstream's other messages", () => {
    expect(() => parseFieldSelectorFor("batch", "jobs", "status.failed=1")).toThrow('field label "status.failed" not supported for batchv1.Job');
    expect(() => parseFieldSelectorFor("apps", "deployments", "spec.replicas=1")).toThrow(
      '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
    expect(parseFieldSelectorFor("apps", "deployments", "metadata.name=web").toString()).toBe("metadata.name=web");
  });

  test("a pod's selectable fields come from its spec, status and metadata", () => {
    const pod: Pod = {
      metadata: { name: "web", namespace: "prod" },
      spec: { containers: [], nodeName: "n1", restartPolicy: "Always", hostNetwork: true },
      status: { phase: "Running", podIPs: [{ ip: "10.244.1.5" }] },
    };
    const fields = selectableFields("", "pods", pod, true);
    expect(fields).toMatchObject({
      "metadata.name": "web",
      "metadata.namespace": "prod",
      "spec.nodeName": "n1",
      "spec.hostNetwork": "true",
      "status.phase": "Running",
      "status.podIP": "10.244.1.5",
      "spec.schedulerName": "",
    });
    expect(parseFieldSelectorFor("", "pods", "spec.nodeName=n1,status.phase!=Succeeded").matches(fields)).toBe(true);
  });

  test("an event's source falls back to its reporting controller", () => {
    const event: Event = {
      metadata: { name: "e1", namespace: "d" },
      involvedObject: { kind: "Pod", name: "web" },
      reportingComponent: "flotilla-scheduler",
      reportingInstance: "",
      type: "Normal",
    };
    const fields = selectableFields("", "events", event, true);
    expect([fields["source"], fields["involvedObject.kind"], fields["involvedObject.uid"]]).toEqual(["flotilla-scheduler", "Pod", ""]);
  });
});
