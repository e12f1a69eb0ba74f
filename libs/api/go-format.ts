/**
 * Go's text conventions, reproduced where upstream's messages show them to people and tools:
 * strconv.Quote (`%q`), fmt's `%v` for numbers, encoding/json's HTML-safe escaping, and Go's
 * byte-wise string order (sort.Strings), which differs from JavaScript's UTF-16 order.
 */

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const printableRune = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const shortEscapes: ReadonlyMap<number, string> = new Map([
  [0x07, "\\a"],
  [0x08, "\\b"],
  [0x0c, "\\f"],
  [0x0a, "\\n"],
  [0x0d, "\\r"],
  [0x09, "\\t"],
  [0x0b, "\\v"],
  [0x5c, "\\\\"],
  [0x22, '\\"'],
]);

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, "0");
}

/** Go's strconv.Quote: what `%q` prints for a string. Lone surrogates print as U+FFFD, as Go decodes them. */
export function goQuote(text: string): string {
  let out = '"';
  for (const character of text) {
    let rune = character.codePointAt(0) ?? 0xfffd;
    if (rune >= 0xd800 && rune <= 0xdfff) rune = 0xfffd;
    const escape = shortEscapes.get(rune);
    if (escape !== undefined) out += escape;
    else if (rune < 0x20 || rune === 0x7f) out += `\\x${hex(rune, 2)}`;
    else if (printableRune.test(String.fromCodePoint(rune))) out += String.fromCodePoint(rune);
    else if (rune < 0x10000) out += `\\u${hex(rune, 4)}`;
    else out += `\\U${hex(rune, 8)}`;
  }
  return `${out}"`;
}

/** fmt's `%v` for a float64 or an integer: shortest digits, exponent form below 1e-4 and from 1e21 on. */
export function goNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [mantissa = "0", exponentText = "0"] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 21) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return String(value);
}

/** encoding/json's output for a JSON value: JSON.stringify plus Go's escaping of <, >, & and U+2028/9. */
export function goJson(value: unknown): string {
  const text = JSON.stringify(value) ?? "null";
  return text.replace(/[<>&\u2028\u2029]/g, (character) => `\\u${hex(character.charCodeAt(0), 4)}`);
}

// Maps a UTF-16 code unit so that numeric order equals code point (and so UTF-8 byte) order:
// surrogates (D800-DFFF) move above E000-FFFF.
function codePointOrderUnit(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Go's string comparison (bytes of UTF-8, i.e. code point order): -1, 0 or 1. */
export function compareStrings(left: string, right: string): number {
  if (left === right) return 0;
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const leftUnit = left.charCodeAt(index);
    const rightUnit = right.charCodeAt(index);
    if (leftUnit !== rightUnit) return codePointOrderUnit(leftUnit) < codePointOrderUnit(rightUnit) ? -1 : 1;
  }
  return left.length < right.length ? -1 : left.length > right.length ? 1 : 0;
}

/** Go's len() of a string: its length in UTF-8 bytes (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const character of text) {
    const rune = character.codePointAt(0) ?? 0;
    if (rune < 0x80) bytes += 1;
    else if (rune < 0x800) bytes += 2;
    else if (rune < 0x10000) bytes += 3;
    else bytes += 4;
  }
  return bytes;
}

/** Sorted copy of a string list in Go's order, duplicates removed (sets.String.List()). */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareStrings);
}
