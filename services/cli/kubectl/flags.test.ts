import { describe, expect, it } from "vitest";
import { flagBool, flagInt, flagList, flagValue, parseArgs, UsageError } from "./flags.ts";

const spec = { booleans: ["all-namespaces", "watch"], values: ["output", "label-columns", "filename"], shorts: { A: "all-namespaces", o: "output", L: "label-columns", f: "filename", w: "watch" } };

describe("parseArgs", () => {
  it("reads long flags with = or a separate value, short flags joined or apart, and positionals", () => {
    const parsed = parseArgs(["get", "-n", "demo", "pods", "--output=wide", "-Lapp", "-L", "tier,zone", "-A"], spec);
    expect(parsed.positionals).toEqual(["get", "pods"]);
    expect(flagValue(parsed, "namespace")).toBe("demo");
    expect(flagValue(parsed, "output")).toBe("wide");
    expect(flagList(parsed, "label-columns")).toEqual(["app", "tier", "zone"]);
    expect(flagBool(parsed, "all-namespaces")).toBe(true);
    expect(flagBool(parsed, "watch")).toBe(false);
  });

  it("keeps everything after -- as trailing arguments", () => {
    const parsed = parseArgs(["run", "x", "--", "sleep", "-n", "1"], spec);
    expect(parsed.positionals).toEqual(["run", "x"]);
    expect(parsed.trailing).toEqual(["sleep", "-n", "1"]);
    expect(parsed.flags.has("namespace")).toBe(false);
  });

  it("refuses unknown flags, a missing value and a non-integer", () => {
    expect(() => parseArgs(["--bogus"], spec)).toThrow(UsageError);
    expect(() => parseArgs(["-z"], spec)).toThrow("unknown shorthand flag: 'z'");
    expect(() => parseArgs(["-o"], spec)).toThrow("flag needs an argument: --output");
    expect(() => flagInt(parseArgs(["-o", "x"], spec), "output")).toThrow("invalid argument");
  });
});
