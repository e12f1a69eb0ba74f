/**
 * Reading a resource quantity (k8s.io/apimachinery resource.ParseQuantity): sign, digits,
 * fraction, then a decimal SI suffix (n u m "" k M G T P E), a binary SI suffix (Ki .. Ei) or a
 * decimal exponent (e3, E-6). The value is kept exactly as unscaled × 10^exponent, rounded up
 * (away from zero) to nano units as upstream does.
 */

export type QuantityFormat = "DecimalExponent" | "BinarySI" | "DecimalSI";

export const quantityPattern = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/** Upstream's three error texts (ErrFormatWrong, ErrNumeric, ErrSuffix). */
export const quantityErrors = {
  formatWrong: `quantities must match the regular expression '${quantityPattern}'`,
  numeric: "unable to parse numeric part of quantity",
  suffix: "unable to parse quantity's suffix",
} as const;

/**
 * The largest decimal exponent accepted. Upstream accepts any int32 exponent; beyond this bound
 * the exact arithmetic here would build enormous numbers, so such inputs are refused as numeric
 * errors (no real quantity comes near 1e1000).
 */
export const quantityExponentMax = 1000;

export class QuantityParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QuantityParseError";
  }
}

export interface ParsedQuantity {
  readonly unscaled: bigint;
  readonly exponent: number;
  readonly format: QuantityFormat;
  /** The input, when upstream keeps it as the quantity's string form. */
  readonly cached: string | undefined;
}

interface Parts {
  readonly positive: boolean;
  readonly num: string;
  readonly denom: string;
  readonly suffix: string;
}

const isDigit = (character: string | undefined) => character !== undefined && character >= "0" && character <= "9";
const suffixCharacters = "eEinumkKMGTP";

function skipWhile(text: string, from: number, test: (character: string) => boolean): number {
  let index = from;
  while (index < text.length && test(text.charAt(index))) index++;
  return index;
}

// Upstream's parseQuantityString, step by step; undefined means ErrFormatWrong.
function splitQuantity(text: string): Parts | undefined {
  let position = 0;
  const positive = text.charAt(0) !== "-";
  if (text.charAt(0) === "-" || text.charAt(0) === "+") position = 1;
  position = skipWhile(text, position, (character) => character === "0");
  if (position >= text.length) return { positive, num: "0", denom: "", suffix: "" };
  let end = skipWhile(text, position, isDigit);
  const num = text.slice(position, end) || "0";
  if (end >= text.length) return { positive, num, denom: "", suffix: "" };
  position = end;
  let denom = "";
  if (text.charAt(position) === ".") {
    end = skipWhile(text, position + 1, isDigit);
    denom = text.slice(position + 1, end);
    if (end >= text.length) return { positive, num, denom, suffix: "" };
    position = end;
  }
  const suffixStart = position;
  position = skipWhile(text, position, (character) => suffixCharacters.includes(character));
  if (position >= text.length) return { positive, num, denom, suffix: text.slice(suffixStart) };
  if (text.charAt(position) === "-" || text.charAt(position) === "+") position++;
  position = skipWhile(text, position, isDigit);
  if (position >= text.length) return { positive, num, denom, suffix: text.slice(suffixStart) };
  return undefined;
}

interface Suffix {
  readonly base: 2 | 10;
  readonly exponent: number;
  readonly format: QuantityFormat;
}

const decimalSuffixes: ReadonlyMap<string, number> = new Map([
  ["n", -9],
  ["u", -6],
  ["m", -3],
  ["", 0],
  ["k", 3],
  ["M", 6],
  ["G", 9],
  ["T", 12],
  ["P", 15],
  ["E", 18],
]);

const binarySuffixes: ReadonlyMap<string, number> = new Map([
  ["Ki", 10],
  ["Mi", 20],
  ["Gi", 30],
  ["Ti", 40],
  ["Pi", 50],
  ["Ei", 60],
]);

