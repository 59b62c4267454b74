// The machine a user asks for, host-neutral: the `wasmpc run` flags (src/node/args.ts), a `vm.json` file and
// the browser all end in one MachineConfig. The file maps one to one onto the flags:
//
//   -m 256M                                   "memory": "256M"      (a plain number is MiB in both)
//   -c 1                                      "cpus": 1
//   --kernel F  --initrd F  --append S  --bios F     "kernel"  "initrd"  "append"  "bios"
//   -s 3,virtio-blk,disk.img,ro,snapshot      {"slot": 3, "func": 0, "emulation": "virtio-blk",
//                                              "path": "disk.img", "ro": true, "snapshot": true}
//   -s 4,virtio-net,user,hostfwd=tcp:127.0.0.1:2222-:22,restrict=on,mac=52:54:00:12:34:56
//                                             {"slot": 4, "emulation": "virtio-net", "backend": "user",
//                                              "hostfwd": ["tcp:127.0.0.1:2222-:22"], "restrict": true,
//                                              "mac": "52:54:00:12:34:56"}
//   -s 5,virtio-net,socket,listen=127.0.0.1:5555      {"backend": "socket", "listen": "127.0.0.1:5555"}
//   -s 5,virtio-net,socket,connect=127.0.0.1:5555     {"backend": "socket", "connect": "127.0.0.1:5555"}
//   -s 5,virtio-net,tap,tap0                  {"backend": "tap", "ifname": "tap0"}
//   -s 6,ahci,hd:a.img,cd:b.iso               {"emulation": "ahci", "ports": [{"type": "hd", "path": "a.img"},
//                                                                             {"type": "cd", "path": "b.iso"}]}
//   -s 7,ahci-hd,a.img   -s 8,ahci-cd,b.iso   {"emulation": "ahci-hd", "path": "a.img"}
//   -s 6,ahci,hd:a.qcow2,snapshot,cd:         {"ports": [{"type": "hd", "path": "a.qcow2", "snapshot": true}, {"type": "cd"}]}
//                                             (options follow their port's path, as in bhyve; `cd:` is an empty drive)
//   -s 3,virtio-blk,a.img,format=raw          {"emulation": "virtio-blk", "path": "a.img", "format": "raw"}
//                                             (without format, the format is read from the file: raw or qcow2)
//   -l com1,stdio                             "serial": {"com1": "stdio"}   (or file:PATH, tcp:127.0.0.1:PORT, null)
//   --no-jit  --debug-exit  --log-ud          "jit": false  "debugExit": true  "logUd": true
//   --jit-stats                               "jitStats": true
//   --jit-check  --jit-check-blocks           "jitCheck": true / "blocks"
//   --icount                                  "icount": true
//
// Reading happens in two steps so that flags can override a file: each source becomes a MachineSpec (only
// what it says), mergeSpecs() lays one over the other, and completeSpec() adds the defaults (hostbridge at
// 0:0, lpc at 1:0, COM1 on stdio) and checks what involves several fields.
import { PCI_FUNCTIONS, PCI_SLOTS } from '../devices/pci';
import { IMAGE_FORMATS, type ImageFormat } from '../block/image';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
export const MIN_MEMORY_BYTES = 16 * MiB;
/** Guest RAM ends below the 32-bit PCI hole at 0xE000_0000. */
export const MAX_MEMORY_BYTES = 3.5 * GiB;
export const MEMORY_GRANULE = 4 * KiB;
export const MAX_CPUS = 16;
/** AHCI 1.3 §3.1.1: CAP.NP counts up to 32 ports. */
export const MAX_AHCI_PORTS = 32;
/** The only address a listening socket may bind: nothing here authenticates its peer. */
export const LOOPBACK = '127.0.0.1';

/** The kernel command line of the default guest: its console on COM1. */
export const DEFAULT_APPEND = 'console=ttyS0';

export const SERIAL_PORTS = ['com1', 'com2', 'com3', 'com4'] as const;
export type SerialPortName = (typeof SERIAL_PORTS)[number];

