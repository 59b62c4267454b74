// An ATA disk behind a SATA port (ATA8-ACS, with the SATA 2.6 NCQ commands): the device side of what the AHCI
// port (port.ts) delivers in a Register Host-to-Device FIS. Like bhyve's pci_ahci.c it answers from a block
// backend; unlike it, it knows nothing of AHCI: it sees a task file, a command packet and a data buffer that
// stands for the PRDT, and answers with the ending status the port turns into a D2H Register, PIO Setup or
// Set Device Bits FIS. Everything in the task file is guest input: a bad command ends in ABRT, never a throw.
import type { BlockBackend } from '../../block/backend';

// Status register (ATA8-ACS, Status field; bit 4 is the obsolete DSC that devices still report after reset).
export const ATA_STS_BSY = 0b1000_0000;
export const ATA_STS_DRDY = 0b0100_0000;
export const ATA_STS_DSC = 0b0001_0000;
export const ATA_STS_DRQ = 0b0000_1000;
export const ATA_STS_ERR = 0b0000_0001;
// Error register (ATA8-ACS, Error field).
export const ATA_ERR_ABRT = 0b0000_0100;
export const ATA_ERR_UNC = 0b0100_0000;
/** EXECUTE DEVICE DIAGNOSTIC and the reset signature report "device 0 passed" (ATA8-ACS, EXECUTE DEVICE DIAGNOSTIC). */
export const ATA_DIAG_PASSED = 0x01;

/** Signatures in PxSIG: Count | LBA Low << 8 | LBA Mid << 16 | LBA High << 24 (AHCI 1.3.1 §3.3.9; ATA8-ACS, signatures). */
export const SIG_ATA = 0x0000_0101;
export const SIG_ATAPI = 0xeb14_0101;

/** Command codes (ATA8-ACS Annex B; SATA 2.6 §13.6 for the FPDMA QUEUED pair). */
export const enum AtaCmd {
  Nop = 0x00,
  DataSetManagement = 0x06,
  DeviceReset = 0x08,
  ReadSectors = 0x20,
  ReadSectorsExt = 0x24,
  ReadDmaExt = 0x25,
  ReadMultipleExt = 0x29,
  ReadLogExt = 0x2f,
  WriteSectors = 0x30,
  WriteSectorsExt = 0x34,
  WriteDmaExt = 0x35,
  WriteMultipleExt = 0x39,
  WriteDmaFuaExt = 0x3d,
  ReadVerifySectors = 0x40,
  ReadVerifySectorsExt = 0x42,
  ReadFpdmaQueued = 0x60,
  WriteFpdmaQueued = 0x61,
  ExecuteDeviceDiagnostic = 0x90,
  Packet = 0xa0,
  IdentifyPacketDevice = 0xa1,
  ReadMultiple = 0xc4,
  WriteMultiple = 0xc5,
  SetMultipleMode = 0xc6,
  ReadDma = 0xc8,
  WriteDma = 0xca,
  WriteMultipleFuaExt = 0xce,
  StandbyImmediate = 0xe0,
  IdleImmediate = 0xe1,
  Standby = 0xe2,
  Idle = 0xe3,
  CheckPowerMode = 0xe5,
  Sleep = 0xe6,
  FlushCache = 0xe7,
  FlushCacheExt = 0xea,
  IdentifyDevice = 0xec,
  SetFeatures = 0xef,
}

/** SET FEATURES subcommands in the Feature field (ATA8-ACS, SET FEATURES). */
export const enum SetFeature {
  EnableWriteCache = 0x02,
  SetTransferMode = 0x03,
  DisableReadLookAhead = 0x55,
  DisableRevertToDefaults = 0x66,
  DisableWriteCache = 0x82,
  EnableReadLookAhead = 0xaa,
  EnableRevertToDefaults = 0xcc,
}

/** The shadow registers of a Register Host-to-Device FIS (SATA 2.6, Register Host to Device FIS), 48-bit fields assembled. */
export interface AtaTaskFile {
  command: number;
  /** Features 15:0 (15:8 from the FIS's Features (exp) byte). */
  features: number;
  /** Count 15:0 (for FPDMA QUEUED: the tag in bits 7:3). */
  count: number;
  /** LBA 47:0. 28-bit commands take bits 27:24 from Device 3:0 instead (ataLba28). */
  lba: number;
  device: number;
}

