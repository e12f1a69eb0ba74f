/**
 * The part of kubectl's JSONPath templates people use: text with `{...}` actions holding paths
 * (`.metadata.name`, `.items[*].spec.replicas`, `.items[0]`, `.metadata.labels['app']`,
 * `.metadata.labels.app\.kubernetes\.io/name`), string literals (`{"\n"}`) and
 * `{range .items[*]}...{end}`. Several results of one path print space-separated.
 */
import { UsageError } from "./flags.ts";

type Node = { kind: "text"; text: string } | { kind: "path"; path: string } | { kind: "range"; path: string; body: Node[] };

/** Bound on a template's actions: a template is typed by a person. */
const templateActionsMax = 1000;

function parseTemplate(template: string): Node[] {
  const stack: Node[][] = [[]];
  const ranges: string[] = [];
  let actions = 0;
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf("{");
    if (open < 0) {
      stack[stack.length - 1]?.push({ kind: "text", text: rest });
      break;
    }
    if (open > 0) stack[stack.length - 1]?.push({ kind: "text", text: rest.slice(0, open) });
    const close = rest.indexOf("}", open);
    if (close < 0) throw new UsageError(`error parsing jsonpath ${template}, unclosed action`);
    if (++actions > templateActionsMax) throw new UsageError(`jsonpath template has more than ${templateActionsMax} actions`);
    const action = rest.slice(open + 1, close).trim();
    rest = rest.slice(close + 1);
    if (action.startsWith("range ")) {
      ranges.push(action.slice("range ".length).trim());
      stack.push([]);
    } else if (action === "end") {
      const body = stack.pop();
      const path = ranges.pop();
      if (body === undefined || path === undefined || stack.length === 0) throw new UsageError(`error parsing jsonpath ${template}, not in range`);
      stack[stack.length - 1]?.push({ kind: "range", path, body });
    } else if (action.startsWith('"')) {
      stack[stack.length - 1]?.push({ kind: "text", text: JSON.parse(action) as string });
    } else {
      stack[stack.length - 1]?.push({ kind: "path", path: action });
    }
  }
  if (stack.length !== 1) throw new UsageError(`error parsing jsonpath ${template}, unclosed range`);
  return stack[0] ?? [];
}

/** `.a.b[0]['c'].d\.e` → ["a", "b", 0, "c", "d.e"], with "*" for `[*]`. */
function pathSteps(path: string): (string | number)[] {
  const steps: (string | number)[] = [];
  const pattern = /\.((?:\\.|[^.[\]])+)|\[(\*|-?\d+|'[^']*'|"[^"]*")\]/gy;
  const body = path.startsWith("$") ? path.slice(1) : path;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(body)) !== null) {
    if (match[1] !== undefined) steps.push(match[1].replace(/\\(.)/g, "$1"));
    else {
      const inner = match[2] ?? "";
      steps.push(inner === "*" ? "*" : /^-?\d+$/.test(inner) ? Number(inner) : inner.slice(1, -1));
    }
  }
  if (pattern.lastIndex !== body.length && body !== "" && steps.length === 0) throw new UsageError(`error parsing jsonpath {${path}}`);
  return steps;
}

function evaluate(data: unknown, path: string): unknown[] {
  let current: unknown[] = [data];
  for (const step of pathSteps(path)) {
    const next: unknown[] = [];
    for (const value of current) {
      if (step === "*") {
        if (Array.isArray(value)) next.push(...(value as unknown[]));
        else if (value !== null && typeof value === "object") next.push(...Object.values(value));
      } else if (typeof step === "number" && Array.isArray(value)) {
        const item: unknown = value[step < 0 ? value.length + step : step];
        if (item !== undefined) next.push(item);
      } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const item = (value as Record<string, unknown>)[String(step)];
        if (item !== undefined) next.push(item);
      }
    }
    current = next;
  }
  return current;
}

const text = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

function render(nodes: readonly Node[], data: unknown): string {
  let out = "";
  for (const node of nodes) {
    if (node.kind === "text") out += node.text;
    else if (node.kind === "path") out += evaluate(data, node.path).map(text).join(" ");
    else for (const item of evaluate(data, node.path)) out += render(node.body, item);
  }
  return out;
}

/** Runs a kubectl JSONPath template over a JSON value. */
export function jsonPath(template: string, data: unknown): string {
  return render(parseTemplate(template), data);
}