/** Where a UART's line goes on the host. */
export type SerialBackend =
  | { kind: 'stdio' }
  | { kind: 'file'; path: string }
  | { kind: 'tcp'; host: typeof LOOPBACK; port: number }
  | { kind: 'null' };

/** A host port forwarded to the guest by the user-mode network: tcp:127.0.0.1:HOSTPORT-[GUESTADDR]:GUESTPORT. */
export interface HostForward {
  hostPort: number;
  /** Undefined: the address the user-mode DHCP server hands the guest. */
  guestAddr: string | undefined;
  guestPort: number;
}

export type NetBackend =
  | { kind: 'user'; hostfwd: HostForward[]; restrict: boolean }
  | { kind: 'socket'; mode: 'listen' | 'connect'; host: typeof LOOPBACK; port: number }
  | { kind: 'tap'; ifname: string };

/** How a disk image opens; each field is present only when given (ro and snapshot only when true). */
export interface DiskImageOptions {
  ro?: boolean;
  /** Keep writes in memory; the image file is never written. */
  snapshot?: boolean;
  /** Overrides detection from the file's magic. */
  format?: ImageFormat;
}

export interface AhciPort extends DiskImageOptions {
  type: 'hd' | 'cd';
  /** Missing for a CD drive with no disc. */
  path?: string;
}

export const EMULATIONS = ['hostbridge', 'lpc', 'virtio-blk', 'virtio-net', 'ahci', 'ahci-hd', 'ahci-cd'] as const;
export type Emulation = (typeof EMULATIONS)[number];

export type SlotDevice =
  | { emulation: 'hostbridge' }
  | { emulation: 'lpc' }
  | { emulation: 'virtio-blk'; path: string; ro: boolean; snapshot: boolean; format?: ImageFormat }
  | { emulation: 'virtio-net'; backend: NetBackend; mac: string | undefined }
  | { emulation: 'ahci'; ports: AhciPort[] }
  | ({ emulation: 'ahci-hd'; path: string } & DiskImageOptions)
  | { emulation: 'ahci-cd'; path: string };

/** One PCI function on bus 0. */
export type PciSlotConfig = { slot: number; func: number } & SlotDevice;

export interface MachineConfig {
  memoryBytes: number;
  /** vCPUs asked for, 1..16 (only the first one runs for now). */
  cpus: number;
  /** Undefined with `bios` undefined too: boot the default guest (images/debian-i686). */
  kernel: string | undefined;
  initrd: string | undefined;
  /** The kernel command line, for `kernel` or the default guest. */
  append: string | undefined;
  bios: string | undefined;
  /** Sorted by slot then function; always holds one hostbridge and one lpc. */
  slots: PciSlotConfig[];
  /** The UARTs present; a port missing here has no UART. */
  serial: Partial<Record<SerialPortName, SerialBackend>>;
  jit: boolean;
  /** The isa-debug-exit port: a guest write ends wasmpc with that exit status. */
  debugExit: boolean;
  /** List the opcodes that raised #UD because the core does not implement them. */
  logUd: boolean;
  jitStats: boolean;
  /** Check every call into translated code against the interpreter (slow; finds translator bugs). */
  jitCheck: boolean | 'blocks';
  /** Virtual time counts instructions (1 ns each) instead of following the host clock: runs repeat exactly. */
  icount: boolean;
}

/** What one source (flags, a file) says; completeSpec() fills in the rest. */
export type MachineSpec = Partial<Omit<MachineConfig, 'slots' | 'serial'>> & Pick<MachineConfig, 'slots' | 'serial'>;

/** The vm.json format (see the table at the top). */
export type VmJson = Partial<Omit<MachineConfig, 'memoryBytes' | 'slots' | 'serial'>> & {
  memory?: string | number;
  slots?: Array<Record<string, unknown>>;
  serial?: Partial<Record<SerialPortName, string>>;
};

/** A configuration that cannot be used: one line for a person, naming the source and the field. */
export class ConfigError {
  constructor(readonly message: string) {}
}