/** How one data transfer through the PRDT went. */
export const enum DmaStatus {
  Ok,
  /** The PRDT describes fewer bytes than the command moves (AHCI 1.3.1 §3.3.5, PxIS.OFS). */
  Overflow,
  /** A PRD points outside guest RAM, or the function may not master the bus (PxIS.HBFS). */
  HostBus,
  /** The port was stopped or reset while the device worked: the command no longer exists. */
  Cancelled,
}

/** The data area of one command (the PRDT, AHCI 1.3.1 §4.2.3.3) as a device sees it: byte offsets into the
 *  transfer, never guest addresses. */
export interface DataBuffer {
  /** Bytes the PRDT describes. */
  readonly capacity: number;
  /** Copy `data` to the guest at transfer offset `at`. Nothing past the capacity is written. */
  scatter(at: number, data: Uint8Array): DmaStatus;
  /** Copy `length` bytes from the guest at transfer offset `at`. */
  gather(at: number, length: number): Uint8Array | DmaStatus;
}

/** The ending state of a command: what the device reports, and how much data moved (PRDBC). */
export interface AtaResult {
  status: number;
  error: number;
  bytes: number;
  /** A PIO data-in command: the ending status travels in a PIO Setup FIS (SATA 2.6 PIO data-in protocol; AHCI 1.3.1 §5.3). */
  pioIn: boolean;
  /** LBA and Count fields of the ending FIS (signatures, CHECK POWER MODE, PACKET interrupt reason). */
  lba: number;
  count: number;
  /** Not Ok: the HBA, not the device, failed the transfer. */
  fault: DmaStatus;
}

/** A device on a SATA port: an ATA disk or an ATAPI drive. */
export interface SataDevice {
  /** PxSIG after a reset. */
  readonly signature: number;
  /** Status of the signature FIS a reset produces. */
  readonly resetStatus: number;
  /** Supports READ/WRITE FPDMA QUEUED. */
  readonly ncq: boolean;
  /** COMRESET, software reset or DEVICE RESET (settings survive, queued work is forgotten). */
  reset(): void;
  /** Run one command; `packet` is the ATAPI command (ACMD, 16 bytes). Never rejects. */
  execute(tf: AtaTaskFile, packet: Uint8Array, data: DataBuffer): Promise<AtaResult>;
}

export function ataResult(status: number, error = 0, bytes = 0, pioIn = false): AtaResult {
  return { status, error, bytes, pioIn, lba: 0, count: 0, fault: DmaStatus.Ok };
}
export function dmaFault(fault: DmaStatus, bytes = 0): AtaResult {
  return { ...ataResult(ATA_STS_DRDY | ATA_STS_ERR, ATA_ERR_ABRT, bytes), fault };
}
export const ataAbort = (): AtaResult => ataResult(ATA_STS_DRDY | ATA_STS_ERR, ATA_ERR_ABRT);

/** Put an ATA string into IDENTIFY words: two characters a word, the first in the high byte, space-padded
 *  (ATA8-ACS, ATA string convention). Only printable ASCII survives. */
export function putAtaString(words: Uint16Array, first: number, count: number, text: string): void {
  const s = text.replace(/[^\x20-\x7e]/g, '').padEnd(count * 2, ' ').slice(0, count * 2);
  for (let i = 0; i < count; i++) words[first + i] = (s.charCodeAt(2 * i) << 8) | s.charCodeAt(2 * i + 1);
}

/** IDENTIFY data as bytes, with the integrity word 255 (ATA8-ACS §7.16, word 255: A5h and a checksum byte that
 *  makes all 512 bytes sum to zero). */
export function identifyBytes(words: Uint16Array): Uint8Array {
  words[255] = 0x00a5;
  const out = new Uint8Array(512);
  for (let i = 0; i < 256; i++) { out[2 * i] = words[i]! & 0xff; out[2 * i + 1] = words[i]! >>> 8; }
  let sum = 0;
  for (let i = 0; i < 511; i++) sum += out[i]!;
  out[511] = (256 - (sum & 0xff)) & 0xff;
  return out;
}

