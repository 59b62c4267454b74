// The block-backend interface every disk device (virtio-blk, AHCI) uses, host-neutral: a Node file, an
// in-memory image, an HTTP range reader or a copy-on-write overlay all sit behind it. Requests are
// asynchronous and may complete out of order; the device completes the guest request when the promise
// settles. Offsets and lengths are in bytes and multiples of `sectorSize`.

export class BlockError extends Error {
  constructor(readonly kind: 'io' | 'range' | 'readonly' | 'unsupported', message: string) {
    super(message);
  }
}

export interface BlockBackend {
  /** Capacity in bytes (a multiple of sectorSize). */
  readonly size: number;
  /** Logical sector size: 512. */
  readonly sectorSize: number;
  readonly readOnly: boolean;
  /** Short identifier a device reports as its serial number (virtio GET_ID, ATA IDENTIFY). */
  readonly id: string;
  /** Whether discard() does anything (a device advertises DISCARD/TRIM only then). */
  readonly canDiscard: boolean;
  read(offset: number, into: Uint8Array): Promise<void>;
  write(offset: number, from: Uint8Array): Promise<void>;
  /** Make every completed write durable (fsync for a file). */
  flush(): Promise<void>;
  /** The range's content becomes unspecified (zeroes in practice). */
  discard(offset: number, length: number): Promise<void>;
  writeZeroes(offset: number, length: number): Promise<void>;
  close(): Promise<void>;
}

/** Checks every backend applies to a request before touching its storage. */
export function checkRange(b: BlockBackend, offset: number, length: number, write: boolean): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > b.size) {
    throw new BlockError('range', `request at byte ${offset} for ${length} bytes is outside the ${b.size}-byte disk`);
  }
  if (offset % b.sectorSize !== 0 || length % b.sectorSize !== 0) {
    throw new BlockError('range', `request at byte ${offset} for ${length} bytes is not sector-aligned`);
  }
  if (write && b.readOnly) throw new BlockError('readonly', 'the disk is read-only');
}

/** A disk held in memory: for tests and the browser. */
export class MemoryBlockBackend implements BlockBackend {
  readonly sectorSize = 512;
  readonly canDiscard = true;
  readonly data: Uint8Array;

  constructor(sizeOrData: number | Uint8Array, readonly readOnly = false, readonly id = 'wasmpc-mem') {
    this.data = typeof sizeOrData === 'number' ? new Uint8Array(sizeOrData) : sizeOrData;
    if (this.data.length % this.sectorSize !== 0) throw new BlockError('range', `image size ${this.data.length} is not a multiple of 512`);
  }

  get size(): number { return this.data.length; }

  async read(offset: number, into: Uint8Array): Promise<void> {
    checkRange(this, offset, into.length, false);
    into.set(this.data.subarray(offset, offset + into.length));
  }
  async write(offset: number, from: Uint8Array): Promise<void> {
    checkRange(this, offset, from.length, true);
    this.data.set(from, offset);
  }
  async flush(): Promise<void> {}
  async discard(offset: number, length: number): Promise<void> { return this.writeZeroes(offset, length); }
  async writeZeroes(offset: number, length: number): Promise<void> {
    checkRange(this, offset, length, true);
    this.data.fill(0, offset, offset + length);
  }
  async close(): Promise<void> {}
}
