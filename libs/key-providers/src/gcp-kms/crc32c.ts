/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Cloud KMS uses for its end-to-end integrity
 * fields (`plaintext_crc32c`, `ciphertext_crc32c`, ...). Node has no CRC32C of its own, and the fields are small
 * (at most 64 KiB), so a table-driven implementation is fast enough: it is a transport check, not a MAC.
 */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Reads an `Int64Value` checksum as the client library hands it over (a number, a decimal string or a Long,
 * depending on how the protos were loaded); `undefined` when the field is absent.
 */
export function int64Value(field: { value?: unknown } | null | undefined): number | undefined {
  if (field === null || field === undefined) return undefined;
  const raw = field.value;
  if (raw === null || raw === undefined) return 0;
  const n = typeof raw === 'number' ? raw : Number(String(raw));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
