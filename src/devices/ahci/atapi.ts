// An ATAPI CD/DVD-ROM drive behind a SATA port: the PACKET feature set (ATA8-ACS, PACKET) carrying MMC-5 / SPC-3
// commands, on a BlockBackend read in 2048-byte blocks. The medium can change at run time through insert() and
// eject(); the drive reports it the way MMC drives do, with UNIT ATTENTION (06/28/00) and media events for GET
// EVENT STATUS NOTIFICATION. Every CDB byte is guest input: bad fields end in CHECK CONDITION with sense data.
import type { BlockBackend } from '../../block/backend';
import {
  ATA_DIAG_PASSED, ATA_ERR_ABRT, ATA_STS_DRDY, ATA_STS_ERR, AtaCmd, CHUNK_BYTES, DmaStatus, SetFeature, SIG_ATAPI,
  ataAbort, ataResult, dmaFault, identifyBytes, putAtaString, reply,
  type AtaResult, type AtaTaskFile, type DataBuffer, type SataDevice,
} from './ata';

/** MMC logical block size for CD/DVD data (MMC-5). */
export const CD_BLOCK = 2048;
/** A medium larger than an 80-minute CD is reported as a DVD (MMC-5 profile 0010h). */
const CD_MAX_BLOCKS = 80 * 60 * 75;
/** MSF addresses start 2 seconds (150 frames) before LBA 0 (MMC-5, MSF addressing). */
const MSF_OFFSET = 150;
const LEAD_OUT_TRACK = 0xaa;

/** Operation codes (SPC-3 and MMC-5 chapter 6). */
export const enum ScsiOp {
  TestUnitReady = 0x00,
  RequestSense = 0x03,
  Inquiry = 0x12,
  StartStopUnit = 0x1b,
  PreventAllowMediumRemoval = 0x1e,
  ReadCapacity = 0x25,
  Read10 = 0x28,
  Seek10 = 0x2b,
  ReadToc = 0x43,
  GetConfiguration = 0x46,
  GetEventStatusNotification = 0x4a,
  ModeSense10 = 0x5a,
  Read12 = 0xa8,
  SetCdSpeed = 0xbb,
}

/** Sense keys (SPC-3 §4.5.6, Table 27). */
export const enum SenseKey {
  NoSense = 0x0,
  NotReady = 0x2,
  MediumError = 0x3,
  IllegalRequest = 0x5,
  UnitAttention = 0x6,
}

/** Additional sense codes, ASC << 8 | ASCQ (SPC-3 Annex D). */
export const enum Asc {
  None = 0x0000,
  UnrecoveredReadError = 0x1100,
  InvalidCommandOperationCode = 0x2000,
  LbaOutOfRange = 0x2100,
  InvalidFieldInCdb = 0x2400,
  MediumMayHaveChanged = 0x2800,
  SavingParametersNotSupported = 0x3900,
  /** MEDIUM NOT PRESENT - TRAY CLOSED / - TRAY OPEN (MMC-5 Table F.1). */
  MediumNotPresentTrayClosed = 0x3a01,
  MediumNotPresentTrayOpen = 0x3a02,
  MediumRemovalPrevented = 0x5302,
}

/** Media event codes of GET EVENT STATUS NOTIFICATION (MMC-5, GET EVENT STATUS NOTIFICATION media class). */
const enum MediaEvent {
  NoChange = 0,
  EjectRequest = 1,
  NewMedia = 2,
  MediaRemoval = 3,
}
const GESN_CLASS_MEDIA = 4;
const GESN_NEA = 0x80;

/** Profiles (MMC-5 chapter 5). */
const PROFILE_NONE = 0x0000, PROFILE_CD_ROM = 0x0008, PROFILE_DVD_ROM = 0x0010;
const enum Feature {
  ProfileList = 0x0000,
  Core = 0x0001,
  RemovableMedium = 0x0003,
  RandomReadable = 0x0010,
  CdRead = 0x001e,
  DvdRead = 0x001f,
}

/** Mode pages (MMC-5 chapter 7): read error recovery and the CD/DVD capabilities page (MMC-3). */
const MODE_PAGE_ERROR_RECOVERY = 0x01;
const MODE_PAGE_CAPABILITIES = 0x2a;
const MODE_PAGE_ALL = 0x3f;
const MODE_PC_SAVED = 3;

