import { describe, expect, it } from "vitest";
import { PatchFormatError } from "./errors.ts";
import { FieldSet, fieldElement, formatFieldPath, keyElement, parsePathElement, serializePathElement } from "./fieldpath.ts";
import type { FieldPath, PathElement } from "./fieldpath.ts";

const f = fieldElement;

describe("path elements", () => {
  it("serialize like upstream's FieldsV1, with key fields sorted by name", () => {
    expect(serializePathElement(f("spec"))).toBe("f:spec");
    expect(serializePathElement(keyElement([["protocol", "TCP"], ["containerPort", 80]]))).toBe('k:{"containerPort":80,"protocol":"TCP"}');
    expect(serializePathElement({ kind: "value", value: "example.com/finalizer" })).toBe('v:"example.com/finalizer"');
    expect(serializePathElement({ kind: "index", index: 3 })).toBe("i:3");
  });

  it("parse back to the same element", () => {
    const elements: PathElement[] = [f("metadata"), keyElement([["name", "nginx"]]), { kind: "value", value: 42 }, { kind: "index", index: 0 }];
    for (const element of elements) expect(parsePathElement(serializePathElement(element))).toEqual(element);
  });

  it("are dropped when their type is unknown and rejected when malformed", () => {
    expect(parsePathElement("z:whatever")).toBeUndefined();
    expect(() => parsePathElement("k:{not json")).toThrow(PatchFormatError);
    expect(() => parsePathElement("spec")).toThrow(PatchFormatError);
  });
});

describe("formatFieldPath()", () => {
  it("prints paths the way upstream's conflict messages do", () => {
    expect(formatFieldPath([f("spec"), f("replicas")])).toBe(".spec.replicas");
    expect(formatFieldPath([f("spec"), f("template"), f("spec"), f("containers"), keyElement([["name", "nginx"]]), f("image")])).toBe(
      '.spec.template.spec.containers[name="nginx"].image',
    );
    expect(formatFieldPath([f("spec"), f("ports"), keyElement([["port", 80], ["protocol", "TCP"]])])).toBe('.spec.ports[port=80,protocol="TCP"]');
    expect(formatFieldPath([f("metadata"), f("finalizers"), { kind: "value", value: "a" }])).toBe('.metadata.finalizers[="a"]');
  });
});

describe("FieldSet", () => {
  const nginx = keyElement([["name", "nginx"]]);
  const paths: FieldPath[] = [
    [f("spec"), f("replicas")],
    [f("spec"), f("template"), f("spec"), f("containers"), nginx],
    [f("spec"), f("template"), f("spec"), f("containers"), nginx, f("image")],
    [f("spec"), f("template"), f("spec"), f("containers"), nginx, f("name")],
    [f("metadata"), f("finalizers"), { kind: "value", value: "b" }],
    [f("metadata"), f("finalizers"), { kind: "value", value: "a" }],
  ];

  it("serialises to FieldsV1 with '.' for nodes that are members and have children", () => {
    expect(FieldSet.fromPaths(paths).toFieldsV1()).toEqual({
      "f:metadata": { "f:finalizers": { 'v:"a"': {}, 'v:"b"': {} } },
      "f:spec": {
        "f:replicas": {},
        "f:template": { "f:spec": { "f:containers": { 'k:{"name":"nginx"}': { ".": {}, "f:image": {}, "f:name": {} } } } },
      },
    });
  });

  it("orders FieldsV1 keys like upstream: fields, then keys, then values, each sorted", () => {
    const set = FieldSet.fromPaths([[{ kind: "value", value: "z" }], [keyElement([["a", 1]])], [f("b")], [f("a")], [{ kind: "value", value: 1 }]]);
    expect(Object.keys(set.toFieldsV1())).toEqual(["f:a", "f:b", 'k:{"a":1}', "v:1", 'v:"z"']);
  });

  it("reads FieldsV1 back into the same set", () => {
    const set = FieldSet.fromPaths(paths);
    const reread = FieldSet.fromFieldsV1(set.toFieldsV1());
    expect(reread.equals(set)).toBe(true);
    expect(reread.has([f("spec"), f("template"), f("spec"), f("containers"), nginx])).toBe(true);
    expect(reread.has([f("spec"), f("template")])).toBe(false);
  });

  it("computes union, difference and intersection path by path", () => {
    const left = FieldSet.fromPaths([[f("a")], [f("b"), f("c")], [f("b"), f("d")]]);
    const right = FieldSet.fromPaths([[f("b"), f("c")], [f("e")]]);
    expect(left.union(right).paths().map(formatFieldPath)).toEqual([".a", ".b.c", ".b.d", ".e"]);
    expect(left.difference(right).paths().map(formatFieldPath)).toEqual([".a", ".b.d"]);
    expect(left.intersection(right).paths().map(formatFieldPath)).toEqual([".b.c"]);
    expect(left.difference(left).isEmpty()).toBe(true);
  });

  it("rejects FieldsV1 that is not an object", () => {
    expect(() => FieldSet.fromFieldsV1({ "f:spec": 3 })).toThrow(PatchFormatError);
  });
});
