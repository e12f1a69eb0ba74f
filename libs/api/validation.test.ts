import { describe, expect, test } from "vitest";
import { errorString } from "./field-errors.ts";
import { fieldPath } from "./field-path.ts";
import type { ObjectMeta } from "./types/meta.ts";
import {
  nameIsDnsLabel,
  nameIsDnsSubdomain,
  nameValidatorFor,
  validateAnnotations,
  validateDeletePropagation,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validateOwnerReferences,
} from "./validation.ts";
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue, isValidPortName } from "./validation-strings.ts";

const a = (count: number) => "a".repeat(count);

describe("string validators accept and refuse upstream's examples", () => {
  test.each(["a", "ab", "a-1", "a--1--2--b", "0", "1-a", a(63)])("%j is a DNS-1123 label", (value) => {
    expect(isDns1123Label(value)).toEqual([]);
  });
  test.each(["", "A", "aBc", "-", "a-", "-a", "_", "a_b", ".", "a.b", " ", "a b", a(64)])("%j is not a DNS-1123 label", (value) => {
    expect(isDns1123Label(value)).not.toEqual([]);
  });
  test.each(["a", "a.a", "a--1--2--b.1", "1.2.3.4.5", a(253)])("%j is a DNS-1123 subdomain", (value) => {
    expect(isDns1123Subdomain(value)).toEqual([]);
  });
  test.each(["", "A", "a.", ".a", "a..b", "A.a", "a@b", "a:b", "a%b", a(254)])("%j is not a DNS-1123 subdomain", (value) => {
    expect(isDns1123Subdomain(value)).not.toEqual([]);
  });
  test.each(["0", "1a", "a.b", "", a(64)])("%j is not a DNS-1035 label", (value) => {
    expect(isDns1035Label(value)).not.toEqual([]);
  });
  test.each(["simple", "1234/5678", "example.com/Uppercase_Is_OK_123", a(63), `${a(253)}/${"b".repeat(63)}`])("%j is a qualified name", (value) => {
    expect(isQualifiedName(value)).toEqual([]);
  });
  test.each(["nospecialchars%^=@", "cantendwithadash-", "only/one/slash", "Example.com/abc", "example.com/", "/simple", a(64), `${a(254)}/abc`])(
    "%j is not a qualified name",
    (value) => {
      expect(isQualifiedName(value)).not.toEqual([]);
    },
  );
  test.each(["", "1234", a(63)])("%j is a label value", (value) => {
    expect(isValidLabelValue(value)).toEqual([]);
  });
  test.each(["Tama-nui-te-rā.is.Māori.sun", "-starts-with-dash", "ends.with.dot.", a(64)])("%j is not a label value", (value) => {
    expect(isValidLabelValue(value)).not.toEqual([]);
  });

  test("messages are upstream's, double space before 'or' included", () => {
    expect(isDns1123Label("a.b")).toEqual(["must not contain dots"]);
    expect(isDns1123Label("A")).toEqual([
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character " +
        "(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    expect(isQualifiedName("")).toEqual([
      "name part must be non-empty",
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
        "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
    expect(isQualifiedName(`/${a(3)}`)).toEqual(["prefix part must be non-empty"]);
    expect(isValidPortName("-Http--")).toEqual([
      "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
      "must contain consecutive hyphens".replace("contain", "not contain"),
      "must not begin or end with a hyphen",
    ]);
  });

  test("lengths are counted in UTF-8 bytes, as Go does", () => {
    expect(isValidLabelValue("é".repeat(32))).toContain("must be no more than 63 characters");
  });
});

describe("names per resource", () => {
  test("namespaces are labels, services DNS-1035 labels, RBAC names path segments, others subdomains", () => {
    expect(nameValidatorFor("", "namespaces")("a.b", false)).toEqual(["must not contain dots"]);
    expect(nameValidatorFor("", "services")("1web", false)).not.toEqual([]);
    expect(nameValidatorFor("", "pods")("web.v1", false)).toEqual([]);
    expect(nameValidatorFor("rbac.authorization.k8s.io", "clusterroles")("system:controller:x", false)).toEqual([]);
    expect(nameValidatorFor("rbac.authorization.k8s.io", "roles")("a/b", false)).toEqual(["may not contain '/'"]);
    expect(nameValidatorFor("", "persistentvolumes")("..", false)).toEqual(["may not be '..'"]);
  });

  test("a generateName may end in a dash, checked with upstream's last-two-characters mask", () => {
    expect(nameIsDnsSubdomain("web-", true)).toEqual([]);
    expect(nameIsDnsSubdomain("web-", false)).not.toEqual([]);
    expect(nameIsDnsLabel("a-", true)).toEqual([]);
  });
});

describe("validateObjectMeta", () => {
  const podRules = { namespaced: true, nameValidator: nameIsDnsSubdomain };
  const messages = (meta: ObjectMeta, rules = podRules) => validateObjectMeta(meta, rules).map(errorString);

  test("a plain namespaced object is valid", () => {
    expect(messages({ name: "web-1", namespace: "default", labels: { app: "web" }, annotations: { "example.com/x": "y" } })).toEqual([]);
  });

  test("requires a name or generateName and a namespace where the type has one", () => {
    expect(messages({})).toEqual(["metadata.name: Required value: name or generateName is required", "metadata.namespace: Required value"]);
    expect(messages({ generateName: "web-", namespace: "default" })).toEqual(["metadata.name: Required value: name or generateName is required"]);
  });

  test("forbids a namespace on cluster-scoped types", () => {
    expect(messages({ name: "n1", namespace: "default" }, { namespaced: false, nameValidator: nameIsDnsSubdomain })).toEqual([
      "metadata.namespace: Forbidden: not allowed on this type",
    ]);
  });

  test("reports bad names, namespaces, labels and generation with their paths", () => {
    const fields = validateObjectMeta({ name: "Web", namespace: "a.b", labels: { "-x": "ok", y: "bad value" }, generation: -1 }, podRules).map(
      (error) => `${error.field} ${error.type}`,
    );
    expect(fields).toEqual([
      "metadata.name FieldValueInvalid",
      "metadata.namespace FieldValueInvalid",
      "metadata.generation FieldValueInvalid",
      "metadata.labels FieldValueInvalid",
      "metadata.labels FieldValueInvalid",
    ]);
  });

  test("limits annotations to 256 KiB in total", () => {
    const path = fieldPath("metadata", "annotations");
    expect(validateAnnotations({ a: a(256 * 1024 - 1) }, path)).toEqual([]);
    expect(validateAnnotations({ a: a(256 * 1024) }, path).map(errorString)).toEqual(["metadata.annotations: Too long: may not be more than 262144 bytes"]);
  });

  test("allows one controller owner and refuses Events as owners", () => {
    const owner = (name: string, controller: boolean) => ({ apiVersion: "apps/v1", kind: "ReplicaSet", name, uid: `uid-${name}`, controller });
    const errors = validateOwnerReferences([owner("a", true), owner("b", true)], fieldPath("metadata", "ownerReferences"));
    expect(errors.map((error) => error.detail)).toEqual([
      'Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and ReplicaSet/b',
    ]);
    const banned = validateOwnerReferences([{ apiVersion: "v1", kind: "Event", name: "e", uid: "u" }], fieldPath("o"));
    expect(banned.map((error) => error.detail)).toEqual(["/v1, Kind=Event is disallowed from being an owner"]);
    const empty = validateOwnerReferences([{ apiVersion: "a/b/c", kind: "", name: "", uid: "" }], fieldPath("o"));
    expect(empty.map((error) => error.field)).toEqual(["o.apiVersion", "o.kind", "o.name", "o.uid"]);
  });

  test("refuses conflicting deletion finalizers and bad managed fields", () => {
    const errors = validateObjectMeta(
      {
        name: "x",
        namespace: "d",
        finalizers: ["orphan", "foregroundDeletion"],
        managedFields: [{ manager: "kubectl\u0007", operation: "Patch" as "Apply", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: {} }],
      },
      podRules,
    ).map(errorString);
    expect(errors).toEqual([
      'metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set',
      'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
      'metadata.managedFields[0].manager: Invalid value: "kubectl\\a": invalid character U+0007 (at position 7)',
    ]);
  });
});

describe("validateObjectMetaUpdate", () => {
  const old: ObjectMeta = { name: "web", namespace: "d", uid: "u1", resourceVersion: "5", generation: 3, creationTimestamp: "2024-01-01T00:00:00Z" };

  test("accepts an update that keeps identity and moves generation forward", () => {
    expect(validateObjectMetaUpdate({ ...old, generation: 4, labels: { a: "b" } }, old)).toEqual([]);
  });

  test("refuses changed identity, a missing resourceVersion and a decremented generation", () => {
    const errors = validateObjectMetaUpdate({ ...old, name: "other", uid: "u2", resourceVersion: "", generation: 2 }, old).map(errorString);
    expect(errors).toEqual([
      'metadata.resourceVersion: Invalid value: "": must be specified for an update',
      "metadata.generation: Invalid value: 2: must not be decremented",
      'metadata.name: Invalid value: "other": field is immutable',
      'metadata.uid: Invalid value: "u2": field is immutable',
    ]);
  });

  test("refuses new finalizers on an object being deleted", () => {
    const deleting = { ...old, deletionTimestamp: "2024-01-02T00:00:00Z", finalizers: ["a"] };
    const errors = validateObjectMetaUpdate({ ...deleting, finalizers: ["a", "c", "b"] }, deleting).map(errorString);
    expect(errors).toEqual(['metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b", "c"}']);
  });
});

describe("other validators", () => {
  test("label selectors need values for In and none for Exists", () => {
    const errors = validateLabelSelector(
      { matchExpressions: [{ key: "a", operator: "In" }, { key: "b", operator: "Exists", values: ["x"] }] },
      fieldPath("spec", "selector"),
    ).map(errorString);
    expect(errors).toEqual([
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    ]);
  });

  test("delete propagation refuses both orphan flags and unknown policies", () => {
    expect(validateDeletePropagation(true, "Orphan").map(errorString)).toEqual([
      'propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set',
    ]);
    expect(validateDeletePropagation(undefined, "Later").map(errorString)).toEqual([
      'propagationPolicy: Unsupported value: "Later": supported values: "Foreground", "Background", "Orphan", "nil"',
    ]);
  });
});
