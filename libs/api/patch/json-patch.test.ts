import { describe, expect, it } from "vitest";
import { JsonPatchError, PatchFormatError } from "./errors.ts";
import type { JsonValue } from "./json.ts";
import { applyJsonPatch, jsonPatchOperationsMax } from "./json-patch.ts";
import { arrayIndexOf, formatJsonPointer, parseJsonPointer } from "./json-pointer.ts";

/** Runs `patch` and returns the JsonPatchError it must throw. */
function failure(document: JsonValue, patch: JsonValue): JsonPatchError {
  try {
    applyJsonPatch(document, patch);
  } catch (error) {
    if (error instanceof JsonPatchError) return error;
    throw error;
  }
  throw new Error("the patch applied, but it should have failed");
}

describe("RFC 6902 appendix A", () => {
  it("A.1 adds an object member", () => {
    expect(applyJsonPatch({ foo: "bar" }, [{ op: "add", path: "/baz", value: "qux" }])).toEqual({ baz: "qux", foo: "bar" });
  });

  it("A.2 adds an array element", () => {
    expect(applyJsonPatch({ foo: ["bar", "baz"] }, [{ op: "add", path: "/foo/1", value: "qux" }])).toEqual({ foo: ["bar", "qux", "baz"] });
  });

  it("A.3 removes an object member", () => {
    expect(applyJsonPatch({ baz: "qux", foo: "bar" }, [{ op: "remove", path: "/baz" }])).toEqual({ foo: "bar" });
  });

  it("A.4 removes an array element", () => {
    expect(applyJsonPatch({ foo: ["bar", "qux", "baz"] }, [{ op: "remove", path: "/foo/1" }])).toEqual({ foo: ["bar", "baz"] });
  });

  it("A.5 replaces a value", () => {
    expect(applyJsonPatch({ baz: "qux", foo: "bar" }, [{ op: "replace", path: "/baz", value: "boo" }])).toEqual({ baz: "boo", foo: "bar" });
  });

  it("A.6 moves a value", () => {
    const document = { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } };
    expect(applyJsonPatch(document, [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }])).toEqual({
      foo: { bar: "baz" },
      qux: { corge: "grault", thud: "fred" },
    });
  });

  it("A.7 moves an array element", () => {
    const document = { foo: ["all", "grass", "cows", "eat"] };
    expect(applyJsonPatch(document, [{ op: "move", from: "/foo/1", path: "/foo/3" }])).toEqual({ foo: ["all", "cows", "eat", "grass"] });
  });

  it("A.8 tests a value successfully", () => {
    const document = { baz: "qux", foo: ["a", 2, "c"] };
    const patch = [
      { op: "test", path: "/baz", value: "qux" },
      { op: "test", path: "/foo/1", value: 2 },
    ];
    expect(applyJsonPatch(document, patch)).toEqual(document);
  });

  it("A.9 fails a test and names the operation", () => {
    const error = failure({ baz: "qux" }, [{ op: "test", path: "/baz", value: "bar" }]);
    expect(error.operationIndex).toBe(0);
    expect(error.op).toBe("test");
    expect(error.path).toBe("/baz");
  });

  it("A.10 adds a nested member object", () => {
    expect(applyJsonPatch({ foo: "bar" }, [{ op: "add", path: "/child", value: { grandchild: {} } }])).toEqual({
      foo: "bar",
      child: { grandchild: {} },
    });
  });

  it("A.11 ignores unrecognized members of an operation", () => {
    expect(applyJsonPatch({ foo: "bar" }, [{ op: "add", path: "/baz", value: "qux", xyz: 123 }])).toEqual({ foo: "bar", baz: "qux" });
  });

  it("A.12 refuses to add to a nonexistent target", () => {
    const error = failure({ foo: "bar" }, [{ op: "add", path: "/baz/bat", value: "qux" }]);
    expect(error.path).toBe("/baz/bat");
    expect(error.message).toContain("parent location does not exist");
  });

  it("A.14 decodes ~01 as ~1, not as /", () => {
    expect(applyJsonPatch({ "/": 9, "~1": 10 }, [{ op: "test", path: "/~01", value: 10 }])).toEqual({ "/": 9, "~1": 10 });
  });

  it("A.15 does not equate the string 10 with the number 10", () => {
    const error = failure({ "/": 9, "~1": 10 }, [{ op: "test", path: "/~01", value: "10" }]);
    expect(error.op).toBe("test");
  });

  it("A.16 appends an array value with -", () => {
    expect(applyJsonPatch({ foo: ["bar"] }, [{ op: "add", path: "/foo/-", value: ["abc", "def"] }])).toEqual({ foo: ["bar", ["abc", "def"]] });
  });
});

