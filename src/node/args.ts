// `wasmpc run` options: bhyve-style PCI slots (-s) and COM ports (-l), QEMU-style conveniences (-m, --kernel,
// --append), and --config for the same machine as JSON (the mapping is in src/machine/config.ts). This file
// adds what needs Node: reading the JSON file and checking that the files named can be opened.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import {
  ConfigError, EMULATIONS, FieldError, SERIAL_PORTS, checkCpus, completeSpec, mergeSpecs, parseMemory,
  parseSerialBackend, readConfigSpec, slotFromJson, slotKey,
  type Emulation, type MachineConfig, type MachineSpec, type PciSlotConfig, type SerialPortName,
} from '../machine/config';

export type RunCommand =
  | { kind: 'run'; config: MachineConfig }
  | { kind: 'help'; text: string }
  /** A usage error: print `message` (one line) and exit with status 2. */
  | { kind: 'error'; message: string };

export const RUN_HELP = `usage: wasmpc run [options]

Boot a PC. With neither --kernel nor --bios it boots the Debian i686 guest in images/debian-i686.

  -m SIZE              guest RAM in MiB, or with a K, M or G suffix: 16M-3584M, a multiple of 4K
                       (default 256M)
  -c N                 vCPUs, 1-16 (default 1)
  --kernel FILE        boot a Linux bzImage directly
  --initrd FILE        an initramfs for --kernel
  --append "CMDLINE"   the kernel command line (of --kernel or of the default guest)
  --bios FILE          a firmware image in place of the built-in one
  -s SLOT[:FUNC],EMULATION[,CONF]
                       a PCI function on bus 0: slot 0-31, function 0-7 (default 0); repeatable
       hostbridge                        the host bridge (placed at 0:0 unless given)
       lpc                               the ISA bridge with the COM ports (placed at 1:0 unless given)
       virtio-blk,PATH[,ro][,snapshot][,format=raw|qcow2]
                                         a disk (raw or qcow2, detected unless format= says);
                                         snapshot keeps writes in memory and drops them at exit
       virtio-net,user[,hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT]...[,restrict=on][,mac=MAC]
                                         user-mode networking; restrict=on cuts the guest off from
                                         everything but its forwarded ports
       virtio-net,socket,listen=127.0.0.1:PORT[,mac=MAC]
       virtio-net,socket,connect=127.0.0.1:PORT[,mac=MAC]
                                         Ethernet frames over TCP to another wasmpc or QEMU
       virtio-net,tap,IFNAME[,mac=MAC]   a host tap interface
       ahci,hd:PATH[,OPT]...[,cd:[PATH][,OPT]...]...
                                         a SATA controller with one port per disk or CD, in order;
                                         OPT (ro, snapshot, format=raw|qcow2) applies to the port
                                         before it; cd: with no PATH is an empty drive
       ahci-hd,PATH[,OPT]...  ahci-cd,PATH
                                         a SATA controller with one disk, or with one CD
  -l comN,BACKEND      connect COM1-COM4 to stdio, file:PATH (appended to), tcp:127.0.0.1:PORT
                       (one client at a time) or null. COM1 is on stdio unless said otherwise;
                       a port not given has no UART.
  --config FILE        read the machine from a JSON file, e.g.
                         {"memory": "512M", "kernel": "bzImage", "append": "console=ttyS0",
                          "slots": [{"slot": 3, "emulation": "virtio-blk", "path": "disk.img"}],
                          "serial": {"com1": "stdio"}, "jit": true}
                       Its fields are the flags': memory cpus kernel initrd append bios slots
                       serial jit jitStats jitCheck debugExit logUd icount. Flags given as well override the file's fields;
                       a -s or -l replaces the file's device at that slot:func or port.
                       Paths are relative to the current directory, as on the command line.
  --no-jit             interpret every instruction (the interpreter is the reference)
  --debug-exit         let the guest end wasmpc with an exit status of its choice (QEMU's isa-debug-exit)
  --log-ud             at exit, list the opcodes that raised #UD because the core lacks them
  --jit-stats          at exit, print what the JIT translated, the share of instructions it ran,
                       compile time and invalidations
  --jit-check          run every call into translated code through the interpreter as well and stop at
                       the first difference (slow; for finding translator bugs)
  --jit-check-blocks   the same, one translated block per call (no chaining), naming the block at fault
  --icount             virtual time counts guest instructions (1 ns each; a halted CPU skips to its next
                       timer) instead of following the host clock, so a run repeats exactly (QEMU's -icount)
  -h, --help           this text

On a terminal, Ctrl-A X quits and Ctrl-A Ctrl-A sends a Ctrl-A to the guest.
`;

