import { describe, expect, test } from "vitest";
import {
  aggregateMessage,
  errorBody,
  errorString,
  fieldDuplicate,
  fieldForbidden,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  fieldTooLong,
  fieldTooMany,
  formatBadValue,
} from "./field-errors.ts";
import { FieldPath, fieldPath } from "./field-path.ts";
import { compareStrings, goNumber, goQuote, utf8Length } from "./go-format.ts";

describe("FieldPath", () => {
  test("prints names with dots and indexes and keys in brackets", () => {
    expect(fieldPath("spec", "template", "spec").child("containers").index(0).child("image").toString()).toBe("spec.template.spec.containers[0].image");
    expect(fieldPath("metadata").child("labels").key("app").toString()).toBe("metadata.labels[app]");
    expect(FieldPath.root().child("values").index(2).key("x").toString()).toBe("values[2][x]");
  });
});

describe("field errors", () => {
  test("print like upstream's Error(): field, type text, value and detail", () => {
    expect(errorString(fieldRequired("metadata.name", "name or generateName is required"))).toBe("metadata.name: Required value: name or generateName is required");
    expect(errorString(fieldInvalid("spec.replicas", -1, "must be greater than or equal to 0"))).toBe(
      "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    );
    expect(errorString(fieldInvalid("metadata.name", "Web", "bad"))).toBe('metadata.name: Invalid value: "Web": bad');
    expect(errorString(fieldForbidden("metadata.namespace", "not allowed on this type"))).toBe("metadata.namespace: Forbidden: not allowed on this type");
    expect(errorString(fieldDuplicate("spec.ports[1]", { port: 80 }))).toBe('spec.ports[1]: Duplicate value: {"port":80}');
  });

  test("NotSupported quotes each supported value", () => {
    expect(errorBody(fieldNotSupported("spec.restartPolicy", "Sometimes", ["Always", "OnFailure", "Never"]))).toBe(
      'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    );
  });

  test("TooLong hides the value and TooMany hides an unknown count", () => {
    expect(errorBody(fieldTooLong("metadata.annotations", 262144))).toBe("Too long: may not be more than 262144 bytes");
    expect(errorBody(fieldTooMany("spec.items", -1, 1))).toBe("Too many: must have at most 1 item");
    expect(errorBody(fieldTooMany("spec.items", 5, 2))).toBe("Too many: 5: must have at most 2 items");
  });

  test("aggregates one error bare and several in brackets without repeats", () => {
    const a = fieldRequired("a");
    const b = fieldRequired("b");
    expect(aggregateMessage([])).toBeUndefined();
    expect(aggregateMessage([a, a])).toBe("a: Required value");
    expect(aggregateMessage([a, b, a])).toBe("[a: Required value, b: Required value]");
  });

  test("bad values print as Go prints them", () => {
    expect(formatBadValue(["a", "<b>"])).toBe('["a","\\u003cb\\u003e"]');
    expect(formatBadValue(null)).toBe("null");
    expect(formatBadValue(true)).toBe("true");
    expect(formatBadValue("tab\there")).toBe('"tab\\there"');
  });
});

describe("Go formatting", () => {
  test("%q escapes control and unprintable characters and keeps printable Unicode", () => {
    expect(goQuote('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
    expect(goQuote("\x01\x7f")).toBe('"\\x01\\x7f"');
    expect(goQuote("héllo ☃")).toBe('"héllo ☃"');
    expect(goQuote("\u00a0\u200b")).toBe('"\\u00a0\\u200b"');
  });

  test("%v prints floats with Go's exponent thresholds", () => {
    expect([goNumber(1.5), goNumber(1e21), goNumber(0.00001), goNumber(0.0001), goNumber(123)]).toEqual(["1.5", "1e+21", "1e-05", "0.0001", "123"]);
  });

  test("compares strings by code point like Go, not by UTF-16 unit", () => {
    expect(compareStrings("\uffff", "\u{10000}")).toBe(-1);
    expect("\uffff" < "\u{10000}").toBe(false);
    expect(compareStrings("a", "ab")).toBe(-1);
    expect(utf8Length("aé☃\u{1f600}")).toBe(1 + 2 + 3 + 4);
  });
});