/** PACKET ending Interrupt Reason (ATA8-ACS, PACKET normal outputs): I/O and C/D set. */
const INTERRUPT_REASON_DONE = 0b11;

interface Sense { key: SenseKey; asc: Asc }

export interface AtapiOptions {
  model?: string;
  firmware?: string;
  serial?: string;
}

export class AtapiCdrom implements SataDevice {
  readonly signature = SIG_ATAPI;
  /** ATA8-ACS signatures: a PACKET device's signature leaves status 00h. */
  readonly resetStatus = 0;
  readonly ncq = false;
  private backend: BlockBackend | undefined;
  private trayOpen = false;
  /** PREVENT ALLOW MEDIUM REMOVAL: the guest locked the tray. */
  private locked = false;
  /** Sense data of the last CHECK CONDITION, returned by REQUEST SENSE. */
  private sense: Sense = { key: SenseKey.NoSense, asc: Asc.None };
  private unitAttention = false;
  private event = MediaEvent.NoChange;
  private readonly model: string;
  private readonly firmware: string;
  private readonly serial: string;

  constructor(backend?: BlockBackend, options: AtapiOptions = {}) {
    this.backend = backend;
    this.model = options.model ?? 'WASMPC DVD-ROM';
    this.firmware = options.firmware ?? '1.0';
    this.serial = options.serial ?? backend?.id ?? 'wasmpc-cd';
  }

  /** The medium in the drive, if any. */
  get medium(): BlockBackend | undefined { return this.backend; }

  /** Whether the guest holds the tray locked. */
  get removalPrevented(): boolean { return this.locked; }

  /** Insert a disc (closing the tray): the guest sees UNIT ATTENTION and a NewMedia event. */
  insert(backend: BlockBackend): void {
    this.backend = backend;
    this.trayOpen = false;
    this.mediaChanged(MediaEvent.NewMedia);
  }

  /**
   * Take the disc out, as the eject button does. While the guest prevents removal the button only posts an
   * eject request (MMC-5, GET EVENT STATUS NOTIFICATION) and false is returned, unless `force`.
   */
  eject(force = false): boolean {
    if (this.locked && !force) {
      this.event = MediaEvent.EjectRequest;
      return false;
    }
    this.backend = undefined;
    this.trayOpen = false;
    this.locked = false;
    this.mediaChanged(MediaEvent.MediaRemoval);
    return true;
  }

  reset(): void {
    this.locked = false;
  }

  async execute(tf: AtaTaskFile, packet: Uint8Array, data: DataBuffer): Promise<AtaResult> {
    switch (tf.command) {
      case AtaCmd.Packet:
        // Features bit 0 selects DMA; otherwise the data moves by PIO (ATA8-ACS, PACKET).
        return this.packet(packet, data, (tf.features & 1) === 0);
      case AtaCmd.IdentifyPacketDevice:
        return reply(this.identify(), data, true, ATA_STS_DRDY);
      case AtaCmd.DeviceReset:
      case AtaCmd.ExecuteDeviceDiagnostic:
        if (tf.command === AtaCmd.DeviceReset) this.reset();
        return { ...ataResult(0, ATA_DIAG_PASSED), lba: SIG_ATAPI >>> 8, count: SIG_ATAPI & 0xff };
      case AtaCmd.IdentifyDevice:
        // ATA8-ACS §7.16: a PACKET device aborts and leaves its signature in the LBA and Count fields.
        return { ...ataAbort(), lba: SIG_ATAPI >>> 8, count: SIG_ATAPI & 0xff };
      case AtaCmd.SetFeatures:
        return (tf.features & 0xff) === SetFeature.SetTransferMode ? ataResult(ATA_STS_DRDY) : ataAbort();
      case AtaCmd.CheckPowerMode:
        return { ...ataResult(ATA_STS_DRDY), count: 0xff };
      case AtaCmd.IdleImmediate:
      case AtaCmd.StandbyImmediate:
        return ataResult(ATA_STS_DRDY);
      default:
        return ataAbort();
    }
  }

  private mediaChanged(event: MediaEvent): void {
    this.unitAttention = true;
    this.event = event;
  }

  private get ready(): boolean { return this.backend !== undefined && !this.trayOpen; }

