import { describe, expect, it } from "vitest";
import { parseCommandLine, parseScript, renderScript } from "./datadriven.ts";

const script = `# a comment
add-nodes 3 voters=(1,2,3) prevote=true
----
ok

# another
campaign 1
----
line one
  line two
`;

describe("datadriven scripts", () => {
  it("parses commands, arguments and expected output", () => {
    const parsed = parseScript(script, "test.txt");
    expect(parsed.cases.map((c) => [c.command, c.line, c.expected])).toEqual([
      ["add-nodes", 2, "ok"],
      ["campaign", 7, "line one\n  line two"],
    ]);
    expect(parsed.cases[0]?.args).toEqual([
      { key: "3", named: false, values: [] },
      { key: "voters", named: true, values: ["1", "2", "3"] },
      { key: "prevote", named: true, values: ["true"] },
    ]);
  });

  it("renders a script back unchanged when the outputs are the expected ones", () => {
    const parsed = parseScript(script, "test.txt");
    expect(renderScript(parsed, parsed.cases.map((c) => c.expected))).toBe(script);
  });

  it("renders new outputs in place of the old ones", () => {
    const parsed = parseScript(script, "test.txt");
    expect(renderScript(parsed, ["ok", "changed"])).toContain("campaign 1\n----\nchanged\n");
  });

  it("accepts empty and space-separated lists", () => {
    expect(parseCommandLine("add-nodes 1 voters=() learners=(4 5)", "here").args).toEqual([
      { key: "1", named: false, values: [] },
      { key: "voters", named: true, values: [] },
      { key: "learners", named: true, values: ["4", "5"] },
    ]);
  });

  it("names the line of a command without a separator", () => {
    expect(() => parseScript("campaign 1\nok\n", "bad.txt")).toThrow(/bad.txt:1/);
  });
});
