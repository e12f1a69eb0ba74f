/**
 * CRC-32C (Castagnoli), the checksum LevelDB, etcd's WAL and iSCSI use. Table-driven with
 * "slicing by 4": four 256-entry tables let the inner loop consume four bytes per step, which
 * matters because every snapshot read back from disk is checksummed in full.
 */

/** The Castagnoli polynomial 0x1EDC6F41, bit-reversed for the LSB-first algorithm. */
const castagnoliReversed = 0x82f63b78;
const tableEntries = 256;
const tableCount = 4;

function buildTables(): Uint32Array[] {
  const tables: Uint32Array[] = [];
  for (let t = 0; t < tableCount; t++) tables.push(new Uint32Array(tableEntries));
  const first = tables[0] as Uint32Array;
  for (let byte = 0; byte < tableEntries; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ castagnoliReversed : crc >>> 1;
    first[byte] = crc >>> 0;
  }
  // tables[t][b] is the CRC of byte b followed by t zero bytes: it lets one step fold in 4 bytes.
  for (let t = 1; t < tableCount; t++) {
    const previous = tables[t - 1] as Uint32Array;
    const current = tables[t] as Uint32Array;
    for (let byte = 0; byte < tableEntries; byte++) {
      const crc = previous[byte] as number;
      current[byte] = ((crc >>> 8) ^ (first[crc & 0xff] as number)) >>> 0;
    }
  }
  return tables;
}

const [table0, table1, table2, table3] = buildTables() as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/**
 * The CRC-32C of `data`. Pass a previous result as `previous` to checksum data given in pieces:
 * crc32c(b, crc32c(a)) === crc32c(a ++ b).
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  const length = data.length;
  const wordsEnd = length - (length % 4);
  let i = 0;
  for (; i < wordsEnd; i += 4) {
    crc ^= (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
    crc =
      (table3[crc & 0xff] as number) ^
      (table2[(crc >>> 8) & 0xff] as number) ^
      (table1[(crc >>> 16) & 0xff] as number) ^
      (table0[crc >>> 24] as number);
  }
  for (; i < length; i++) crc = (crc >>> 8) ^ (table0[(crc ^ (data[i] as number)) & 0xff] as number);
  return ~crc >>> 0;
}
