// `wasmpc run`: build the PC from the configuration, connect the serial consoles, and run until the guest
// powers off. Exit status: 0 on power-off, the guest's status through --debug-exit, 1 with a one-line reason
// when the machine stops otherwise, 2 on bad usage or input.
import { readFileSync } from 'node:fs';
import * as L from '../layout/memory';
import { parseRunArgs } from './args';
import { openConsoles, ConsoleOpenError, type ConsoleBackend } from './console';
import { loadCoreModule } from './core-module';
import { useTranslatedCodeTiering, instantiateHot, compileMergedLazily } from './v8-tiering';
import { defaultGuest } from './default-guest';
import { NodeScheduler } from './scheduler';
import { hostTime } from '../machine/clock';
import type { Pc, Boot } from '../pc/pc';
import { AssemblyError, assemblePc, checkSupported } from '../pc/assemble';
import { formatJitStats } from '../machine/jit';
import { FirmwareError } from '../../bios';
import { DEFAULT_APPEND, type MachineConfig, type SerialPortName, type DiskImageOptions } from '../machine/config';
import type { BlockBackend } from '../block/backend';
import { openDiskImage } from './block-image';
import type { NetBackend } from '../net/backend';
import { openNetBackend } from './net-backends';

class UsageError extends Error {}

function fail(message: string): never { throw new UsageError(message); }

function readInput(what: string, path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    return fail(`wasmpc: ${what} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

function bootFrom(config: MachineConfig): Boot {
  if (config.bios !== undefined) return { kind: 'bios', image: readInput('--bios', config.bios) };
  const guest = config.kernel === undefined ? defaultGuest() : undefined;
  const kernelPath = config.kernel ?? guest!.kernel;
  const initrdPath = config.initrd ?? guest?.initrd;
  return {
    kind: 'kernel',
    kernel: readInput('--kernel', kernelPath),
    ...(initrdPath !== undefined ? { initrd: readInput('--initrd', initrdPath) } : {}),
    cmdline: config.append ?? (guest ? DEFAULT_APPEND : ''),
  };
}

/** Open a disk image for a device; a bad image is a usage error naming the -s flag. */
async function openDisk(path: string, opts: DiskImageOptions, where: string, disks: BlockBackend[]): Promise<BlockBackend> {
  let disk: BlockBackend;
  try {
    disk = await openDiskImage(path, { readOnly: opts.ro ?? false, snapshot: opts.snapshot ?? false, ...(opts.format ? { format: opts.format } : {}) });
  } catch (e) {
    return fail(`wasmpc: ${where}: ${(e as Error).message.replace(/^wasmpc: /, '')}`);
  }
  disks.push(disk);
  return disk;
}

function logUd(pc: Pc): void {
  const v = pc.machine.core.cpuView();
  const rows: string[] = [];
  for (let i = 0; i < L.CPU_UD_COUNT_LEN; i++) {
    const n = v.getUint32(L.CPU_UD_COUNT + i * 4, true);
    if (!n) continue;
    const what = i < 0x100 ? `opcode ${i.toString(16).padStart(2, '0')}` : i < 0x200 ? `opcode 0f ${(i & 0xff).toString(16).padStart(2, '0')}` : `far transfer through system descriptor type ${i & 0xf}`;
    rows.push(`  ${what}: ${n}`);
  }
  process.stderr.write(rows.length ? `wasmpc: unimplemented instructions raised #UD:\n${rows.join('\n')}\n` : 'wasmpc: no unimplemented instruction was executed\n');
}

export async function runMain(argv: string[]): Promise<number> {
  const cmd = parseRunArgs(argv);
  if (cmd.kind === 'help') { process.stdout.write(cmd.text); return 0; }
  if (cmd.kind === 'error') { process.stderr.write(`${cmd.message}\n`); return 2; }
  const config = cmd.config;
  let consoles: Partial<Record<SerialPortName, ConsoleBackend>> = {};
  const disks: BlockBackend[] = [];
  const nets: NetBackend[] = [];
  let pc: Pc | undefined;
  try {
    checkSupported(config);
    const boot = bootFrom(config);
    let quit: (() => void) | undefined;
    consoles = await openConsoles(config.serial, { onQuit: () => quit?.() });
    pc = await assemblePc(config, boot, {
      module: loadCoreModule(),
      time: hostTime,
      scheduler: new NodeScheduler(),
      consoles,
      openDisk: (path, opts, where) => openDisk(path, opts, where, disks),
      openNet: async (backend, mac, where) => {
        let net: NetBackend;
        try {
          net = await openNetBackend(backend, { mac, log: (m) => process.stderr.write(`wasmpc: ${where}: ${m}\n`) });
        } catch (e) {
          return fail(`wasmpc: ${where}: ${(e as Error).message}`);
        }
        nets.push(net);
        return net;
      },
    });
    useTranslatedCodeTiering(); // the core's instance exists; what is instantiated from here on is translated code
    pc.machine.core.jit.configure({ instantiateHot, compileMerged: compileMergedLazily }); // ... except modules the core finds hot
    const machine = pc.machine;
    quit = () => machine.requestExit({ kind: 'stopped' });
    process.once('SIGTERM', () => machine.requestExit({ kind: 'stopped' }));
    const exit = await pc.run();
    if (config.logUd) logUd(pc);
    if (config.jitStats) {
      const total = pc.machine.core.cpuView().getBigUint64(L.CPU_INSN_COUNT, true);
      process.stderr.write(`${formatJitStats(pc.machine.core.jit.getStats(), total)}\n`);
    }
    switch (exit.kind) {
      case 'poweroff': return 0;
      case 'debug-exit': return exit.status;
      case 'stopped': return 0;
      case 'shutdown':
        process.stderr.write(`\nwasmpc: the machine stopped: ${exit.reason}\n`);
        return 1;
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof AssemblyError || e instanceof ConsoleOpenError) { process.stderr.write(`${e.message}\n`); return 2; }
    if (e instanceof FirmwareError) { process.stderr.write(`wasmpc: ${e.message}\n`); return 2; }
    throw e;
  } finally {
    await Promise.all(Object.values(consoles).map((c) => c.close()));
    await Promise.all(disks.map((d) => d.close()));
    await Promise.all(nets.map((n) => n.close()));
  }
}
