import { describe, expect, test } from "vitest";
import { defaultObject } from "../defaults/index.ts";
import type { ReplicationController } from "../types/workloads.ts";
import { validateObject } from "./index.ts";

function controller(spec: ReplicationController["spec"]): ReplicationController {
  return { apiVersion: "v1", kind: "ReplicationController", metadata: { name: "web", namespace: "demo" }, ...(spec === undefined ? {} : { spec }) };
}

const template = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } };

function messages(object: ReplicationController): string[] {
  return validateObject(defaultObject(object)).map((error) => `${error.field}: ${error.type}`);
}

describe("ReplicationController defaulting and validation", () => {
  test("defaulting copies the template's labels into the selector and the labels, and sets 1 replica", () => {
    const defaulted = defaultObject(controller({ template }));
    expect(defaulted.spec?.selector).toEqual({ app: "web" });
    expect(defaulted.metadata.labels).toEqual({ app: "web" });
    expect(defaulted.spec?.replicas).toBe(1);
    expect(messages(controller({ template }))).toEqual([]);
  });

  test("a selector that does not select the template is invalid at spec.template.metadata.labels", () => {
    expect(messages(controller({ selector: { app: "other" }, template }))).toEqual(["spec.template.metadata.labels: FieldValueInvalid"]);
  });

  test("no selector and no template labels: the selector is required, and so is the template", () => {
    expect(messages(controller({ replicas: -1 }))).toEqual(["spec.replicas: FieldValueInvalid", "spec.selector: FieldValueRequired", "spec.template: FieldValueRequired"]);
  });
});