/** Send a reply of `data` (cut to `limit` bytes) through the PRDT. */
export function reply(data: Uint8Array, buffer: DataBuffer, pioIn: boolean, status: number, limit = data.length): AtaResult {
  const n = Math.min(limit, data.length);
  if (n > buffer.capacity) return dmaFault(DmaStatus.Overflow);
  const st = buffer.scatter(0, data.subarray(0, n));
  if (st !== DmaStatus.Ok) return dmaFault(st);
  return ataResult(status, 0, n, pioIn && n > 0);
}

const SECTOR = 512;
/** Backend requests are cut into pieces of this size, so a guest's 32 MiB command never holds 32 MiB at once. */
export const CHUNK_BYTES = 1 << 20;
const LBA28_MAX = 0x0fff_ffff;
/** IDENTIFY word 75: queue depth - 1 (ATA8-ACS §7.16). */
const NCQ_DEPTH = 32;
/** IDENTIFY word 47 and SET MULTIPLE MODE: sectors per DRQ block. */
const MAX_MULTIPLE = 16;
/** DATA SET MANAGEMENT: 512-byte blocks of LBA Range Entries accepted per command (ACS-2 IDENTIFY word 105). */
const DSM_MAX_BLOCKS = 8;
/** READ LOG EXT log addresses (ATA8-ACS Annex A): the directory and the NCQ Command Error log (SATA 2.6 §13.6). */
const LOG_DIRECTORY = 0x00;
const LOG_NCQ_ERROR = 0x10;
/** Transfer-mode values of SET FEATURES 03h (ATA8-ACS Table 50): mode type in bits 7:3. */
const XFER_PIO_DEFAULT = 0x00, XFER_PIO_FLOW = 0x08, XFER_MWDMA = 0x20, XFER_UDMA = 0x40;
const UDMA_MODES = 6;

export interface AtaDiskOptions {
  model?: string;
  firmware?: string;
}

/** Where a failed queued command is reported: the NCQ Command Error log (SATA 2.6 §13.6). */
interface NcqError { tag: number; status: number; error: number; lba: number; count: number }

export class AtaDisk implements SataDevice {
  readonly signature = SIG_ATA;
  readonly resetStatus = ATA_STS_DRDY | ATA_STS_DSC;
  readonly ncq = true;
  /** User-addressable sectors. */
  readonly sectors: number;
  private readonly model: string;
  private readonly firmware: string;
  private writeCache = true;
  /** Selected DMA mode: UDMA 0..5 when udma, else multiword DMA 0..2. */
  private udma = true;
  private dmaMode = 5;
  private multiple = MAX_MULTIPLE;
  private ncqError: NcqError | undefined;

  constructor(readonly backend: BlockBackend, options: AtaDiskOptions = {}) {
    if (backend.sectorSize !== SECTOR) {
      throw new RangeError(`wasmpc: ahci: disk ${backend.id} has ${backend.sectorSize}-byte sectors; an ATA disk needs 512`);
    }
    this.sectors = Math.floor(backend.size / SECTOR);
    this.model = options.model ?? 'WASMPC HARDDISK';
    this.firmware = options.firmware ?? '1.0';
  }

  /** Settings survive resets (as after SET FEATURES 66h); queued commands and their error log do not. */
  reset(): void {
    this.ncqError = undefined;
  }