  private get blocks(): number { return this.backend ? Math.floor(this.backend.size / CD_BLOCK) : 0; }

  private async packet(cdb: Uint8Array, data: DataBuffer, pio: boolean): Promise<AtaResult> {
    const op = cdb[0]!;
    // SAM-3 unit attention condition: it fails the next command, except INQUIRY and REQUEST SENSE; MMC-5
    // exempts GET EVENT STATUS NOTIFICATION and GET CONFIGURATION.
    if (this.unitAttention && op !== ScsiOp.Inquiry && op !== ScsiOp.RequestSense &&
        op !== ScsiOp.GetEventStatusNotification && op !== ScsiOp.GetConfiguration) {
      this.unitAttention = false;
      return this.check(SenseKey.UnitAttention, Asc.MediumMayHaveChanged);
    }
    const send = (bytes: Uint8Array, limit: number) => this.send(bytes, limit, data, pio);
    switch (op) {
      case ScsiOp.TestUnitReady:
        return this.ready ? this.good() : this.notReady();
      case ScsiOp.RequestSense:
        return send(this.requestSense(), cdb[4]!);
      case ScsiOp.Inquiry:
        // EVPD pages are not implemented (SPC-3 §6.4: an unsupported page is an invalid field).
        if (cdb[1]! & 1) return this.check(SenseKey.IllegalRequest, Asc.InvalidFieldInCdb);
        return send(this.inquiry(), be16(cdb, 3));
      case ScsiOp.ReadCapacity: {
        if (!this.ready) return this.notReady();
        const out = new Uint8Array(8);
        putBe32(out, 0, Math.max(this.blocks - 1, 0));
        putBe32(out, 4, CD_BLOCK);
        return send(out, out.length);
      }
      case ScsiOp.Read10:
        return this.read(be32(cdb, 2), be16(cdb, 7), data, pio);
      case ScsiOp.Read12:
        return this.read(be32(cdb, 2), be32(cdb, 6), data, pio);
      case ScsiOp.Seek10:
        if (!this.ready) return this.notReady();
        return be32(cdb, 2) < this.blocks ? this.good() : this.check(SenseKey.IllegalRequest, Asc.LbaOutOfRange);
      case ScsiOp.ReadToc:
        return this.readToc(cdb, send);
      case ScsiOp.GetConfiguration:
        return send(this.configuration(cdb[1]! & 0b11, be16(cdb, 2)), be16(cdb, 7));
      case ScsiOp.GetEventStatusNotification:
        return this.eventStatus(cdb, send);
      case ScsiOp.ModeSense10:
        return this.modeSense(cdb, send);
      case ScsiOp.StartStopUnit:
        return this.startStop(cdb[4]!);
      case ScsiOp.PreventAllowMediumRemoval:
        this.locked = (cdb[4]! & 1) !== 0;
        return this.good();
      case ScsiOp.SetCdSpeed:
        return this.good();
      default:
        return this.check(SenseKey.IllegalRequest, Asc.InvalidCommandOperationCode);
    }
  }

  /** GOOD status: the sense data is consumed (SPC-3). */
  private good(): AtaResult {
    return { ...ataResult(ATA_STS_DRDY), count: INTERRUPT_REASON_DONE };
  }

  /** CHECK CONDITION: ERR in Status and the sense key in Error 7:4 (ATA8-ACS, PACKET error outputs). */
  private check(key: SenseKey, asc: Asc): AtaResult {
    this.sense = { key, asc };
    const abrt = key === SenseKey.IllegalRequest ? ATA_ERR_ABRT : 0;
    return { ...ataResult(ATA_STS_DRDY | ATA_STS_ERR, (key << 4) | abrt), count: INTERRUPT_REASON_DONE };
  }

  private notReady(): AtaResult { return this.check(SenseKey.NotReady, this.noMedium()); }

  /** Why no medium is ready: the tray is open (a disc on it is outside the drive), or it is closed and empty. */
  private noMedium(): Asc { return this.trayOpen ? Asc.MediumNotPresentTrayOpen : Asc.MediumNotPresentTrayClosed; }

  private send(bytes: Uint8Array, limit: number, data: DataBuffer, pio: boolean): AtaResult {
    const r = reply(bytes, data, pio, ATA_STS_DRDY, limit);
    return r.fault === DmaStatus.Ok ? { ...r, count: INTERRUPT_REASON_DONE } : r;
  }

