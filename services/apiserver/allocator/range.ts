/**
 * The ranges services draw from, as upstream's allocators see them: an IPv4 service CIDR whose
 * usable addresses exclude the network and broadcast addresses (offset 0 is the first usable
 * address, 10.96.0.1 in 10.96.0.0/12, the `kubernetes` service's), and a node port range. Each
 * is a bitmap of taken offsets. Dynamic picks prefer the upper band of the range and leave the
 * lower band (upstream's static subrange: min(max(16, size/16), 256) offsets) to requested values
 * such as the DNS service's 10.96.0.10. Pure: the random start comes from an injected Prng.
 */
import type { Prng } from "../../../libs/prng/index.ts";

/** Bits a range may hold: a /12 (upstream's largest allowed IPv4 service range is a /12). */
export const rangeSizeMax = 1 << 20;
const staticBandMin = 16;
const staticBandMax = 256;
const staticBandDivisor = 16;
const nodePortBandDivisor = 32;
const nodePortBandMax = 128;

export interface AllocationRange {
  /** What the stored RangeAllocation's `range` says: `10.96.0.0/12` or `30000-32767`. */
  readonly text: string;
  readonly size: number;
  /** The value at offset i (an IP or a port) as text, and back; undefined outside the range. */
  valueAt(offset: number): string;
  offsetOf(value: string): number | undefined;
}

function ipv4ToNumber(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** An IPv4 CIDR such as 10.96.0.0/12; throws on anything else or a range too large or small. */
export function parseServiceCidr(cidr: string): AllocationRange {
  const [address = "", prefixText = ""] = cidr.split("/");
  const base = ipv4ToNumber(address);
  const prefix = Number(prefixText);
  if (base === undefined || !/^\d+$/.test(prefixText) || prefix > 30) throw new Error(`service CIDR ${cidr}: want an IPv4 CIDR with a prefix of at most /30`);
  const total = 2 ** (32 - prefix);
  if (total - 2 > rangeSizeMax) throw new Error(`service CIDR ${cidr} is larger than a /12`);
  const network = base - (base % total);
  const size = total - 2;
  return {
    text: `${numberToIpv4(network)}/${prefix}`,
    size,
    valueAt: (offset) => numberToIpv4(network + 1 + offset),
    offsetOf: (value) => {
      const number = ipv4ToNumber(value);
      if (number === undefined) return undefined;
      const offset = number - network - 1;
      return offset >= 0 && offset < size ? offset : undefined;
    },
  };
}

/** A port range such as 30000-32767. */
export function parsePortRange(text: string): AllocationRange {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (match === null || first < 1 || last > 65535 || last < first) throw new Error(`node port range ${text}: want FIRST-LAST within 1-65535`);
  return {
    text: `${first}-${last}`,
    size: last - first + 1,
    valueAt: (offset) => String(first + offset),
    offsetOf: (value) => {
      if (!/^\d+$/.test(value)) return undefined;
      const port = Number(value);
      return port >= first && port <= last ? port - first : undefined;
    },
  };
}

export function bitIsSet(bitmap: Uint8Array, offset: number): boolean {
  return ((bitmap[offset >> 3] ?? 0) & (1 << (offset & 7))) !== 0;
}

export function withBit(bitmap: Uint8Array, offset: number, set: boolean): Uint8Array {
  const copy = new Uint8Array(bitmap);
  const index = offset >> 3;
  const byte = copy[index] ?? 0;
  copy[index] = set ? byte | (1 << (offset & 7)) : byte & ~(1 << (offset & 7));
  return copy;
}

export function emptyBitmap(size: number): Uint8Array {
  return new Uint8Array(Math.ceil(size / 8));
}

/** upstream's static band of service IPs: the lower offsets dynamic picks use only when the upper band is full. */
export function staticBandSize(size: number): number {
  return Math.min(Math.max(staticBandMin, Math.floor(size / staticBandDivisor)), staticBandMax, size);
}

/** upstream's static band of node ports: min(max(16, size/32), 128). */
export function nodePortStaticBandSize(size: number): number {
  return Math.min(Math.max(staticBandMin, Math.floor(size / nodePortBandDivisor)), nodePortBandMax, size);
}

function scan(bitmap: Uint8Array, from: number, to: number, start: number): number | undefined {
  const length = to - from;
  for (let step = 0; step < length; step++) {
    const offset = from + ((start - from + step) % length);
    if (!bitIsSet(bitmap, offset)) return offset;
  }
  return undefined;
}

/** A free offset: from a random point in the upper band, then the lower band; undefined when full. */
export function pickFree(bitmap: Uint8Array, size: number, prng: Prng, bandSize: (size: number) => number = staticBandSize): number | undefined {
  const band = size > staticBandMin * 2 ? bandSize(size) : 0;
  if (band < size) {
    const upper = scan(bitmap, band, size, band + prng.nextInt(size - band));
    if (upper !== undefined) return upper;
  }
  return band === 0 ? undefined : scan(bitmap, 0, band, prng.nextInt(band));
}