const VALUE_FLAGS = ['-m', '-c', '--kernel', '--initrd', '--append', '--bios', '-s', '-l', '--config'] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];
const SWITCHES = ['--no-jit', '--jit-stats', '--jit-check', '--jit-check-blocks', '--icount', '--debug-exit', '--log-ud', '-h', '--help'] as const;
type Switch = (typeof SWITCHES)[number];

/** An error in one flag, with the message already complete. */
class UsageError extends Error {}

/** A path that must open: where it came from, for the error message. */
interface PathCheck {
  path: string;
  write: boolean;
  /** `--kernel vmlinuz` (the message omits the path) or `-s 3,virtio-blk,disk.img` (it names it). */
  label: string;
  pathInMessage: boolean;
}

/** Turn the arguments after `run` into a machine, help, or a usage error. */
export function parseRunArgs(argv: readonly string[]): RunCommand {
  try {
    return parse(argv);
  } catch (e) {
    if (e instanceof UsageError) return { kind: 'error', message: `wasmpc: ${e.message}` };
    throw e;
  }
}

function parse(argv: readonly string[]): RunCommand {
  const flags: MachineSpec = { slots: [], serial: {} };
  const checks: PathCheck[] = [];
  /** --kernel, --initrd, --bios: the last one given wins, and only it must open. */
  const fileFlags = new Map<string, PathCheck>();
  const slotText = new Map<string, string>();
  const portText = new Map<SerialPortName, string>();
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if ((SWITCHES as readonly string[]).includes(arg)) {
      switch (arg as Switch) {
        case '-h':
        case '--help':
          return { kind: 'help', text: RUN_HELP };
        case '--no-jit':
          flags.jit = false;
          break;
        case '--debug-exit':
          flags.debugExit = true;
          break;
        case '--log-ud':
          flags.logUd = true;
          break;
        case '--jit-stats':
          flags.jitStats = true;
          break;
        case '--jit-check':
          flags.jitCheck = true;
          break;
        case '--jit-check-blocks':
          flags.jitCheck = 'blocks';
          break;
        case '--icount':
          flags.icount = true;
          break;
      }
      continue;
    }
    const split = splitValueFlag(arg);
    if (!split) {
      if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}' (see wasmpc run --help)`);
      throw new UsageError(`unexpected argument '${arg}' (see wasmpc run --help)`);
    }
    const [flag, attached] = split;
    let value = attached;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value (see wasmpc run --help)`);
      value = argv[++i]!;
    }
    const where = `${flag} ${value}`;
    switch (flag) {
      case '-m':
        flags.memoryBytes = field(where, () => parseMemory(value));
        break;
      case '-c':
        flags.cpus = field(where, () => checkCpus(/^\d+$/.test(value) ? Number(value) : NaN));
        break;
      case '--kernel':
      case '--initrd':
      case '--bios': {
        if (value === '') throw new UsageError(`${flag} needs a file name`);
        flags[flag.slice(2) as 'kernel' | 'initrd' | 'bios'] = value;
        fileFlags.set(flag, { path: value, write: false, label: where, pathInMessage: false });
        break;
      }
      case '--append':
        flags.append = value;
        break;
      case '--config':
        if (configPath !== undefined) throw new UsageError(`--config is given twice ('${configPath}' and '${value}')`);
        configPath = value;
        break;
      case '-s': {
        const slot = field(where, () => parseSlotFlag(value));
        const key = slotKey(slot);
        const first = slotText.get(key);
        if (first !== undefined) throw new UsageError(`${where}: ${key} is already used by -s ${first}`);
        slotText.set(key, value);
        flags.slots.push(slot);
        for (const { path, write } of slotPaths(slot)) checks.push({ path, write, label: where, pathInMessage: true });
        break;
      }
      case '-l': {
        const m = /^(com\d),(.*)$/i.exec(value);
        if (!m) throw new UsageError(`${where}: expected comN,BACKEND, e.g. -l com1,stdio`);
        const port = m[1]!.toLowerCase() as SerialPortName;
        if (!SERIAL_PORTS.includes(port)) throw new UsageError(`${where}: the port must be com1-com4 (got '${m[1]}')`);
        const first = portText.get(port);
        if (first !== undefined) throw new UsageError(`${where}: ${port} is already connected by -l ${first}`);
        portText.set(port, value);
        flags.serial[port] = field(where, () => parseSerialBackend(m[2]!));
        break;
      }
    }
  }

  checks.unshift(...fileFlags.values());
  let spec = flags;
  if (configPath !== undefined) {
    const file = readConfigFile(configPath);
    spec = mergeSpecs(file, flags);
    checks.push(...fileChecks(file, flags, configPath));
  }
  const config = completeSpec(spec);
  if (config instanceof ConfigError) throw new UsageError(config.message);
  for (const c of checks) checkPath(c);
  return { kind: 'run', config };
}

/** `-m 256M`, `-m256M`, `--kernel=FILE`: the flag and its value if attached. */
function splitValueFlag(arg: string): [ValueFlag, string | undefined] | undefined {
  if ((VALUE_FLAGS as readonly string[]).includes(arg)) return [arg as ValueFlag, undefined];
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const name = arg.slice(0, eq);
    if (eq > 0 && (VALUE_FLAGS as readonly string[]).includes(name)) return [name as ValueFlag, arg.slice(eq + 1)];
    return undefined;
  }
  const short = arg.slice(0, 2);
  if (arg.length > 2 && (VALUE_FLAGS as readonly string[]).includes(short)) return [short as ValueFlag, arg.slice(2)];
  return undefined;
}

/** Run a config.ts reader for the flag `where`, turning its FieldError into a usage error. */
function field<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    // 'hostfwd[1]' reads as 'hostfwd', 'ports[0].path' as 'path': the flag text shows which one.
    const name = e.field.replace(/\[\d+\]/g, '').split('.').pop()!;
    throw new UsageError(name === '' ? `${where}: ${e.message}` : `${where}: ${name} ${e.message}`);
  }
}

const SLOT_SYNTAX = 'SLOT[:FUNC],EMULATION[,CONF]';

/**
 * `-s SLOT[:FUNC],EMULATION[,CONF]` into the JSON form of the slot, then through the reader vm.json uses, so
 * the two cannot disagree. Throws FieldError; field errors keep their field name ('mac', 'slot').
 */
export function parseSlotFlag(text: string): PciSlotConfig {
  const [loc = '', emulation, ...conf] = text.split(',');
  const m = /^(\d+)(?::(\d+))?$/.exec(loc);
  if (!m) throw new FieldError('', `malformed slot '${loc}' (expected ${SLOT_SYNTAX}, e.g. -s 3,virtio-blk,disk.img)`);
  if (emulation === undefined || emulation === '') throw new FieldError('', `missing EMULATION (expected ${SLOT_SYNTAX})`);
  if (!EMULATIONS.includes(emulation as Emulation)) {
    throw new FieldError('', `unknown emulation '${emulation}' (known: ${EMULATIONS.join(', ')})`);
  }
  const raw: Record<string, unknown> = { slot: Number(m[1]), func: m[2] === undefined ? 0 : Number(m[2]), emulation };
  confToJson(emulation as Emulation, conf, raw);
  return slotFromJson(raw);
}

/** The CONF part of -s, written into `raw` under the field names of vm.json. */
function confToJson(em: Emulation, conf: string[], raw: Record<string, unknown>): void {
  const unknown = (opt: string, syntax: string) => new FieldError('', `unknown ${em} option '${opt}' (${em},${syntax})`);
  switch (em) {
    case 'hostbridge':
    case 'lpc':
      if (conf.length > 0) throw new FieldError('', `${em} takes no options (got '${conf.join(',')}')`);
      return;
    case 'virtio-blk': {
      const [path, ...opts] = conf;
      if (!path) throw new FieldError('', 'virtio-blk needs a disk image: -s SLOT,virtio-blk,PATH[,ro][,snapshot]');
      raw.path = path;
      for (const o of opts) {
        if (!diskOption(o, raw)) throw unknown(o, 'PATH[,ro][,snapshot]');
      }
      return;
    }
    case 'ahci-hd':
    case 'ahci-cd': {
      const [path, ...opts] = conf;
      if (!path) throw new FieldError('', `${em} needs ${em === 'ahci-hd' ? 'a disk' : 'an ISO'} image: -s SLOT,${em},PATH`);
      for (const o of opts) {
        if (em === 'ahci-cd' || !diskOption(o, raw)) throw unknown(o, em === 'ahci-cd' ? 'PATH' : 'PATH[,ro][,snapshot][,format=raw|qcow2]');
      }
      raw.path = path;
      return;
    }
    case 'ahci': {
      if (conf.length === 0) throw new FieldError('', 'ahci needs ports: -s SLOT,ahci,hd:PATH[,cd:PATH]...');
      // bhyve's form: each hd: or cd: starts a port; the options after it are that port's.
      const ports: Array<Record<string, unknown>> = [];
      for (const p of conf) {
        const pm = /^(hd|cd):(.*)$/.exec(p);
        if (pm && (pm[2] !== '' || pm[1] === 'cd')) {
          ports.push(pm[2] === '' ? { type: pm[1] } : { type: pm[1], path: pm[2] });
        } else if (ports.length === 0 || !diskOption(p, ports[ports.length - 1]!)) {
          throw new FieldError('', `ahci port '${p}' must be hd:PATH or cd:PATH`);
        }
      }
      raw.ports = ports;
      return;
    }
    case 'virtio-net':
      netConfToJson(conf, raw);
      return;
  }
}

/** ro, snapshot or format=FMT after a disk image's path, into the JSON form; false if `o` is none of them. */
function diskOption(o: string, raw: Record<string, unknown>): boolean {
  if (o === 'ro' || o === 'snapshot') raw[o] = true;
  else if (o.startsWith('format=')) raw.format = o.slice('format='.length);
  else return false;
  return true;
}

const NET_OPTIONS = { user: ['hostfwd', 'restrict', 'mac'], socket: ['listen', 'connect', 'mac'], tap: ['mac'] } as const;

function netConfToJson(conf: string[], raw: Record<string, unknown>): void {
  const [backend, ...rest] = conf;
  if (!backend) throw new FieldError('', 'virtio-net needs a backend: user, socket or tap');
  if (backend !== 'user' && backend !== 'socket' && backend !== 'tap') {
    throw new FieldError('', `virtio-net backend must be user, socket or tap (got '${backend}')`);
  }
  raw.backend = backend;
  const hostfwd: string[] = [];
  let opts = rest;
  if (backend === 'tap') {
    const [ifname, ...more] = rest;
    if (!ifname || ifname.includes('=')) {
      throw new FieldError('', 'virtio-net tap needs an interface name: -s SLOT,virtio-net,tap,IFNAME[,mac=MAC]');
    }
    raw.ifname = ifname;
    opts = more;
  }
  const allowed = NET_OPTIONS[backend];
  for (const o of opts) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    const value = o.slice(eq + 1);
    if (eq < 0 || !(allowed as readonly string[]).includes(key)) {
      throw new FieldError('', `unknown virtio-net ${backend} option '${o}' (${allowed.map((k) => `${k}=`).join(', ')})`);
    }
    if (key === 'hostfwd') {
      hostfwd.push(value);
      raw.hostfwd = hostfwd;
    } else if (key === 'restrict') {
      if (value !== 'on' && value !== 'off') throw new FieldError('', `restrict must be on or off (got '${value}')`);
      raw.restrict = value === 'on';
    } else {
      raw[key] = value;
    }
  }
}

/** The images a slot opens, whether it writes them, and their field in vm.json. */
function slotPaths(s: PciSlotConfig): Array<{ path: string; write: boolean; field: string }> {
  switch (s.emulation) {
    case 'virtio-blk':
      return [{ path: s.path, write: !s.ro && !s.snapshot, field: 'path' }];
    case 'ahci-hd':
      return [{ path: s.path, write: !s.ro && !s.snapshot, field: 'path' }];
    case 'ahci-cd':
      return [{ path: s.path, write: false, field: 'path' }];
    case 'ahci':
      return s.ports.flatMap((p, i) => (p.path === undefined ? [] : [{
        path: p.path, write: p.type === 'hd' && !p.ro && !p.snapshot, field: `ports[${i}].path`,
      }]));
    default:
      return [];
  }
}

function readConfigFile(path: string): MachineSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--config ${path}: cannot open (${errorCode(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const spec = readConfigSpec(json, path);
  if (spec instanceof ConfigError) throw new UsageError(spec.message);
  return spec;
}

/** The file's paths that survive the flags' overrides, labelled with their place in the file. */
function fileChecks(file: MachineSpec, flags: MachineSpec, source: string): PathCheck[] {
  const checks: PathCheck[] = [];
  for (const key of ['kernel', 'initrd', 'bios'] as const) {
    const path = file[key];
    if (path !== undefined && flags[key] === undefined) {
      checks.push({ path, write: false, label: `${source}: ${key}`, pathInMessage: true });
    }
  }
  const overridden = new Set(flags.slots.map(slotKey));
  file.slots.forEach((s, i) => {
    if (overridden.has(slotKey(s))) return;
    for (const { path, write, field: f } of slotPaths(s)) {
      checks.push({ path, write, label: `${source}: slots[${i}].${f}`, pathInMessage: true });
    }
  });
  return checks;
}

/** Open the file as the device will (read-only, or read-write), so a typo fails now rather than at boot. */
function checkPath(c: PathCheck): void {
  const what = c.pathInMessage ? ` ${c.path}` : '';
  let fd: number;
  try {
    fd = openSync(c.path, c.write ? 'r+' : 'r');
  } catch (e) {
    throw new UsageError(`${c.label}: cannot open${what}${c.write ? ' for writing' : ''} (${errorCode(e)})`);
  }
  try {
    if (fstatSync(fd).isDirectory()) throw new UsageError(`${c.label}: cannot open${what} (EISDIR)`);
  } finally {
    closeSync(fd);
  }
}

function errorCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : String(e);
}