/**
 * A value that failed validation. `field` is its path in the object being read ('slot', 'hostfwd[1]'), or ''
 * for a problem between fields; the message reads after it: "must be 0-31".
 */
export class FieldError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

const TOP_FIELDS = ['memory', 'cpus', 'kernel', 'initrd', 'append', 'bios', 'slots', 'serial', 'jit', 'jitStats', 'jitCheck', 'debugExit', 'logUd', 'icount'];

/** Read and complete a vm.json document; `source` names it in errors (`vm.json: slots[2].slot: must be 0-31`). */
export function validateConfig(json: unknown, source = 'config'): MachineConfig | ConfigError {
  const spec = readConfigSpec(json, source);
  return spec instanceof ConfigError ? spec : completeSpec(spec, source);
}

/** Read a vm.json document into what it says, without defaults (for merging under command-line flags). */
export function readConfigSpec(json: unknown, source = 'config'): MachineSpec | ConfigError {
  try {
    return specFromJson(json);
  } catch (e) {
    return toConfigError(e, source);
  }
}

/** `over` wins field by field; its slots replace those of `base` at the same slot:func, its ports likewise. */
export function mergeSpecs(base: MachineSpec, over: MachineSpec): MachineSpec {
  const taken = new Set(over.slots.map(slotKey));
  return {
    memoryBytes: over.memoryBytes ?? base.memoryBytes,
    cpus: over.cpus ?? base.cpus,
    kernel: over.kernel ?? base.kernel,
    initrd: over.initrd ?? base.initrd,
    append: over.append ?? base.append,
    bios: over.bios ?? base.bios,
    slots: [...base.slots.filter((s) => !taken.has(slotKey(s))), ...over.slots],
    serial: { ...base.serial, ...over.serial },
    jit: over.jit ?? base.jit,
    debugExit: over.debugExit ?? base.debugExit,
    logUd: over.logUd ?? base.logUd,
    jitStats: over.jitStats ?? base.jitStats,
    jitCheck: over.jitCheck ?? base.jitCheck,
    icount: over.icount ?? base.icount,
  };
}

/** Add the defaults and check what spans fields; errors start with `source: ` if one is given. */
export function completeSpec(spec: MachineSpec, source?: string): MachineConfig | ConfigError {
  try {
    return complete(spec);
  } catch (e) {
    return toConfigError(e, source);
  }
}

function toConfigError(e: unknown, source: string | undefined): ConfigError {
  if (!(e instanceof FieldError)) throw e;
  const where = [source, e.field].filter((w) => w !== undefined && w !== '').join(': ');
  return new ConfigError(where === '' ? e.message : `${where}: ${e.message}`);
}

export const slotKey = (s: { slot: number; func: number }): string => `${s.slot}:${s.func}`;

function complete(spec: MachineSpec): MachineConfig {
  if (spec.initrd !== undefined && spec.kernel === undefined) {
    throw new FieldError('', 'an initrd needs a kernel (the default guest brings its own)');
  }
  const slots = [...spec.slots];
  addDefaultSlot(slots, 'hostbridge', 0);
  addDefaultSlot(slots, 'lpc', 1);
  slots.sort((a, b) => a.slot - b.slot || a.func - b.func);
  const occupied = new Set(slots.map(slotKey));
  for (const s of slots) {
    // A multi-function device implements function 0: enumeration probes it first and skips the slot without it.
    if (s.func !== 0 && !occupied.has(`${s.slot}:0`)) {
      throw new FieldError('', `${slotKey(s)} (${s.emulation}) needs a function at ${s.slot}:0: PCI finds a device through function 0`);
    }
  }
  checkDistinctMacs(slots);
  const onStdio = SERIAL_PORTS.filter((p) => spec.serial[p]?.kind === 'stdio');
  if (onStdio.length > 1) throw new FieldError('', `${onStdio.join(' and ')} use stdio, but only one port can`);
  // COM1 is the console unless the user connected it, or put another port on stdio.
  const serial: MachineConfig['serial'] = {};
  for (const p of SERIAL_PORTS) {
    const b = spec.serial[p] ?? (p === 'com1' ? { kind: onStdio.length === 0 ? 'stdio' : 'null' } : undefined);
    if (b) serial[p] = b;
  }
  checkDistinctListeners(slots, serial);
  return {
    memoryBytes: spec.memoryBytes ?? 256 * MiB,
    cpus: spec.cpus ?? 1,
    kernel: spec.kernel,
    initrd: spec.initrd,
    append: spec.append,
    bios: spec.bios,
    slots,
    serial,
    jit: spec.jit ?? true,
    debugExit: spec.debugExit ?? false,
    logUd: spec.logUd ?? false,
    jitStats: spec.jitStats ?? false,
    jitCheck: spec.jitCheck ?? false,
    icount: spec.icount ?? false,
  };
}

