/**
 * A small reader and writer for scripted tests in the style of cockroachdb/datadriven (used by
 * etcd's raft/testdata): each case is a command line, a `----` separator and the expected
 * output, which ends at the next blank line. Lines starting with `#` outside a case are comments.
 *
 *   add-nodes 3 voters=(1,2,3)
 *   ----
 *   ok
 */
import { assert } from "../assert/index.ts";

export interface Argument {
  /** The word itself for a positional argument. */
  readonly key: string;
  /** False for a bare word, true for `key=value` and `key=(a,b,c)`. */
  readonly named: boolean;
  /** Several for `key=(a,b,c)`, none for `key=()` or a bare word. */
  readonly values: readonly string[];
}

export interface TestCase {
  /** 1-based line of the command, for error messages. */
  readonly line: number;
  /** Comment and blank lines that precede the command, kept verbatim for rewriting. */
  readonly preamble: readonly string[];
  readonly command: string;
  readonly args: readonly Argument[];
  readonly commandLine: string;
  readonly expected: string;
}

export interface Script {
  readonly cases: readonly TestCase[];
  /** Comment and blank lines after the last case. */
  readonly trailer: readonly string[];
}

/** Parses a whole script; throws Error naming the line on malformed input. */
export function parseScript(text: string, fileName: string): Script {
  const lines = text.split("\n");
  const cases: TestCase[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === "" || line.startsWith("#")) {
      preamble.push(line);
      i++;
      continue;
    }
    const commandLine = line;
    const commandLineNumber = i + 1;
    if (lines[i + 1] !== "----") throw new Error(`${fileName}:${commandLineNumber}: expected "----" after the command`);
    i += 2;
    const output: string[] = [];
    while (i < lines.length && (lines[i] as string) !== "") output.push(lines[i++] as string);
    const { command, args } = parseCommandLine(commandLine, `${fileName}:${commandLineNumber}`);
    cases.push({ line: commandLineNumber, preamble, command, args, commandLine, expected: output.join("\n") });
    preamble = [];
  }
  // A file ends with a newline: split() leaves one empty string after it, which is not a line.
  if (preamble[preamble.length - 1] === "") preamble.pop();
  return { cases, trailer: preamble };
}

/** Splits `cmd a b key=v key=(x,y)` into a command and arguments. */
export function parseCommandLine(line: string, where: string): { command: string; args: Argument[] } {
  const tokens = line.trim().match(/[^\s=()]+=\([^)]*\)|\S+/g);
  assert(tokens !== null && tokens.length > 0, "a command line is not empty");
  const [command, ...rest] = tokens as [string, ...string[]];
  const args = rest.map((token): Argument => {
    const equals = token.indexOf("=");
    if (equals < 0) return { key: token, named: false, values: [] };
    const key = token.slice(0, equals);
    let value = token.slice(equals + 1);
    if (value.startsWith("(")) {
      if (!value.endsWith(")")) throw new Error(`${where}: unbalanced parentheses in ${token}`);
      value = value.slice(1, -1);
      return { key, named: true, values: value.split(/[\s,]+/).filter((v) => v !== "") };
    }
    return { key, named: true, values: [value] };
  });
  return { command, args };
}

/** Renders a script with the given outputs (one per case) in place of the expected ones. */
export function renderScript(script: Script, outputs: readonly string[]): string {
  assert(outputs.length === script.cases.length, "one output per test case");
  const lines: string[] = [];
  script.cases.forEach((testCase, index) => {
    lines.push(...testCase.preamble, testCase.commandLine, "----", outputs[index] as string);
  });
  lines.push(...script.trailer);
  return `${lines.join("\n")}\n`;
}
