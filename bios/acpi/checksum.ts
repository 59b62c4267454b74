// ACPI 6.5 5.2.6 "System Description Table Header": "the entire table, including the checksum field, must add
// to zero" (mod 256); 5.2.5.3 gives the RSDP the same rule over its first 20 bytes and over its whole length.

/** The byte that makes `bytes[start, end)` sum to zero once stored at `bytes[at]` (which must lie inside). */
export function fixChecksum(bytes: Uint8Array, at: number, start = 0, end = bytes.length): void {
  bytes[at] = 0;
  bytes[at] = (0x100 - byteSum(bytes, start, end)) & 0xff;
}

/** The sum of `bytes[start, end)` modulo 256. */
export function byteSum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return sum;
}