/** bhyve's layout: the host bridge at 0:0 and the LPC bridge at 1:0, unless the user placed them. */
function addDefaultSlot(slots: PciSlotConfig[], emulation: 'hostbridge' | 'lpc', slot: number): void {
  const present = slots.filter((s) => s.emulation === emulation);
  if (present.length > 1) {
    throw new FieldError('', `${emulation} is at ${present.map(slotKey).join(' and ')}, but a machine has one`);
  }
  if (present.length === 1) return;
  const holder = slots.find((s) => s.slot === slot && s.func === 0);
  if (holder) {
    throw new FieldError('', `${slot}:0 holds ${holder.emulation}, where the ${emulation} goes unless given a slot of its own`);
  }
  slots.push({ slot, func: 0, emulation });
}

function checkDistinctMacs(slots: PciSlotConfig[]): void {
  const seen = new Map<string, string>();
  for (const s of slots) {
    if (s.emulation !== 'virtio-net' || s.mac === undefined) continue;
    const other = seen.get(s.mac);
    if (other) throw new FieldError('', `${other} and ${slotKey(s)} have the same mac ${s.mac}`);
    seen.set(s.mac, slotKey(s));
  }
}

/** Two listeners on one loopback port would fail at start with EADDRINUSE; say which ones collide now. */
function checkDistinctListeners(slots: PciSlotConfig[], serial: MachineConfig['serial']): void {
  const owners = new Map<number, string>();
  const claim = (port: number, owner: string) => {
    const other = owners.get(port);
    if (other) throw new FieldError('', `${LOOPBACK}:${port} is used by both ${other} and ${owner}`);
    owners.set(port, owner);
  };
  for (const p of SERIAL_PORTS) {
    const b = serial[p];
    if (b?.kind === 'tcp') claim(b.port, p);
  }
  for (const s of slots) {
    if (s.emulation !== 'virtio-net') continue;
    const net = s.backend;
    if (net.kind === 'user') for (const f of net.hostfwd) claim(f.hostPort, `${slotKey(s)} (hostfwd)`);
    if (net.kind === 'socket' && net.mode === 'listen') claim(net.port, `${slotKey(s)} (socket listen)`);
  }
}

// ---- values shared by the flags and the file ----

/**
 * A memory size: a number of MiB, or a number with a K, M or G suffix (binary units), as bhyve and QEMU read
 * `-m`. A JSON number is MiB too.
 */
export function parseMemory(value: unknown): number {
  let bytes: number;
  if (typeof value === 'number') {
    bytes = value * MiB;
  } else {
    const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)([KMG])?$/i.exec(value.trim()) : null;
    if (!m) throw new FieldError('', 'must be a size: a number of MiB, or with a K, M or G suffix (256M, 1G)');
    const unit = { K: KiB, M: MiB, G: GiB }[(m[2] ?? 'M').toUpperCase() as 'K' | 'M' | 'G'];
    bytes = Number(m[1]) * unit;
  }
  if (!Number.isInteger(bytes) || bytes % MEMORY_GRANULE !== 0) throw new FieldError('', 'must be a multiple of 4K');
  if (bytes < MIN_MEMORY_BYTES) throw new FieldError('', 'must be at least 16M');
  if (bytes > MAX_MEMORY_BYTES) throw new FieldError('', 'must be at most 3584M (3.5G): RAM ends below the PCI hole');
  return bytes;
}