  /** Fixed-format sense data (SPC-3 §4.5.3): a pending unit attention first, then the last error, else the
   *  drive's current state. Reading it clears it. */
  private requestSense(): Uint8Array {
    let s = this.sense;
    if (this.unitAttention) s = { key: SenseKey.UnitAttention, asc: Asc.MediumMayHaveChanged };
    else if (s.key === SenseKey.NoSense && !this.ready) s = { key: SenseKey.NotReady, asc: this.noMedium() };
    this.unitAttention = false;
    this.sense = { key: SenseKey.NoSense, asc: Asc.None };
    const out = new Uint8Array(18);
    out[0] = 0x70;                // current error, fixed format
    out[2] = s.key;
    out[7] = 10;                  // additional sense length
    out[12] = s.asc >>> 8;
    out[13] = s.asc & 0xff;
    return out;
  }

  /** Standard INQUIRY data (SPC-3 §6.4.2): a removable CD/DVD device (peripheral type 05h). */
  private inquiry(): Uint8Array {
    const out = new Uint8Array(36);
    out[0] = 0x05;
    out[1] = 0x80;                // RMB
    out[2] = 0x05;                // SPC-3
    out[3] = 0x02;                // response data format 2
    out[4] = 31;                  // additional length
    putAscii(out, 8, 8, 'WASMPC');
    putAscii(out, 16, 16, this.model);
    putAscii(out, 32, 4, this.firmware);
    return out;
  }

  /** READ (10) / READ (12) (MMC-5), in pieces of CHUNK_BYTES. */
  private async read(lba: number, blocks: number, data: DataBuffer, pio: boolean): Promise<AtaResult> {
    const backend = this.backend;
    if (!backend || this.trayOpen) return this.notReady();
    if (lba + blocks > this.blocks) return this.check(SenseKey.IllegalRequest, Asc.LbaOutOfRange);
    const total = blocks * CD_BLOCK;
    if (total > data.capacity) return dmaFault(DmaStatus.Overflow);
    for (let done = 0; done < total; done += CHUNK_BYTES) {
      const piece = new Uint8Array(Math.min(CHUNK_BYTES, total - done));
      try {
        await backend.read(lba * CD_BLOCK + done, piece);
      } catch {
        return this.check(SenseKey.MediumError, Asc.UnrecoveredReadError);
      }
      const st = data.scatter(done, piece);
      if (st !== DmaStatus.Ok) return dmaFault(st, done);
    }
    return { ...ataResult(ATA_STS_DRDY, 0, total, pio && total > 0), count: INTERRUPT_REASON_DONE };
  }

  /**
   * READ TOC/PMA/ATIP (MMC-5): one data track starting at LBA 0, one session. Format 0 (TOC) and 1
   * (session information); addresses as LBA or, with the MSF bit, minute/second/frame. The format may also sit
   * in bits 7:6 of the control byte, as SFF-8020 drives took it.
   */
  private readToc(cdb: Uint8Array, send: (b: Uint8Array, limit: number) => AtaResult): AtaResult {
    if (!this.ready) return this.notReady();
    const msf = (cdb[1]! & 0b10) !== 0;
    const format = (cdb[2]! & 0x0f) || (cdb[9]! >>> 6);
    const track = cdb[6]!;
    const address = (out: Uint8Array, at: number, lba: number) => {
      if (!msf) return putBe32(out, at, lba);
      const f = lba + MSF_OFFSET;
      out[at + 1] = Math.floor(f / (60 * 75)); out[at + 2] = Math.floor(f / 75) % 60; out[at + 3] = f % 75;
    };
    let out: Uint8Array;
    if (format === 0) {
      if (track > 1 && track !== LEAD_OUT_TRACK) return this.check(SenseKey.IllegalRequest, Asc.InvalidFieldInCdb);
      const entries = track <= 1 ? [[1, 0], [LEAD_OUT_TRACK, this.blocks]] : [[LEAD_OUT_TRACK, this.blocks]];
      out = new Uint8Array(4 + 8 * entries.length);
      out[2] = 1; out[3] = 1;                       // first and last track
      entries.forEach(([number, lba], i) => {
        out[4 + 8 * i + 1] = 0x14;                  // ADR 1 (Q sub-channel position), control 4 (data track)
        out[4 + 8 * i + 2] = number!;
        address(out, 4 + 8 * i + 4, lba!);
      });
    } else if (format === 1) {
      out = new Uint8Array(12);
      out[2] = 1; out[3] = 1;                       // first and last session
      out[5] = 0x14; out[6] = 1;                    // first track of the last session
      address(out, 8, 0);
    } else {
      return this.check(SenseKey.IllegalRequest, Asc.InvalidFieldInCdb);
    }
    putBe16(out, 0, out.length - 2);
    return send(out, be16(cdb, 7));
  }