describe("applyJsonPatch()", () => {
  it("copies a value so later edits do not alias the source", () => {
    const result = applyJsonPatch({ a: { b: 1 } }, [
      { op: "copy", from: "/a", path: "/c" },
      { op: "replace", path: "/c/b", value: 2 },
    ]);
    expect(result).toEqual({ a: { b: 1 }, c: { b: 2 } });
  });

  it("names the index of the failing operation, not the first", () => {
    const error = failure({ spec: { replicas: 1 } }, [
      { op: "replace", path: "/spec/replicas", value: 3 },
      { op: "remove", path: "/spec/paused" },
    ]);
    expect(error.operationIndex).toBe(1);
    expect(error.op).toBe("remove");
    expect(error.path).toBe("/spec/paused");
  });

  it("leaves the caller's document untouched when a later operation fails", () => {
    const document = { a: 1 };
    failure(document, [
      { op: "add", path: "/b", value: 2 },
      { op: "test", path: "/a", value: 5 },
    ]);
    expect(document).toEqual({ a: 1 });
  });

  it("refuses replace of a member that does not exist", () => {
    expect(failure({ a: 1 }, [{ op: "replace", path: "/b", value: 2 }]).message).toContain("target location does not exist");
  });

  it("refuses array indexes with leading zeros or past the end", () => {
    expect(failure({ a: [1, 2] }, [{ op: "add", path: "/a/01", value: 0 }]).operationIndex).toBe(0);
    expect(failure({ a: [1, 2] }, [{ op: "add", path: "/a/3", value: 0 }]).operationIndex).toBe(0);
    expect(applyJsonPatch({ a: [1, 2] }, [{ op: "add", path: "/a/2", value: 3 }])).toEqual({ a: [1, 2, 3] });
  });

  it("refuses to move a value into one of its own children", () => {
    expect(failure({ a: { b: {} } }, [{ op: "move", from: "/a", path: "/a/b/c" }]).message).toContain("into itself");
  });

  it("replaces the whole document at the empty path", () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: "replace", path: "", value: { b: 2 } }])).toEqual({ b: 2 });
  });

  it("escapes / and ~ in member names", () => {
    const document = { metadata: { annotations: { "example.com/a~b": "x" } } };
    const patch = [{ op: "replace", path: "/metadata/annotations/example.com~1a~0b", value: "y" }];
    expect(applyJsonPatch(document, patch)).toEqual({ metadata: { annotations: { "example.com/a~b": "y" } } });
  });

  it("requires value for add, replace and test, and from for move and copy", () => {
    expect(failure({}, [{ op: "add", path: "/a" }]).message).toContain('"value" is missing');
    expect(failure({}, [{ op: "move", path: "/a" }]).message).toContain('"from"');
    expect(failure({}, [{ op: "frobnicate", path: "/a" }]).message).toContain("unknown operation");
  });

  it("accepts null as an added value", () => {
    expect(applyJsonPatch({}, [{ op: "add", path: "/a", value: null }])).toEqual({ a: null });
  });

  it("rejects more operations than the API server allows", () => {
    const patch = Array.from({ length: jsonPatchOperationsMax + 1 }, () => ({ op: "test", path: "", value: {} }));
    expect(() => applyJsonPatch({}, patch)).toThrow(PatchFormatError);
  });

  it("adds a member named __proto__ as data, not as a prototype", () => {
    const result = applyJsonPatch({}, [{ op: "add", path: "/__proto__", value: { polluted: true } }]) as Record<string, unknown>;
    expect(Object.keys(result)).toEqual(["__proto__"]);
    expect((result as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe("JSON pointers", () => {
  it("round-trip through format and parse", () => {
    const tokens = ["a/b", "c~d", "", "0"];
    expect(parseJsonPointer(formatJsonPointer(tokens))).toEqual(tokens);
  });

  it("reject pointers without a leading slash and stray tildes", () => {
    expect(() => parseJsonPointer("a")).toThrow(PatchFormatError);
    expect(() => parseJsonPointer("/a~2")).toThrow(PatchFormatError);
    expect(() => parseJsonPointer("/a~")).toThrow(PatchFormatError);
  });

  it("accept only canonical array indexes", () => {
    expect(arrayIndexOf("0")).toBe(0);
    expect(arrayIndexOf("10")).toBe(10);
    expect(arrayIndexOf("01")).toBeUndefined();
    expect(arrayIndexOf("-1")).toBeUndefined();
    expect(arrayIndexOf("1e3")).toBeUndefined();
  });
});