  async execute(tf: AtaTaskFile, _packet: Uint8Array, data: DataBuffer): Promise<AtaResult> {
    const lba28 = (tf.lba & 0xff_ffff) | ((tf.device & 0x0f) << 24);
    const count8 = (tf.count & 0xff) || 256;
    const count16 = tf.count || 65536;
    switch (tf.command) {
      case AtaCmd.IdentifyDevice:
        return reply(this.identify(), data, true, ATA_STS_DRDY | ATA_STS_DSC);
      case AtaCmd.ReadDma:
      case AtaCmd.ReadSectors:
      case AtaCmd.ReadMultiple:
        return this.read(lba28, count8, data, tf.command !== AtaCmd.ReadDma);
      case AtaCmd.ReadDmaExt:
      case AtaCmd.ReadSectorsExt:
      case AtaCmd.ReadMultipleExt:
        return this.read(tf.lba, count16, data, tf.command !== AtaCmd.ReadDmaExt);
      case AtaCmd.WriteDma:
      case AtaCmd.WriteSectors:
      case AtaCmd.WriteMultiple:
        return this.write(lba28, count8, data, false);
      case AtaCmd.WriteDmaExt:
      case AtaCmd.WriteSectorsExt:
      case AtaCmd.WriteMultipleExt:
        return this.write(tf.lba, count16, data, false);
      case AtaCmd.WriteDmaFuaExt:
      case AtaCmd.WriteMultipleFuaExt:
        return this.write(tf.lba, count16, data, true);
      case AtaCmd.ReadFpdmaQueued:
      case AtaCmd.WriteFpdmaQueued:
        return this.queued(tf, data);
      case AtaCmd.ReadVerifySectors:
        return this.inRange(lba28, count8) ? this.good() : ataAbort();
      case AtaCmd.ReadVerifySectorsExt:
        return this.inRange(tf.lba, count16) ? this.good() : ataAbort();
      case AtaCmd.FlushCache:
      case AtaCmd.FlushCacheExt:
        return this.flush();
      case AtaCmd.DataSetManagement:
        return this.trim(tf, data);
      case AtaCmd.SetFeatures:
        return this.setFeatures(tf);
      case AtaCmd.SetMultipleMode:
        return this.setMultiple(tf.count & 0xff);
      case AtaCmd.ReadLogExt:
        return this.readLog(tf, data);
      case AtaCmd.CheckPowerMode:
        // CHECK POWER MODE: Count FFh = active or idle.
        return { ...this.good(), count: 0xff };
      case AtaCmd.StandbyImmediate:
      case AtaCmd.IdleImmediate:
      case AtaCmd.Standby:
      case AtaCmd.Idle:
      case AtaCmd.Sleep:
        return this.good();
      case AtaCmd.ExecuteDeviceDiagnostic:
        return { ...ataResult(ATA_STS_DRDY | ATA_STS_DSC, ATA_DIAG_PASSED), lba: SIG_ATA >>> 8, count: SIG_ATA & 0xff };
      default:
        // NOP (which always aborts), IDENTIFY PACKET DEVICE and PACKET (a non-packet device aborts, ATA8-ACS
        // §7.17 and the PACKET command), DEVICE RESET (packet devices only), and everything not implemented.
        return ataAbort();
    }
  }

  private good(): AtaResult { return ataResult(ATA_STS_DRDY | ATA_STS_DSC); }

  private inRange(lba: number, count: number): boolean {
    return lba + count <= this.sectors;
  }

  /** Out-of-range LBAs abort (ATA8-ACS READ DMA EXT allows ABRT or IDNF; QEMU and most devices use ABRT). */
  private async read(lba: number, count: number, data: DataBuffer, pio: boolean): Promise<AtaResult> {
    if (!this.inRange(lba, count)) return ataAbort();
    const total = count * SECTOR;
    if (total > data.capacity) return dmaFault(DmaStatus.Overflow);
    for (let done = 0; done < total; done += CHUNK_BYTES) {
      const piece = new Uint8Array(Math.min(CHUNK_BYTES, total - done));
      try {
        await this.backend.read(lba * SECTOR + done, piece);
      } catch {
        return { ...ataResult(ATA_STS_DRDY | ATA_STS_ERR, ATA_ERR_UNC, done), lba: lba + done / SECTOR };
      }
      const st = data.scatter(done, piece);
      if (st !== DmaStatus.Ok) return dmaFault(st, done);
    }
    return ataResult(ATA_STS_DRDY | ATA_STS_DSC, 0, total, pio);
  }

  /** A write is durable before it completes when the write cache is off or FUA is asked for (ATA8-ACS, SET FEATURES 02h/82h and WRITE DMA FUA EXT). */
  private async write(lba: number, count: number, data: DataBuffer, fua: boolean): Promise<AtaResult> {
    if (!this.inRange(lba, count) || this.backend.readOnly) return ataAbort();
    const total = count * SECTOR;
    if (total > data.capacity) return dmaFault(DmaStatus.Overflow);
    for (let done = 0; done < total; done += CHUNK_BYTES) {
      const piece = data.gather(done, Math.min(CHUNK_BYTES, total - done));
      if (!(piece instanceof Uint8Array)) return dmaFault(piece, done);
      try {
        await this.backend.write(lba * SECTOR + done, piece);
      } catch {
        return { ...ataAbort(), bytes: done, lba: lba + done / SECTOR };
      }
    }
    if (fua || !this.writeCache) {
      try { await this.backend.flush(); } catch { return ataAbort(); }
    }
    return ataResult(ATA_STS_DRDY | ATA_STS_DSC, 0, total);
  }

