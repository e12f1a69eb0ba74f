import { describe, expect, test } from "vitest";
import { FieldErrorsError } from "./field-errors.ts";
import { scanSelector, SelectorParseError } from "./labels-parse.ts";
import { newRequirement } from "./labels-requirement.ts";
import {
  formatLabels,
  formatLabelSelector,
  labelSelectorAsMap,
  labelSelectorAsSelector,
  parseSelector,
  parseToLabelSelector,
  selectorFromSet,
  Selector,
} from "./labels.ts";

function parseError(text: string): string {
  try {
    parseSelector(text);
  } catch (error) {
    expect(error).toBeInstanceOf(SelectorParseError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`);
}

describe("parseSelector", () => {
  test.each(["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"])(
    "upstream's good string %j parses and prints back without spaces",
    (text) => {
      expect(parseSelector(text).toString()).toBe(text.replaceAll(" ", ""));
    },
  );

  test.each(["x=a||y=b", "x==a==b", "!x=a", "x<a", "x,,y", ",x,y", "x nott in (y)", "a in (xyz),", "a in (xyz)b notin ()", "a in (xyz abc)", "a notin(", "a (", "("])(
    "upstream's bad string %j is refused",
    (text) => {
      expect(() => parseSelector(text)).toThrow(SelectorParseError);
    },
  );

  test("sorts requirements by key, so the same requirements in any order print alike", () => {
    expect(parseSelector("x=a,a=x").toString()).toBe(parseSelector("a=x,x=a").toString());
    expect(parseSelector("x notin (abc,,def),bar,z in (),w").toString()).toBe("bar,w,x notin (,abc,def),z in ()");
  });

  test("reads set values sorted and unique, keywords inside a list as plain values", () => {
    expect(parseSelector("a in (x,y,notin, z,in)").requirements).toEqual([{ key: "a", operator: "in", values: ["in", "notin", "x", "y", "z"] }]);
    expect(parseSelector("x in (abc,)").requirements).toEqual([{ key: "x", operator: "in", values: ["", "abc"] }]);
    expect(parseSelector("x notin (, a)").requirements).toEqual([{ key: "x", operator: "notin", values: ["", "a"] }]);
    expect(parseSelector("x notin ( )").requirements).toEqual([{ key: "x", operator: "notin", values: [""] }]);
  });

  test("accepts whitespace of every kind between tokens and prefixed keys", () => {
    expect(parseSelector("\rx").toString()).toBe("x");
    expect(parseSelector("x  notin\t\t(abc,def)").toString()).toBe("x notin (abc,def)");
    expect(parseSelector("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)").toString()).toBe("0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)");
  });

  test("gives upstream's messages for misplaced tokens", () => {
    expect(parseError("!x=a")).toBe("found '=', expected: ',' or 'end of string'");
    expect(parseError(",x")).toBe("found ',', expected: !, identifier, or 'end of string'");
    expect(parseError("x,,y")).toBe("found ',', expected: identifier after ','");
    expect(parseError("a in (xyz abc)")).toBe("unable to parse requirement: found 'abc', expected: ',' or ')'");
    expect(parseError("x in abc")).toBe("unable to parse requirement: found 'abc' expected: '('");
    expect(parseError("x (")).toBe("unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt");
  });

  test("reports an invalid key with upstream's nil path and an invalid value with its path", () => {
    expect(parseError("a/b/c")).toBe(
      "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', " +
        "and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is " +
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
    expect(parseError("x=a$b")).toMatch(/^unable to parse requirement: values\[0\]\[x\]: Invalid value: "a\$b": a valid label must be an empty string/);
    expect(parseError("x<a")).toBe("unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer");
  });

  test("refuses a selector longer than the bound", () => {
    expect(() => parseSelector("x".repeat(64 * 1024 + 1))).toThrow(/longer than/);
  });
});

describe("scanSelector", () => {
  test("returns the longest operator and treats other characters as identifiers", () => {
    const tokens = (text: string) => scanSelector(text).map((item) => item.token);
    expect(tokens("== != (), = notin")).toEqual(["==", "!=", "(", ")", ",", "=", "notin", "end"]);
    expect(tokens("key>2")).toEqual(["identifier", ">", "identifier", "end"]);
    expect(tokens("||")).toEqual(["identifier", "end"]);
  });
});

describe("Selector.matches", () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ["", { x: "y" }, true],
    ["x=y", { x: "y" }, true],
    ["x=y,z=w", { x: "y", z: "w" }, true],
    ["x!=y,z!=w", { x: "z", z: "a" }, true],
    ["notin=in", { notin: "in" }, true],
    ["x", { x: "z" }, true],
    ["!x", { y: "z" }, true],
    ["x>1", { x: "2" }, true],
    ["x<1", { x: "0" }, true],
    ["x=z", {}, false],
    ["x=y", { x: "z" }, false],
    ["x!=y,z!=w", { x: "z", z: "w" }, false],
    ["x", { y: "z" }, false],
    ["!x", { x: "z" }, false],
    ["x>1", { x: "0" }, false],
    ["z>1", { z: "v2" }, false],
    ["x notin (),y", { y: "" }, true],
    ["foo=bar,foobar=bar,baz=blah", { foo: "bar", baz: "blah" }, false],
  ];
  test.each(cases)("%j against %j matches: %s", (text, labels, expected) => {
    expect(parseSelector(text).matches(labels)).toBe(expected);
  });

  test("nothing matches nothing and everything matches an empty set", () => {
    expect(Selector.nothing().matches({})).toBe(false);
    expect(Selector.everything().matches(undefined)).toBe(true);
    expect(Selector.everything().isEmpty()).toBe(true);
  });

  test("pins exact values only for equality and single-value set requirements", () => {
    const selector = parseSelector("a=1,b in (2),c in (3,4),d!=5");
    expect([selector.requiresExactMatch("a"), selector.requiresExactMatch("b"), selector.requiresExactMatch("c"), selector.requiresExactMatch("d")]).toEqual([
      "1",
      "2",
      undefined,
      undefined,
    ]);
  });
});

describe("newRequirement", () => {
  function problems(run: () => unknown): string[] {
    try {
      run();
    } catch (error) {
      if (error instanceof FieldErrorsError) return error.errors.map((item) => `${item.field}|${item.type}`);
      throw error;
    }
    return [];
  }

  test("checks values per operator as upstream's NewRequirement", () => {
    expect(problems(() => newRequirement("x1", "in", []))).toEqual(["values|FieldValueInvalid"]);
    expect(problems(() => newRequirement("x5", "=", ["bar", "foo"]))).toEqual(["values|FieldValueInvalid"]);
    expect(problems(() => newRequirement("x8", "exists", ["foo"]))).toEqual(["values|FieldValueInvalid"]);
    expect(problems(() => newRequirement("x14", "gt", ["bar"]))).toEqual(["values[0]|FieldValueInvalid"]);
    expect(problems(() => newRequirement("a".repeat(254), "exists", []))).toEqual(["key|FieldValueInvalid"]);
    expect(problems(() => newRequirement("x16", "=", ["a".repeat(254)]))).toEqual(["values[0][x16]|FieldValueInvalid"]);
    expect(problems(() => newRequirement("x18", "unsupportedOp" as "in", ["a"]))).toEqual(["operator|FieldValueNotSupported"]);
    expect(problems(() => newRequirement("x11", "gt", ["1"]))).toEqual([]);
  });

  test("prints a nil value list as null, like Go's nil slice", () => {
    expect(() => newRequirement("x", "in", null)).toThrow("values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty");
  });
});

describe("LabelSelector conversion", () => {
  test("a missing selector matches nothing, an empty one everything", () => {
    expect(labelSelectorAsSelector(undefined).matchesNothing()).toBe(true);
    expect(labelSelectorAsSelector({}).isEmpty()).toBe(true);
  });

  test("matchLabels and matchExpressions become one sorted requirement list", () => {
    const selector = labelSelectorAsSelector({
      matchLabels: { tier: "web", app: "shop" },
      matchExpressions: [
        { key: "env", operator: "In", values: ["prod", "canary"] },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    });
    expect(selector.toString()).toBe("app=shop,env in (canary,prod),!legacy,tier=web");
    expect(selector.matches({ app: "shop", tier: "web", env: "canary" })).toBe(true);
    expect(selector.matches({ app: "shop", tier: "web", env: "canary", legacy: "" })).toBe(false);
  });

  test("refuses an unknown operator and an empty In with upstream's messages", () => {
    expect(() => labelSelectorAsSelector({ matchExpressions: [{ key: "a", operator: "Gt" as "In", values: ["1"] }] })).toThrow(
      '"Gt" is not a valid label selector operator',
    );
    expect(() => labelSelectorAsSelector({ matchExpressions: [{ key: "a", operator: "In" }] })).toThrow(FieldErrorsError);
  });

  test("formats selectors and label sets as kubectl shows them", () => {
    expect(formatLabelSelector({ matchLabels: { app: "web" } })).toBe("app=web");
    expect(formatLabelSelector({})).toBe("<none>");
    expect(formatLabelSelector({ matchLabels: { "a b": "c" } })).toBe("<error>");
    expect(formatLabels({ b: "2", a: "1" })).toBe("a=1,b=2");
    expect(formatLabels({})).toBe("<none>");
    expect(selectorFromSet({ app: "web" }).matches({ app: "web", x: "y" })).toBe(true);
  });

  test("parses a selector string back into matchLabels and matchExpressions", () => {
    expect(parseToLabelSelector("app=web,env in (b,a),!old")).toEqual({
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "env", operator: "In", values: ["a", "b"] },
        { key: "old", operator: "DoesNotExist", values: [] },
      ],
    });
    expect(() => parseToLabelSelector("x>1")).toThrow('"gt" isn\'t supported in label selectors');
    expect(() => parseToLabelSelector("x!=1")).toThrow('"!=" is not a valid label selector operator');
    expect(() => parseToLabelSelector("x in (")).toThrow(/^couldn't parse the selector string "x in \(": /);
  });

  test("converts only single-value In expressions to the old map form", () => {
    expect(labelSelectorAsMap({ matchLabels: { a: "1" }, matchExpressions: [{ key: "b", operator: "In", values: ["2"] }] })).toEqual({ a: "1", b: "2" });
    expect(() => labelSelectorAsMap({ matchExpressions: [{ key: "b", operator: "NotIn", values: ["2"] }] })).toThrow(
      'operator "NotIn" cannot be converted into the old label selector format',
    );
  });
});
