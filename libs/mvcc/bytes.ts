/**
 * Keys inside the store are "binary strings": one UTF-16 code unit per byte (0..255). JavaScript
 * compares such strings code unit by code unit, which is exactly bytewise order, and they are
 * cheap Map keys. Requests and responses carry Uint8Array; conversion happens at the edge.
 */

/** fromCharCode takes its bytes as arguments; chunking keeps the argument list bounded. */
const charCodeChunkBytesMax = 8192;

export const emptyBytes: Uint8Array = new Uint8Array(0);

/**
 * A fresh copy. Not `bytes.slice()`: on a Node Buffer (what gRPC hands out) slice is a view, which
 * would alias the caller's memory and pin the whole request buffer.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export function bytesToBinary(bytes: Uint8Array): string {
  if (bytes.length <= charCodeChunkBytesMax) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let text = "";
  for (let offset = 0; offset < bytes.length; offset += charCodeChunkBytesMax) {
    const chunk = bytes.subarray(offset, offset + charCodeChunkBytesMax);
    text += String.fromCharCode.apply(null, chunk as unknown as number[]);
  }
  return text;
}

export function binaryToBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Bytewise comparison, like Go's bytes.Compare: negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] as number) - (b[i] as number);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/**
 * The range end that selects every key starting with `prefix` (etcd's clientv3.GetPrefixRangeEnd):
 * the prefix with its last non-0xff byte incremented; "\0" (all keys) when no such byte exists.
 */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const end = copyBytes(prefix.subarray(0, i + 1));
      end[i] = (end[i] as number) + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}

export const utf8Encoder = new TextEncoder();
export const utf8Decoder = new TextDecoder();

/** Test and tooling convenience: UTF-8 bytes of a string. */
export function bytesOf(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * A key span in etcd's three shapes, decoded once from (key, range_end): `end === null` selects the
 * single key `start`; `end === ""` selects every key >= start (range_end "\0"); otherwise [start, end).
 */
export interface KeySpan {
  readonly start: string;
  readonly end: string | null;
}

export function keySpan(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeySpan {
  const start = bytesToBinary(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start, end: null };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: "" };
  return { start, end: bytesToBinary(rangeEnd) };
}

export function spanContains(span: KeySpan, key: string): boolean {
  if (span.end === null) return key === span.start;
  return key >= span.start && (span.end === "" || key < span.end);
}