  /**
   * READ/WRITE FPDMA QUEUED (SATA 2.6 §13.6): sector count in Features, tag in Count 7:3, FUA in
   * Device bit 7. A failure is recorded for READ LOG EXT 10h, as the NCQ error recovery of a host expects.
   */
  private async queued(tf: AtaTaskFile, data: DataBuffer): Promise<AtaResult> {
    const count = tf.features || 65536;
    const r = tf.command === AtaCmd.ReadFpdmaQueued
      ? await this.read(tf.lba, count, data, false)
      : await this.write(tf.lba, count, data, (tf.device & 0x80) !== 0);
    if (r.status & ATA_STS_ERR && r.fault === DmaStatus.Ok) {
      this.ncqError = { tag: (tf.count >>> 3) & 0x1f, status: r.status, error: r.error, lba: tf.lba, count };
    }
    return r;
  }

  private async flush(): Promise<AtaResult> {
    try {
      await this.backend.flush();
    } catch {
      return ataAbort();
    }
    return this.good();
  }

  /**
   * DATA SET MANAGEMENT with the TRIM bit (ACS-2, DATA SET MANAGEMENT): Count blocks of 512 bytes hold 64 LBA Range Entries
   * each, an entry being LBA 47:0 and a length 63:48 (0 = unused). Ranges are checked before any is discarded.
   */
  private async trim(tf: AtaTaskFile, data: DataBuffer): Promise<AtaResult> {
    const blocks = tf.count;
    if (!(tf.features & 1) || !this.backend.canDiscard || this.backend.readOnly || blocks === 0 || blocks > DSM_MAX_BLOCKS) {
      return ataAbort();
    }
    const bytes = data.gather(0, blocks * SECTOR);
    if (!(bytes instanceof Uint8Array)) return dmaFault(bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ranges: Array<[number, number]> = [];
    for (let at = 0; at < bytes.length; at += 8) {
      const lba = view.getUint32(at, true) + view.getUint16(at + 4, true) * 2 ** 32;
      const length = view.getUint16(at + 6, true);
      if (length === 0) continue;
      if (!this.inRange(lba, length)) return ataAbort();
      ranges.push([lba, length]);
    }
    try {
      for (const [lba, length] of ranges) await this.backend.discard(lba * SECTOR, length * SECTOR);
    } catch {
      return ataAbort();
    }
    return ataResult(ATA_STS_DRDY | ATA_STS_DSC, 0, blocks * SECTOR);
  }

  private setFeatures(tf: AtaTaskFile): AtaResult {
    switch (tf.features & 0xff) {
      case SetFeature.EnableWriteCache: this.writeCache = true; return this.good();
      case SetFeature.DisableWriteCache: this.writeCache = false; return this.good();
      case SetFeature.SetTransferMode: return this.setTransferMode(tf.count & 0xff);
      case SetFeature.EnableReadLookAhead:
      case SetFeature.DisableReadLookAhead:
      case SetFeature.DisableRevertToDefaults:
      case SetFeature.EnableRevertToDefaults:
        return this.good();
      default:
        return ataAbort();
    }
  }

  /** SET FEATURES 03h: the mode must be one IDENTIFY words 63, 64 and 88 advertise. */
  private setTransferMode(value: number): AtaResult {
    const type = value & 0xf8, mode = value & 0x07;
    if (value === XFER_PIO_DEFAULT || value === XFER_PIO_DEFAULT + 1 || (type === XFER_PIO_FLOW && mode <= 4)) return this.good();
    if (type === XFER_MWDMA && mode <= 2) { this.udma = false; this.dmaMode = mode; return this.good(); }
    if (type === XFER_UDMA && mode < UDMA_MODES) { this.udma = true; this.dmaMode = mode; return this.good(); }
    return ataAbort();
  }

  /** SET MULTIPLE MODE (ATA8-ACS): a power of two up to the word 47 maximum; 0 is refused. */
  private setMultiple(n: number): AtaResult {
    if (n === 0 || n > MAX_MULTIPLE || (n & (n - 1)) !== 0) return ataAbort();
    this.multiple = n;
    return this.good();
  }

  /** READ LOG EXT (ATA8-ACS): log address in LBA 7:0, page in LBA 23:8, page count in Count. */
  private readLog(tf: AtaTaskFile, data: DataBuffer): AtaResult {
    const log = tf.lba & 0xff, page = (tf.lba >>> 8) & 0xffff, pages = tf.count;
    if (page !== 0 || pages !== 1) return ataAbort();
    const out = new Uint8Array(512);
    if (log === LOG_DIRECTORY) {
      // Annex A: word 0 is the GPL version (0001h); word n is the page count of log n.
      out[0] = 1;
      out[2 * LOG_NCQ_ERROR] = 1;
    } else if (log === LOG_NCQ_ERROR) {
      const e = this.ncqError;
      this.ncqError = undefined;
      if (e) {
        out[0] = e.tag;
        out[2] = e.status; out[3] = e.error;
        out[4] = e.lba & 0xff; out[5] = (e.lba >>> 8) & 0xff; out[6] = (e.lba >>> 16) & 0xff; out[7] = 0x40;
        const hi = Math.floor(e.lba / 2 ** 24);
        out[8] = hi & 0xff; out[9] = (hi >>> 8) & 0xff; out[10] = (hi >>> 16) & 0xff;
        out[12] = e.count & 0xff; out[13] = (e.count >>> 8) & 0xff;
      } else {
        out[0] = 0x80; // NQ: the error was not in a queued command
      }
      let sum = 0;
      for (let i = 0; i < 511; i++) sum += out[i]!;
      out[511] = (256 - (sum & 0xff)) & 0xff;
    } else {
      return ataAbort();
    }
    return reply(out, data, true, ATA_STS_DRDY | ATA_STS_DSC);
  }

  /** IDENTIFY DEVICE data (ATA8-ACS §7.16; SATA 2.6 §13.2 for words 75-79). */
  identify(): Uint8Array {
    const w = new Uint16Array(256);
    const lba28 = Math.min(this.sectors, LBA28_MAX);
    const cyls = Math.min(16383, Math.floor(this.sectors / (16 * 63)));
    w[0] = 0x0040;                                  // fixed device, ATA
    w[1] = cyls; w[3] = 16; w[6] = 63;              // default CHS (obsolete, still read by old software)
    putAtaString(w, 10, 10, this.backend.id);       // serial number
    putAtaString(w, 23, 4, this.firmware);
    putAtaString(w, 27, 20, this.model);
    w[47] = 0x8000 | MAX_MULTIPLE;
    w[49] = 0x0f00;                                 // IORDY, IORDY disable, LBA, DMA
    w[50] = 0x4000;
    w[53] = 0x0006;                                 // words 64-70 and 88 are valid
    w[54] = cyls; w[55] = 16; w[56] = 63;
    const chs = cyls * 16 * 63;
    w[57] = chs & 0xffff; w[58] = chs >>> 16;
    w[59] = 0x0100 | this.multiple;
    w[60] = lba28 & 0xffff; w[61] = lba28 >>> 16;
    w[63] = 0x0007 | (this.udma ? 0 : 0x100 << this.dmaMode);
    w[64] = 0x0003;                                 // PIO modes 3 and 4
    w[65] = 120; w[66] = 120; w[67] = 120; w[68] = 120;
    w[75] = NCQ_DEPTH - 1;
    w[76] = 0x0102;                                 // NCQ; SATA Gen1 signalling
    w[80] = 0x01f0;                                 // ATA/ATAPI-4 .. ATA8-ACS
    const wce = this.writeCache ? 0x0020 : 0;
    w[82] = 0x4028;                                 // NOP, write cache, power management
    w[83] = 0x7400;                                 // FLUSH CACHE EXT, FLUSH CACHE, 48-bit
    w[84] = 0x4020;                                 // General Purpose Logging
    w[85] = 0x4008 | wce;
    w[86] = 0x3400;
    w[87] = 0x4020;
    w[88] = 0x003f | (this.udma ? 0x100 << this.dmaMode : 0);
    let rest = this.sectors;
    for (let i = 100; i <= 103; i++) { w[i] = rest % 0x1_0000; rest = Math.floor(rest / 0x1_0000); }
    w[105] = DSM_MAX_BLOCKS;
    w[106] = 0x4000;                                // one 512-byte logical sector per physical sector
    w[169] = this.backend.canDiscard && !this.backend.readOnly ? 0x0001 : 0;  // TRIM
    w[217] = 0x0001;                                // non-rotating medium
    return identifyBytes(w);
  }
}
