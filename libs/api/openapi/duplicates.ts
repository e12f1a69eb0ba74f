/**
 * Duplicate keys in a JSON text, by path (`spec.replicas`, `spec.containers[0].image`): JSON.parse
 * keeps the last value silently, but upstream's strict decoding reports every repeated field.
 * The text must already be valid JSON (the caller parsed it); the scan only tracks structure.
 */

/** Duplicates reported at most. */
export const duplicateFieldsReportedMax = 100;

interface ObjectFrame {
  readonly kind: "object";
  readonly path: string;
  readonly keys: Set<string>;
  key: string;
  expectKey: boolean;
}

interface ArrayFrame {
  readonly kind: "array";
  readonly path: string;
  index: number;
}

type Frame = ObjectFrame | ArrayFrame;

function childPath(frame: Frame | undefined): string {
  if (frame === undefined) return "";
  if (frame.kind === "array") return `${frame.path}[${frame.index}]`;
  return frame.path === "" ? frame.key : `${frame.path}.${frame.key}`;
}

/** The index just past the string literal starting at `start` (a `"`). */
function stringEnd(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === "\\") index += 2;
    else if (char === '"') return index + 1;
    else index += 1;
  }
  return text.length;
}

function readKey(frame: ObjectFrame, literal: string, duplicates: string[]): void {
  const key = JSON.parse(literal) as string;
  frame.key = key;
  frame.expectKey = false;
  if (!frame.keys.has(key)) frame.keys.add(key);
  else if (duplicates.length < duplicateFieldsReportedMax) duplicates.push(childPath(frame));
}

/** Paths of repeated keys, in text order. */
export function findDuplicateFields(text: string): string[] {
  const duplicates: string[] = [];
  const stack: Frame[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    const top = stack[stack.length - 1];
    if (char === "{" || char === "[") {
      const path = childPath(top);
      stack.push(char === "{" ? { kind: "object", path, keys: new Set(), key: "", expectKey: true } : { kind: "array", path, index: 0 });
      index += 1;
    } else if (char === "}" || char === "]") {
      stack.pop();
      index += 1;
    } else if (char === ",") {
      if (top?.kind === "array") top.index += 1;
      else if (top?.kind === "object") top.expectKey = true;
      index += 1;
    } else if (char === '"') {
      const end = stringEnd(text, index);
      if (top?.kind === "object" && top.expectKey) readKey(top, text.slice(index, end), duplicates);
      index = end;
    } else {
      index += 1;
    }
  }
  return duplicates;
}
