import { describe, expect, it } from "vitest";
import { FlagError, flagsHelp, parseFlags, type FlagSpecs } from "./index.ts";

const specs = {
  name: { type: "string", default: "default", help: "member name" },
  "snapshot-count": { type: "integer", default: 100_000, min: 1, help: "entries between snapshots" },
  "initial-cluster-state": { type: "enum", values: ["new", "existing"], default: "new", help: "state" },
  "listen-client-urls": { type: "list", default: ["http://localhost:2379"], help: "client URLs" },
  debug: { type: "boolean", default: false, help: "debug logs" },
} as const satisfies FlagSpecs;

describe("parseFlags", () => {
  it("returns defaults for flags not given and records which were given", () => {
    const parsed = parseFlags(specs, ["--name=a"]);
    expect(parsed.values.name).toBe("a");
    expect(parsed.values["snapshot-count"]).toBe(100_000);
    expect([...parsed.given]).toEqual(["name"]);
  });

  it("accepts both --flag value and --flag=value and splits lists on commas", () => {
    const parsed = parseFlags(specs, ["--listen-client-urls", "http://a:1,http://b:2", "--listen-client-urls=http://c:3", "--debug"]);
    expect(parsed.values["listen-client-urls"]).toEqual(["http://a:1", "http://b:2", "http://c:3"]);
    expect(parsed.values.debug).toBe(true);
  });

  it("names the flag when an integer is malformed or out of bounds", () => {
    expect(() => parseFlags(specs, ["--snapshot-count", "abc"])).toThrow('flag --snapshot-count: invalid value "abc": not an integer');
    expect(() => parseFlags(specs, ["--snapshot-count", "0"])).toThrow("flag --snapshot-count: invalid value 0: must be at least 1");
  });

  it("names the flag when an enum value is not allowed", () => {
    expect(() => parseFlags(specs, ["--initial-cluster-state", "bad"])).toThrow(/--initial-cluster-state: invalid value "bad" \(want one of new, existing\)/);
  });

  it("refuses an unknown flag, naming it", () => {
    const attempt = () => parseFlags(specs, ["--bogus"]);
    expect(attempt).toThrow(FlagError);
    expect(attempt).toThrow(/'--bogus'/);
  });

  it("prints every flag with its default in the help text", () => {
    const help = flagsHelp("flotilla store [flags]", specs);
    expect(help).toContain("--snapshot-count");
    expect(help).toContain("(default 100000)");
  });
});