export function checkCpus(value: unknown): number {
  if (!isIntIn(value, 1, MAX_CPUS)) throw new FieldError('', `must be 1-${MAX_CPUS}`);
  return value;
}

/** A serial backend, written the same way after `-l comN,` and in "serial": stdio, null, file:PATH, tcp:127.0.0.1:PORT. */
export function parseSerialBackend(text: string): SerialBackend {
  if (text === 'stdio' || text === 'null') return { kind: text };
  if (text.startsWith('file:')) {
    const path = text.slice('file:'.length);
    if (path === '') throw new FieldError('', 'must name a file: file:PATH');
    return { kind: 'file', path };
  }
  if (text.startsWith('tcp:')) {
    const { host, port } = parseHostPort(text.slice('tcp:'.length), 'tcp:127.0.0.1:PORT');
    return { kind: 'tcp', host, port };
  }
  throw new FieldError('', `must be stdio, null, file:PATH or tcp:${LOOPBACK}:PORT (got '${text}')`);
}

/** HOST:PORT for a socket; HOST must be the loopback address, since nothing here authenticates the peer. */
function parseHostPort(text: string, form: string): { host: typeof LOOPBACK; port: number } {
  const m = /^(.*):(\d+)$/.exec(text);
  if (!m) throw new FieldError('', `must be ${form} (got '${text}')`);
  if (m[1] !== LOOPBACK) throw new FieldError('', `must be on ${LOOPBACK}, the loopback address: nothing authenticates a peer (got '${m[1]}')`);
  return { host: LOOPBACK, port: parsePort(m[2]!, text) };
}

function parsePort(digits: string, whole: string): number {
  const port = Number(digits);
  if (!/^\d{1,5}$/.test(digits) || port < 1 || port > 65535) throw new FieldError('', `port must be 1-65535 (got '${whole}')`);
  return port;
}

/** QEMU's hostfwd=tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, with the host address on loopback only. */
export function parseHostForward(text: string): HostForward {
  const m = /^([a-z]*):([^:]*):(\d+)-([^:]*):(\d+)$/.exec(text);
  if (!m) throw new FieldError('', `must be tcp:${LOOPBACK}:HOSTPORT-:GUESTPORT (got '${text}')`);
  if (m[1] !== 'tcp') throw new FieldError('', `must forward tcp, the only protocol here (got '${m[1]}')`);
  if (m[2] !== '' && m[2] !== LOOPBACK) {
    throw new FieldError('', `must listen on ${LOOPBACK}, the loopback address (got '${m[2]}')`);
  }
  const guestAddr = m[4] === '' ? undefined : m[4]!;
  if (guestAddr !== undefined && !isIpv4(guestAddr)) throw new FieldError('', `has a guest address that is not IPv4 (got '${guestAddr}')`);
  return { hostPort: parsePort(m[3]!, text), guestAddr, guestPort: parsePort(m[5]!, text) };
}

function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** A unicast, non-zero MAC address, written with colons (bhyve's net_parsemac refuses the same). */
export function parseMac(value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(value)) {
    throw new FieldError('', `must be six hex bytes like 52:54:00:12:34:56 (got '${String(value)}')`);
  }
  const bytes = value.split(':').map((b) => parseInt(b, 16));
  if (bytes[0]! & 0b0000_0001) throw new FieldError('', `must be unicast: the low bit of the first byte is set (got '${value}')`);
  if (bytes.every((b) => b === 0)) throw new FieldError('', 'must not be all zeros');
  return value.toLowerCase();
}

/** Linux IFNAMSIZ is 16 with the terminating NUL. */
function parseIfname(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]{1,15}$/.test(value)) {
    throw new FieldError('', `must be an interface name of 1-15 letters, digits, '_', '.' or '-' (got '${String(value)}')`);
  }
  return value;
}

// ---- the JSON form ----

