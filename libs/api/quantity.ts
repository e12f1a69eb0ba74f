/**
 * Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity): exact values with
 * upstream's parsing, canonical printing (`1500m`, `1Gi`, `0.5` prints `500m`), comparison and
 * arithmetic. Immutable: add/sub/neg return new quantities.
 */
import type { ParsedQuantity, QuantityFormat } from "./quantity-parse.ts";
import { compareToInteger, parseQuantityParts } from "./quantity-parse.ts";

const decimalSuffixByExponent: ReadonlyMap<number, string> = new Map([
  [-9, "n"],
  [-6, "u"],
  [-3, "m"],
  [0, ""],
  [3, "k"],
  [6, "M"],
  [9, "G"],
  [12, "T"],
  [15, "P"],
  [18, "E"],
]);

const binarySuffixByPower = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

function removeFactors(value: bigint, factor: bigint): [bigint, number] {
  let result = value;
  let times = 0;
  while (result !== 0n && result % factor === 0n) {
    result /= factor;
    times++;
  }
  return [result, times];
}

// Brings two exact values to a common exponent for comparison and arithmetic.
function align(left: Quantity, right: Quantity): [bigint, bigint, number] {
  const exponent = Math.min(left.exponent, right.exponent);
  return [left.unscaled * 10n ** BigInt(left.exponent - exponent), right.unscaled * 10n ** BigInt(right.exponent - exponent), exponent];
}

/** Divides by 10^shift rounding away from zero (upstream's int64 rounding of scaled values). */
function divideAwayFromZero(value: bigint, shift: number): bigint {
  const divisor = 10n ** BigInt(shift);
  const quotient = value / divisor;
  if (value % divisor === 0n) return quotient;
  return value > 0n ? quotient + 1n : quotient - 1n;
}

export class Quantity {
  /** The value is unscaled × 10^exponent. */
  readonly unscaled: bigint;
  readonly exponent: number;
  readonly format: QuantityFormat;
  readonly #cached: string | undefined;

  private constructor(unscaled: bigint, exponent: number, format: QuantityFormat, cached?: string) {
    this.unscaled = unscaled;
    this.exponent = exponent;
    this.format = format;
    this.#cached = cached;
  }

  /** Parses upstream's syntax; throws QuantityParseError with upstream's message. */
  static parse(text: string): Quantity {
    const parsed: ParsedQuantity = parseQuantityParts(text);
    return new Quantity(parsed.unscaled, parsed.exponent, parsed.format, parsed.cached);
  }

  /** value × 10^scale, e.g. fromScaled(5, -3) is 5m (resource.NewScaledQuantity, DecimalSI). */
  static fromScaled(value: bigint | number, scale: number, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(BigInt(value), scale, format);
  }

  static fromInteger(value: bigint | number, format: QuantityFormat = "DecimalSI"): Quantity {
    return Quantity.fromScaled(value, 0, format);
  }

  static fromMilli(milli: bigint | number, format: QuantityFormat = "DecimalSI"): Quantity {
    return Quantity.fromScaled(milli, -3, format);
  }

  static zero(format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(0n, 0, format);
  }

  sign(): -1 | 0 | 1 {
    return this.unscaled === 0n ? 0 : this.unscaled > 0n ? 1 : -1;
  }

  isZero(): boolean {
    return this.unscaled === 0n;
  }

  compare(other: Quantity): -1 | 0 | 1 {
    const [left, right] = align(this, other);
    return left < right ? -1 : left > right ? 1 : 0;
  }

  equals(other: Quantity): boolean {
    return this.compare(other) === 0;
  }

  /** The sum, in this quantity's format unless this one is zero (then the other's), as upstream. */
  add(other: Quantity): Quantity {
    const [left, right, exponent] = align(this, other);
    return new Quantity(left + right, exponent, this.isZero() ? other.format : this.format);
  }

  sub(other: Quantity): Quantity {
    const [left, right, exponent] = align(this, other);
    return new Quantity(left - right, exponent, this.isZero() ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.unscaled, this.exponent, this.format);
  }

  /** The value in units of 10^scale, rounded away from zero (ScaledValue), as a bigint. */
  scaledValueBig(scale: number): bigint {
    const shift = scale - this.exponent;
    return shift <= 0 ? this.unscaled * 10n ** BigInt(-shift) : divideAwayFromZero(this.unscaled, shift);
  }

  /** The value rounded up to an integer (Value()); exact below 2^53. */
  value(): number {
    return Number(this.scaledValueBig(0));
  }

  /** The value in thousandths, rounded up (MilliValue()); exact below 2^53. */
  milliValue(): number {
    return Number(this.scaledValueBig(-3));
  }

  /** A float approximation (AsApproximateFloat64). */
  approximateFloat(): number {
    return Number(this.unscaled) * 10 ** this.exponent;
  }

  /** The input text when upstream keeps it, else the canonical form. */
  toString(): string {
    return this.#cached ?? this.canonical();
  }

  /** Quantities serialise as their string form. */
  toJSON(): string {
    return this.toString();
  }

  /** Upstream's CanonicalizeBytes: the shortest exact form in the quantity's format. */
  canonical(): string {
    if (this.unscaled === 0n) return "0";
    if (this.format === "BinarySI" && this.#binaryPrintable()) return this.#binaryCanonical();
    return this.#decimalCanonical(this.format === "DecimalExponent" ? "DecimalExponent" : "DecimalSI");
  }

  // Binary form needs an integer of magnitude 1024 or more.
  #binaryPrintable(): boolean {
    if (compareToInteger(this.unscaled, this.exponent, -1024n) > 0 && compareToInteger(this.unscaled, this.exponent, 1024n) < 0) return false;
    return this.exponent >= 0 || this.unscaled % 10n ** BigInt(-this.exponent) === 0n;
  }

  #binaryCanonical(): string {
    const integer = this.exponent >= 0 ? this.unscaled * 10n ** BigInt(this.exponent) : this.unscaled / 10n ** BigInt(-this.exponent);
    const [amount, times] = removeFactors(integer, 1024n);
    // Past Ei upstream finds no suffix and prints the bare number (a quirk kept on purpose).
    return `${amount}${binarySuffixByPower[times] ?? ""}`;
  }

  #decimalCanonical(format: "DecimalSI" | "DecimalExponent"): string {
    let [amount, exponent] = removeFactors(this.unscaled, 10n);
    exponent += this.exponent;
    while (exponent % 3 !== 0) {
      amount *= 10n;
      exponent--;
    }
    if (format === "DecimalExponent") return exponent === 0 ? `${amount}` : `${amount}e${exponent}`;
    // Outside n..E upstream finds no suffix and prints the bare number (a quirk kept on purpose).
    return `${amount}${decimalSuffixByExponent.get(exponent) ?? ""}`;
  }
}

/** Parses a quantity string (resource.ParseQuantity). */
export function parseQuantity(text: string): Quantity {
  return Quantity.parse(text);
}

/** What UnmarshalJSON accepts: a string or a number, surrounding whitespace trimmed. */
export function quantityFromJson(value: string | number): Quantity {
  return Quantity.parse(typeof value === "number" ? String(value) : value.trim());
}

/** The canonical text of a quantity given as text (ParseQuantity then String()). */
export function canonicalQuantity(text: string): string {
  return Quantity.parse(text).toString();
}
