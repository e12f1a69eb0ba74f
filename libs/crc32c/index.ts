/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum etcd's hashKV uses
 * (Go's crc32.MakeTable(crc32.Castagnoli)). Slicing-by-8 tables: eight bytes per step, which keeps
 * snapshot checksums of hundreds of megabytes to well under a second.
 */

const castagnoliReflected = 0x82f63b78;
const sliceTables = 8;

function makeTables(): Uint32Array[] {
  const tables: Uint32Array[] = [];
  const first = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ castagnoliReflected : crc >>> 1;
    first[byte] = crc >>> 0;
  }
  tables.push(first);
  for (let t = 1; t < sliceTables; t++) {
    const previous = tables[t - 1] as Uint32Array;
    const table = new Uint32Array(256);
    for (let byte = 0; byte < 256; byte++) {
      const value = previous[byte] as number;
      table[byte] = ((value >>> 8) ^ (first[value & 0xff] as number)) >>> 0;
    }
    tables.push(table);
  }
  return tables;
}

const [t0, t1, t2, t3, t4, t5, t6, t7] = makeTables() as [
  Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
];

/** Continues a CRC-32C: `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`. Start from 0. */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  let i = 0;
  const fastEnd = bytes.length - (bytes.length % 8);
  while (i < fastEnd) {
    const low = (crc ^ ((bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24))) >>> 0;
    crc =
      (t7[low & 0xff] as number) ^
      (t6[(low >>> 8) & 0xff] as number) ^
      (t5[(low >>> 16) & 0xff] as number) ^
      (t4[low >>> 24] as number) ^
      (t3[bytes[i + 4] as number] as number) ^
      (t2[bytes[i + 5] as number] as number) ^
      (t1[bytes[i + 6] as number] as number) ^
      (t0[bytes[i + 7] as number] as number);
    i += 8;
  }
  for (; i < bytes.length; i++) crc = (t0[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** A running CRC-32C over several byte arrays, for hashing without concatenating them. */
export class Crc32c {
  #crc = 0;

  update(bytes: Uint8Array): this {
    this.#crc = crc32c(bytes, this.#crc);
    return this;
  }

  digest(): number {
    return this.#crc;
  }
}