function specFromJson(json: unknown): MachineSpec {
  if (!isRecord(json)) throw new FieldError('', 'must hold a JSON object');
  rejectUnknown(json, TOP_FIELDS, '', `is not a field (fields: ${TOP_FIELDS.join(', ')})`);
  const spec: MachineSpec = { slots: [], serial: {} };
  if (json.memory !== undefined) spec.memoryBytes = at('memory', () => parseMemory(json.memory));
  if (json.cpus !== undefined) spec.cpus = at('cpus', () => checkCpus(json.cpus));
  for (const key of ['kernel', 'initrd', 'bios'] as const) {
    if (json[key] !== undefined) spec[key] = at(key, () => nonEmptyString(json[key]));
  }
  if (json.append !== undefined) {
    if (typeof json.append !== 'string') throw new FieldError('append', 'must be a string');
    spec.append = json.append;
  }
  for (const key of ['jit', 'jitStats', 'debugExit', 'logUd', 'icount'] as const) {
    if (json[key] !== undefined) spec[key] = at(key, () => bool(json[key]));
  }
  if (json.jitCheck !== undefined) {
    spec.jitCheck = json.jitCheck === 'blocks' ? 'blocks' : at('jitCheck', () => bool(json.jitCheck));
  }
  if (json.slots !== undefined) {
    if (!Array.isArray(json.slots)) throw new FieldError('slots', 'must be an array');
    const where = new Map<string, number>();
    json.slots.forEach((raw: unknown, i) => {
      const s = at(`slots[${i}]`, () => slotFromJson(raw));
      const first = where.get(slotKey(s));
      if (first !== undefined) throw new FieldError(`slots[${i}]`, `${slotKey(s)} is already used by slots[${first}]`);
      where.set(slotKey(s), i);
      spec.slots.push(s);
    });
  }
  if (json.serial !== undefined) {
    const serial = json.serial;
    if (!isRecord(serial)) throw new FieldError('serial', 'must be an object like {"com1": "stdio"}');
    rejectUnknown(serial, SERIAL_PORTS, 'serial.', 'is not a port (com1-com4)');
    for (const p of SERIAL_PORTS) {
      const v = serial[p];
      if (v === undefined) continue;
      spec.serial[p] = at(`serial.${p}`, () => {
        if (typeof v !== 'string') throw new FieldError('', `must be a string: stdio, null, file:PATH or tcp:${LOOPBACK}:PORT`);
        return parseSerialBackend(v);
      });
    }
  }
  return spec;
}

/** Run `read`, putting `field` in front of the path of any FieldError it throws. */
function at<T>(field: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    const sub = e.field === '' ? '' : e.field.startsWith('[') ? e.field : `.${e.field}`;
    throw new FieldError(field + sub, e.message);
  }
}

const SLOT_FIELDS: Record<Emulation, readonly string[]> = {
  'hostbridge': [],
  'lpc': [],
  'virtio-blk': ['path', 'ro', 'snapshot', 'format'],
  'virtio-net': ['backend', 'mac'],
  'ahci': ['ports'],
  'ahci-hd': ['path', 'ro', 'snapshot', 'format'],
  'ahci-cd': ['path'],
};
const NET_FIELDS: Record<NetBackend['kind'], readonly string[]> = {
  user: ['hostfwd', 'restrict'],
  socket: ['listen', 'connect'],
  tap: ['ifname'],
};

