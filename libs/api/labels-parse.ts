/**
 * The label selector grammar of k8s.io/apimachinery pkg/labels, with its error messages:
 *
 *   selector    = [requirement {"," requirement}]
 *   requirement = ["!"] key | key op value | key ("in" | "notin") "(" [values] ")"
 *   op          = "=" | "==" | "!=" | ">" | "<"
 *
 * Identifiers run until whitespace or one of `=!(),<>`; "in" and "notin" are keywords only where
 * an operator is expected. Errors read like upstream's: `found '=', expected: ',' or 'end of string'`.
 */
import { errorString, FieldErrorsError } from "./field-errors.ts";
import { sortedUnique } from "./go-format.ts";
import { labelKeyError, newRequirement, type Requirement, type SelectorOperator } from "./labels-requirement.ts";

/** Longest selector string accepted; a bound on the tokens and requirements of one parse. */
export const selectorBytesMax = 64 * 1024;

/** A selector string that does not parse; the message is upstream's. */
export class SelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SelectorParseError";
  }
}

type Token = "error" | "end" | ")" | "," | "!" | "==" | "=" | ">" | "identifier" | "in" | "<" | "!=" | "notin" | "(";

interface Scanned {
  readonly token: Token;
  readonly literal: string;
}

const literalTokens: ReadonlyMap<string, Token> = new Map<string, Token>([
  [")", ")"],
  [",", ","],
  ["!", "!"],
  ["==", "=="],
  ["=", "="],
  [">", ">"],
  ["in", "in"],
  ["<", "<"],
  ["!=", "!="],
  ["notin", "notin"],
  ["(", "("],
]);

const specialCharacters = new Set(["=", "!", "(", ")", ",", ">", "<"]);
const whitespace = new Set([" ", "\t", "\r", "\n"]);

// Go scans bytes; all special characters and whitespace are ASCII, so scanning UTF-16 units
// splits identifiers at the same places.
function scanSpecial(text: string, start: number): [Scanned, number] {
  let buffer = "";
  let last: Scanned | undefined;
  let position = start;
  while (position < text.length && specialCharacters.has(text.charAt(position))) {
    buffer += text.charAt(position);
    const token = literalTokens.get(buffer);
    if (token !== undefined) last = { token, literal: buffer };
    else if (last !== undefined) break;
    position++;
  }
  if (last === undefined) return [{ token: "error", literal: `error expected: keyword found '${buffer}'` }, position];
  return [last, start + last.literal.length];
}

function scanWord(text: string, start: number): [Scanned, number] {
  let position = start;
  while (position < text.length && !specialCharacters.has(text.charAt(position)) && !whitespace.has(text.charAt(position))) position++;
  const word = text.slice(start, position);
  return [{ token: literalTokens.get(word) ?? "identifier", literal: word }, position];
}

/** Splits a selector into tokens, ending with an "end" token. */
export function scanSelector(text: string): Scanned[] {
  const items: Scanned[] = [];
  let position = 0;
  // Every token but the last consumes at least one character, so this loop ends.
  for (;;) {
    while (position < text.length && whitespace.has(text.charAt(position))) position++;
    if (position >= text.length) {
      items.push({ token: "end", literal: "" });
      return items;
    }
    const [item, next] = specialCharacters.has(text.charAt(position)) ? scanSpecial(text, position) : scanWord(text, position);
    items.push(item);
    // An unknown run of special characters consumes nothing; step over it so the scan ends.
    position = next > position ? next : position + 1;
  }
}

class Parser {
  readonly #items: Scanned[];
  #position = 0;

  constructor(items: Scanned[]) {
    this.#items = items;
  }

  // In a value position the keywords are plain identifiers ("a in (in,notin)").
  #read(asValue: boolean, advance: boolean): Scanned {
    const item = this.#items[Math.min(this.#position, this.#items.length - 1)] ?? { token: "end", literal: "" };
    if (advance) this.#position++;
    if (asValue && (item.token === "in" || item.token === "notin")) return { token: "identifier", literal: item.literal };
    return item;
  }

  lookahead(asValue = true): Scanned {
    return this.#read(asValue, false);
  }

  consume(asValue = true): Scanned {
    return this.#read(asValue, true);
  }
}