function interpretSuffix(suffix: string): Suffix | undefined {
  const decimal = decimalSuffixes.get(suffix);
  if (decimal !== undefined) return { base: 10, exponent: decimal, format: "DecimalSI" };
  const binary = binarySuffixes.get(suffix);
  if (binary !== undefined) return { base: 2, exponent: binary, format: "BinarySI" };
  if (suffix.length > 1 && (suffix.charAt(0) === "e" || suffix.charAt(0) === "E") && /^[+-]?[0-9]+$/.test(suffix.slice(1))) {
    const parsed = BigInt(suffix.slice(1));
    if (parsed < -(2n ** 63n) || parsed >= 2n ** 63n) return undefined;
    // Upstream converts the int64 to int32, wrapping.
    return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)), format: "DecimalExponent" };
  }
  return undefined;
}

// Whether upstream's int64 fast path takes the input and keeps the input text as the string form.
function keepsInputText(parts: Parts, suffix: Suffix, magnitude: bigint): boolean {
  const digits = parts.num + parts.denom;
  if (suffix.format === "BinarySI") {
    if (parts.denom.length > 0) return false;
    const precision = 15 - parts.num.length - Math.trunc((suffix.exponent * 3) / 10) - 1;
    const fits = magnitude <= 2n ** 63n - 1n;
    return precision >= 0 && fits && (BigInt(parts.num) & 7n) !== 0n;
  }
  const scale = suffix.exponent - parts.denom.length;
  const precision = 18 - digits.length;
  return precision >= 0 && scale >= -9 && scale % 3 === 0 && !digits.endsWith("000") && !digits.startsWith("0");
}

function roundUpToNano(unscaled: bigint, exponent: number): [bigint, number] {
  if (exponent >= -9 || unscaled === 0n) return [unscaled, exponent];
  const shift = -9 - exponent;
  // Anything below one nano unit rounds up to one nano unit; skip building 10^shift then.
  if (shift > unscaled.toString().length + 1) return [1n, -9];
  const divisor = 10n ** BigInt(shift);
  const quotient = unscaled / divisor;
  return [unscaled % divisor === 0n ? quotient : quotient + 1n, -9];
}

const binaryMax = 2n ** 63n - 1n;

/** Compares unscaled × 10^exponent with an integer: -1, 0 or 1. */
export function compareToInteger(unscaled: bigint, exponent: number, integer: bigint): number {
  const left = exponent >= 0 ? unscaled * 10n ** BigInt(exponent) : unscaled;
  const right = exponent >= 0 ? integer : integer * 10n ** BigInt(-exponent);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Parses a quantity; throws QuantityParseError with upstream's message. */
export function parseQuantityParts(text: string): ParsedQuantity {
  if (text.length === 0) throw new QuantityParseError(quantityErrors.formatWrong);
  if (text === "0") return { unscaled: 0n, exponent: 0, format: "DecimalSI", cached: "0" };
  const parts = splitQuantity(text);
  if (parts === undefined) throw new QuantityParseError(quantityErrors.formatWrong);
  const suffix = interpretSuffix(parts.suffix);
  if (suffix === undefined) throw new QuantityParseError(quantityErrors.suffix);
  let exponent = -parts.denom.length;
  let magnitude = BigInt(parts.num + parts.denom);
  if (suffix.base === 2) magnitude *= 2n ** BigInt(suffix.exponent);
  else exponent += suffix.exponent;
  if (Math.abs(exponent) > quantityExponentMax) throw new QuantityParseError(quantityErrors.numeric);
  const cached = keepsInputText(parts, suffix, magnitude) ? text : undefined;
  [magnitude, exponent] = roundUpToNano(magnitude, exponent);
  let format = suffix.format;
  if (format === "BinarySI") {
    // Binary quantities saturate at the largest int64, and one below 1 prints in decimal
    // (0.5Ki is 512, but .001Ki is 1024m).
    if (compareToInteger(magnitude, exponent, binaryMax) > 0) [magnitude, exponent] = [binaryMax, 0];
    if (magnitude !== 0n && compareToInteger(magnitude, exponent, 1n) < 0) format = "DecimalSI";
  }
  return { unscaled: parts.positive ? magnitude : -magnitude, exponent, format, cached };
}