/** One element of "slots"; errors name fields of the element ('slot', 'ports[1].path'). */
export function slotFromJson(raw: unknown): PciSlotConfig {
  if (!isRecord(raw)) throw new FieldError('', 'must be an object like {"slot": 3, "emulation": "virtio-blk", "path": "disk.img"}');
  if (!isIntIn(raw.slot, 0, PCI_SLOTS - 1)) throw new FieldError('slot', `must be 0-${PCI_SLOTS - 1}`);
  const func = raw.func ?? 0;
  if (!isIntIn(func, 0, PCI_FUNCTIONS - 1)) throw new FieldError('func', `must be 0-${PCI_FUNCTIONS - 1}`);
  const emulation = raw.emulation;
  if (!EMULATIONS.includes(emulation as Emulation)) {
    throw new FieldError('emulation', `must be one of ${EMULATIONS.join(', ')} (got '${String(emulation)}')`);
  }
  const em = emulation as Emulation;
  const base = { slot: raw.slot, func };
  const allowed = ['slot', 'func', 'emulation', ...SLOT_FIELDS[em]];
  if (em !== 'virtio-net') {
    rejectUnknown(raw, allowed, '', `is not an option of ${em}`);
  }
  switch (em) {
    case 'hostbridge':
    case 'lpc':
      return { ...base, emulation: em };
    case 'virtio-blk':
      return {
        ...base, emulation: em, path: at('path', () => requiredPath(raw.path)),
        ro: at('ro', () => bool(raw.ro ?? false)), snapshot: at('snapshot', () => bool(raw.snapshot ?? false)),
        ...(raw.format !== undefined ? { format: at('format', () => imageFormat(raw.format)) } : {}),
      };
    case 'ahci-hd':
      return { ...base, emulation: em, path: at('path', () => requiredPath(raw.path)), ...diskImageOptions(raw) };
    case 'ahci-cd':
      return { ...base, emulation: em, path: at('path', () => requiredPath(raw.path)) };
    case 'ahci':
      return { ...base, emulation: em, ports: at('ports', () => ahciPorts(raw.ports)) };
    case 'virtio-net': {
      const kind = raw.backend;
      if (kind !== 'user' && kind !== 'socket' && kind !== 'tap') {
        throw new FieldError('backend', `must be user, socket or tap (got '${String(kind)}')`);
      }
      rejectUnknown(raw, [...allowed, ...NET_FIELDS[kind]], '', `is not an option of virtio-net with backend ${kind}`);
      const mac = raw.mac === undefined ? undefined : at('mac', () => parseMac(raw.mac));
      return { ...base, emulation: em, backend: netBackend(kind, raw), mac };
    }
  }
}

function netBackend(kind: NetBackend['kind'], raw: Record<string, unknown>): NetBackend {
  switch (kind) {
    case 'user': {
      const fwd = raw.hostfwd ?? [];
      if (!Array.isArray(fwd)) throw new FieldError('hostfwd', `must be an array like ["tcp:${LOOPBACK}:2222-:22"]`);
      const hostfwd = fwd.map((f: unknown, i) => at(`hostfwd[${i}]`, () => {
        if (typeof f !== 'string') throw new FieldError('', `must be a string like "tcp:${LOOPBACK}:2222-:22"`);
        return parseHostForward(f);
      }));
      return { kind, hostfwd, restrict: at('restrict', () => bool(raw.restrict ?? false)) };
    }
    case 'socket': {
      if ((raw.listen === undefined) === (raw.connect === undefined)) {
        throw new FieldError('', `needs either listen=${LOOPBACK}:PORT or connect=${LOOPBACK}:PORT`);
      }
      const mode = raw.listen !== undefined ? 'listen' : 'connect';
      const { host, port } = at(mode, () => {
        const v = raw[mode];
        if (typeof v !== 'string') throw new FieldError('', `must be a string like "${LOOPBACK}:5555"`);
        return parseHostPort(v, `${LOOPBACK}:PORT`);
      });
      return { kind, mode, host, port };
    }
    case 'tap':
      if (raw.ifname === undefined) throw new FieldError('ifname', 'is required');
      return { kind, ifname: at('ifname', () => parseIfname(raw.ifname)) };
  }
}

function ahciPorts(value: unknown): AhciPort[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new FieldError('', 'must be a non-empty array like [{"type": "hd", "path": "disk.img"}]');
  }
  if (value.length > MAX_AHCI_PORTS) throw new FieldError('', `must have at most ${MAX_AHCI_PORTS} ports`);
  return value.map((p: unknown, i) => at(`[${i}]`, () => {
    if (!isRecord(p)) throw new FieldError('', 'must be an object like {"type": "hd", "path": "disk.img"}');
    rejectUnknown(p, ['type', 'path', 'ro', 'snapshot', 'format'], '', 'is not a field of an AHCI port (type, path, ro, snapshot, format)');
    if (p.type !== 'hd' && p.type !== 'cd') throw new FieldError('type', `must be hd or cd (got '${String(p.type)}')`);
    // A CD drive may be empty; a disk needs its image.
    const path = p.type === 'cd' && p.path === undefined ? {} : { path: at('path', () => requiredPath(p.path)) };
    return { type: p.type, ...path, ...diskImageOptions(p) };
  }));
}