  /**
   * GET CONFIGURATION (MMC-5): Profile List, Core (ATAPI), Removable Medium (tray), Random Readable,
   * CD Read and DVD Read. RT 0 = every feature from `start`, 1 = current ones, 2 = only `start`.
   */
  private configuration(rt: number, start: number): Uint8Array {
    const present = this.ready;
    const dvd = present && this.blocks > CD_MAX_BLOCKS;
    const profile = !present ? PROFILE_NONE : dvd ? PROFILE_DVD_ROM : PROFILE_CD_ROM;
    const features: Array<[Feature, boolean, number[]]> = [
      [Feature.ProfileList, true, [PROFILE_DVD_ROM >> 8, PROFILE_DVD_ROM & 0xff, dvd ? 1 : 0, 0,
        PROFILE_CD_ROM >> 8, PROFILE_CD_ROM & 0xff, present && !dvd ? 1 : 0, 0]],
      [Feature.Core, true, [0, 0, 0, 2, 0, 0, 0, 0]],                     // physical interface 2 = ATAPI
      [Feature.RemovableMedium, true, [0x29, 0, 0, 0]],                   // tray, eject, lock
      [Feature.RandomReadable, present, [0, 0, CD_BLOCK >> 8, CD_BLOCK & 0xff, 0, 1, 0, 0]],
      [Feature.CdRead, present && !dvd, [0, 0, 0, 0]],
      [Feature.DvdRead, dvd, [0, 0, 0, 0]],
    ];
    const body: number[] = [];
    for (const [code, current, payload] of features) {
      if (code < start || (rt === 1 && !current) || (rt === 2 && code !== start)) continue;
      // Feature header: code, version 0 / persistent / current, additional length (MMC-5 chapter 5).
      const persistent = code === Feature.ProfileList || code === Feature.Core || code === Feature.RemovableMedium;
      body.push(code >> 8, code & 0xff, (persistent ? 0b10 : 0) | (current ? 1 : 0), payload.length, ...payload);
    }
    const out = new Uint8Array(8 + body.length);
    putBe32(out, 0, out.length - 4);
    putBe16(out, 6, profile);
    out.set(body, 8);
    return out;
  }

  /** GET EVENT STATUS NOTIFICATION (MMC-5), polled only, media class only; an event is reported once. */
  private eventStatus(cdb: Uint8Array, send: (b: Uint8Array, limit: number) => AtaResult): AtaResult {
    if (!(cdb[1]! & 1)) return this.check(SenseKey.IllegalRequest, Asc.InvalidFieldInCdb);
    const limit = be16(cdb, 7);
    if (!(cdb[4]! & (1 << GESN_CLASS_MEDIA))) {
      return send(new Uint8Array([0, 2, GESN_NEA, 1 << GESN_CLASS_MEDIA]), limit);
    }
    // Media Status: Door or Tray Open, else Media Present (a disc on an open tray is not in the drive; Linux's
    // sr driver takes Media Present for a drive ready to read).
    const status = this.trayOpen ? 0b01 : this.backend ? 0b10 : 0;
    const out = new Uint8Array([0, 6, GESN_CLASS_MEDIA, 1 << GESN_CLASS_MEDIA, this.event, status, 0, 0]);
    this.event = MediaEvent.NoChange;
    return send(out, limit);
  }

