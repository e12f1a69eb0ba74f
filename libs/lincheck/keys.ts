/**
 * etcd key ranges over string keys. etcd compares keys as bytes; UTF-8 byte order is code point
 * order, which differs from JavaScript's UTF-16 code unit order only for characters beyond the
 * BMP against U+E000..U+FFFF, so compareKeys corrects exactly that case.
 */

/** Negative, zero or positive as `a` sorts before, with or after `b` in etcd's byte order. */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const unitA = a.charCodeAt(i);
    const unitB = b.charCodeAt(i);
    if (unitA === unitB) continue;
    if (unitA >= 0xd800 && unitB >= 0xd800) return codePointOrderFixup(unitA) - codePointOrderFixup(unitB);
    return unitA - unitB;
  }
  return a.length - b.length;
}

// Surrogates (0xD800..0xDFFF) encode code points above U+FFFF, so they must sort after
// U+E000..U+FFFF: shift the one group below the other.
function codePointOrderFixup(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * etcd's range rule: no range end (or an empty one) is the key alone; "\0" is every key >= key;
 * anything else is [key, rangeEnd).
 */
export function keyInRange(candidate: string, key: string, rangeEnd: string | undefined): boolean {
  if (rangeEnd === undefined || rangeEnd === "") return candidate === key;
  if (compareKeys(candidate, key) < 0) return false;
  return rangeEnd === "\0" || compareKeys(candidate, rangeEnd) < 0;
}