/** ro, snapshot and format of a disk, each kept only when given (ro and snapshot only when true). */
function diskImageOptions(raw: Record<string, unknown>): DiskImageOptions {
  const out: DiskImageOptions = {};
  if (raw.ro !== undefined && at('ro', () => bool(raw.ro))) out.ro = true;
  if (raw.snapshot !== undefined && at('snapshot', () => bool(raw.snapshot))) out.snapshot = true;
  if (raw.format !== undefined) out.format = at('format', () => imageFormat(raw.format));
  return out;
}

function imageFormat(value: unknown): ImageFormat {
  if (!IMAGE_FORMATS.includes(value as ImageFormat)) {
    throw new FieldError('', `must be ${IMAGE_FORMATS.join(' or ')} (got '${String(value)}')`);
  }
  return value as ImageFormat;
}

function requiredPath(value: unknown): string {
  if (value === undefined) throw new FieldError('', 'is required');
  return nonEmptyString(value);
}

function nonEmptyString(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new FieldError('', 'must be a non-empty string');
  return value;
}

function bool(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new FieldError('', 'must be true or false');
  return value;
}

function isIntIn(value: unknown, lo: number, hi: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= lo && value <= hi;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rejectUnknown(obj: Record<string, unknown>, known: readonly string[], prefix: string, message: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) throw new FieldError(prefix + key, message);
  }
}

// ---- back to JSON ----

/** The vm.json that validateConfig() reads back into `config` (every field explicit). */
export function configToJson(config: MachineConfig): VmJson {
  const json: VmJson = {
    memory: config.memoryBytes % MiB === 0 ? `${config.memoryBytes / MiB}M` : `${config.memoryBytes / KiB}K`,
    cpus: config.cpus,
  };
  for (const key of ['kernel', 'initrd', 'append', 'bios'] as const) {
    if (config[key] !== undefined) json[key] = config[key];
  }
  json.slots = config.slots.map(slotToJson);
  json.serial = {};
  for (const p of SERIAL_PORTS) {
    const b = config.serial[p];
    if (b) json.serial[p] = serialToString(b);
  }
  json.jit = config.jit;
  json.debugExit = config.debugExit;
  json.logUd = config.logUd;
  json.jitStats = config.jitStats;
  if (config.jitCheck) json.jitCheck = config.jitCheck;
  if (config.icount) json.icount = true;
  return json;
}

export function serialToString(b: SerialBackend): string {
  switch (b.kind) {
    case 'stdio':
    case 'null':
      return b.kind;
    case 'file':
      return `file:${b.path}`;
    case 'tcp':
      return `tcp:${b.host}:${b.port}`;
  }
}

/** Every slot but virtio-net has the same fields in MachineConfig and in vm.json. */
function slotToJson(s: PciSlotConfig): Record<string, unknown> {
  if (s.emulation !== 'virtio-net') return JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
  const out: Record<string, unknown> = { slot: s.slot, func: s.func, emulation: s.emulation, backend: s.backend.kind };
  const b = s.backend;
  if (b.kind === 'user') {
    out.hostfwd = b.hostfwd.map((f) => `tcp:${LOOPBACK}:${f.hostPort}-${f.guestAddr ?? ''}:${f.guestPort}`);
    out.restrict = b.restrict;
  } else if (b.kind === 'socket') {
    out[b.mode] = `${b.host}:${b.port}`;
  } else {
    out.ifname = b.ifname;
  }
  if (s.mac !== undefined) out.mac = s.mac;
  return out;
}