export function parseRequirements(text: string): Requirement[] {
  if (text.length > selectorBytesMax) throw new SelectorParseError(`selector is longer than ${selectorBytesMax} bytes`);
  const parser = new Parser(scanSelector(text));
  const requirements: Requirement[] = [];
  for (;;) {
    const next = parser.lookahead();
    if (next.token === "end") return requirements;
    if (next.token !== "identifier" && next.token !== "!") {
      throw new SelectorParseError(`found '${next.literal}', expected: !, identifier, or 'end of string'`);
    }
    requirements.push(parseRequirement(parser));
    const after = parser.consume();
    if (after.token === "end") return requirements;
    if (after.token !== ",") throw new SelectorParseError(`found '${after.literal}', expected: ',' or 'end of string'`);
    const following = parser.lookahead();
    if (following.token !== "identifier" && following.token !== "!") {
      throw new SelectorParseError(`found '${following.literal}', expected: identifier after ','`);
    }
  }
}

function requirementOrThrow(key: string, operator: SelectorOperator, values: string[]): Requirement {
  try {
    return newRequirement(key, operator, values);
  } catch (error) {
    if (error instanceof FieldErrorsError) throw new SelectorParseError(`unable to parse requirement: ${error.message}`);
    throw error;
  }
}

function parseRequirement(parser: Parser): Requirement {
  let item = parser.consume();
  let negated = false;
  if (item.token === "!") {
    negated = true;
    item = parser.consume();
  }
  if (item.token !== "identifier") throw new SelectorParseError(`unable to parse requirement: found '${item.literal}', expected: identifier`);
  const key = item.literal;
  requirementKeyCheck(key);
  const following = parser.lookahead().token;
  if (negated) return requirementOrThrow(key, "!", []);
  if (following === "end" || following === ",") return requirementOrThrow(key, "exists", []);
  const operator = parseOperator(parser);
  const values = operator === "in" || operator === "notin" ? parseValueList(parser) : parseExactValue(parser);
  return requirementOrThrow(key, operator, sortedUnique(values));
}

// Upstream checks the key before reading the operator, with a nil field path ("<nil>").
function requirementKeyCheck(key: string): void {
  const problem = labelKeyError(key, "<nil>");
  if (problem !== undefined) throw new SelectorParseError(`unable to parse requirement: ${errorString(problem)}`);
}

const operatorsByToken: ReadonlyMap<Token, SelectorOperator> = new Map<Token, SelectorOperator>([
  ["in", "in"],
  ["=", "="],
  ["==", "=="],
  [">", "gt"],
  ["<", "lt"],
  ["notin", "notin"],
  ["!=", "!="],
]);

function parseOperator(parser: Parser): SelectorOperator {
  const item = parser.consume(false);
  const operator = operatorsByToken.get(item.token);
  if (operator === undefined) {
    throw new SelectorParseError(`unable to parse requirement: found '${item.literal}', expected: in, notin, =, ==, !=, gt, lt`);
  }
  return operator;
}

function parseValueList(parser: Parser): string[] {
  const open = parser.consume();
  if (open.token !== "(") throw new SelectorParseError(`unable to parse requirement: found '${open.literal}' expected: '('`);
  const first = parser.lookahead();
  if (first.token === ")") {
    parser.consume();
    return [""];
  }
  if (first.token !== "identifier" && first.token !== ",") {
    throw new SelectorParseError(`unable to parse requirement: found '${first.literal}', expected: ',', ')' or identifier`);
  }
  const values = parseIdentifiers(parser);
  if (parser.consume().token !== ")") throw new SelectorParseError(`unable to parse requirement: found '${first.literal}', expected: ')'`);
  return values;
}

// Inside "( ... )": empty items between commas are empty-string values, as upstream's "(a,,b)".
function parseIdentifiers(parser: Parser): string[] {
  const values: string[] = [];
  for (;;) {
    const item = parser.consume();
    if (item.token === "identifier") {
      values.push(item.literal);
      const next = parser.lookahead();
      if (next.token === ",") continue;
      if (next.token === ")") return values;
      throw new SelectorParseError(`unable to parse requirement: found '${next.literal}', expected: ',' or ')'`);
    }
    if (item.token !== ",") throw new SelectorParseError(`unable to parse requirement: found '${item.literal}', expected: ',', or identifier`);
    if (values.length === 0) values.push("");
    const next = parser.lookahead().token;
    if (next === ")") {
      values.push("");
      return values;
    }
    if (next === ",") values.push("");
  }
}

function parseExactValue(parser: Parser): string[] {
  const next = parser.lookahead().token;
  if (next === "end" || next === ",") return [""];
  const item = parser.consume();
  if (item.token === "identifier") return [item.literal];
  throw new SelectorParseError(`unable to parse requirement: found '${item.literal}', expected: identifier`);
}