  /** MODE SENSE (10) (SPC-3 §6.10): pages 01h and 2Ah, or all of them; no block descriptors. */
  private modeSense(cdb: Uint8Array, send: (b: Uint8Array, limit: number) => AtaResult): AtaResult {
    const pc = cdb[2]! >>> 6, page = cdb[2]! & 0x3f;
    if (pc === MODE_PC_SAVED) return this.check(SenseKey.IllegalRequest, Asc.SavingParametersNotSupported);
    const changeable = pc === 1;
    const pages: number[] = [];
    if (page === MODE_PAGE_ERROR_RECOVERY || page === MODE_PAGE_ALL) {
      pages.push(MODE_PAGE_ERROR_RECOVERY, 0x0a, ...new Array<number>(10).fill(0));
    }
    if (page === MODE_PAGE_CAPABILITIES || page === MODE_PAGE_ALL) {
      const caps = changeable ? new Array<number>(20).fill(0) : [
        0x3b,                                       // reads CD-R, CD-RW, method 2, DVD-ROM, DVD-R
        0x00,                                       // writes nothing
        0x71,                                       // audio play, mode 2 form 1 and 2, multi-session
        0x00,
        0x29 | (this.locked ? 0b10 : 0),            // tray loading, eject, lock (and its state)
        0x00,
        0x1b, 0x90,                                 // maximum read speed, kB/s
        0x01, 0x00,                                 // volume levels
        0x02, 0x00,                                 // buffer, KiB
        0x1b, 0x90,                                 // current read speed
        0, 0, 0, 0, 0, 0,
      ];
      pages.push(MODE_PAGE_CAPABILITIES, 0x14, ...caps);
    }
    if (pages.length === 0) return this.check(SenseKey.IllegalRequest, Asc.InvalidFieldInCdb);
    const out = new Uint8Array(8 + pages.length);
    putBe16(out, 0, out.length - 2);
    out.set(pages, 8);
    return send(out, be16(cdb, 7));
  }

  /** START STOP UNIT (MMC-5): LoEj with Start clear opens the tray unless the guest prevented removal;
   *  LoEj with Start set closes it, and a disc in it reads as a new medium. */
  private startStop(flags: number): AtaResult {
    const start = (flags & 0b01) !== 0, loej = (flags & 0b10) !== 0;
    if (!loej) return this.good();
    if (!start) {
      if (this.locked) return this.check(SenseKey.IllegalRequest, Asc.MediumRemovalPrevented);
      this.trayOpen = true;
    } else if (this.trayOpen) {
      this.trayOpen = false;
      if (this.backend) this.mediaChanged(MediaEvent.NewMedia);
    }
    return this.good();
  }

  /** IDENTIFY PACKET DEVICE data (ATA8-ACS §7.17). */
  identify(): Uint8Array {
    const w = new Uint16Array(256);
    w[0] = 0x85c0;                                  // ATAPI, CD/DVD (05h), removable, 12-byte packets
    putAtaString(w, 10, 10, this.serial);
    putAtaString(w, 23, 4, this.firmware);
    putAtaString(w, 27, 20, this.model);
    w[49] = 0x0b00;                                 // IORDY, LBA, DMA
    w[50] = 0x4000;
    w[53] = 0x0006;
    w[63] = 0x0007;
    w[64] = 0x0003;
    w[65] = 120; w[66] = 120; w[67] = 120; w[68] = 120;
    w[76] = 0x0002;                                 // SATA Gen1 signalling
    w[80] = 0x01f0;
    w[82] = 0x4010;                                 // NOP, PACKET
    w[83] = 0x4000;
    w[84] = 0x4000;
    w[85] = 0x4010;
    w[87] = 0x4000;
    w[88] = 0x203f;                                 // UDMA 0-5, mode 5 selected
    return identifyBytes(w);
  }
}

function be16(b: Uint8Array, at: number): number { return (b[at]! << 8) | b[at + 1]!; }
function be32(b: Uint8Array, at: number): number { return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0; }
function putBe16(b: Uint8Array, at: number, v: number): void { b[at] = (v >>> 8) & 0xff; b[at + 1] = v & 0xff; }
function putBe32(b: Uint8Array, at: number, v: number): void { putBe16(b, at, v >>> 16); putBe16(b, at + 2, v & 0xffff); }
function putAscii(b: Uint8Array, at: number, length: number, text: string): void {
  const s = text.replace(/[^\x20-\x7e]/g, '').padEnd(length, ' ');
  for (let i = 0; i < length; i++) b[at + i] = s.charCodeAt(i);
}
