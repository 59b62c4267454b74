// The Web Worker that runs the machine for the page (page.ts): it downloads the core and the boot images with
// progress, assembles the same PC as `wasmpc run` (src/pc/assemble.ts), runs it, sends COM1's output to the page
// in batches and feeds the page's keystrokes to COM1. The JIT compiles guest code with the synchronous
// `new WebAssembly.Module`, which browsers allow in workers.
import { assemblePc } from '../pc/assemble';
import type { Pc } from '../pc/pc';
import { InputQueue, OutputBuffer, type ConsoleSink, type SerialConsole } from '../pc/serial-console';
import { IER_ERBFI, LCR_DLAB, UartReg, type Uart16550 } from '../devices/uart16550';
import { BrowserDisks } from './disks';
import { download } from './download';
import { WebSocketNetBackend } from './net-ws';
import type { NetBackend as NetBackendConfig } from '../machine/config';
import type { NetBackend } from '../net/backend';
import { PausableTime, WorkerScheduler } from './worker-host';
import type { BootRequest, FromWorker, MachineState, ToWorker } from './protocol';

/** The parts of DedicatedWorkerGlobalScope used here (the DOM lib has no worker types). */
interface WorkerScope {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

function post(message: FromWorker, transfer: Transferable[] = []): void { scope.postMessage(message, transfer); }

/** COM1's line to the page: output batched per turn of the Worker's event loop, input paced to the UART. */
class PageConsole implements SerialConsole {
  private readonly output = new OutputBuffer((bytes) => post({ kind: 'output', bytes }, [bytes.buffer]), (run) => setTimeout(run, 0));
  // Nothing pauses the page's input: what it sent is in memory already, and typing is slow.
  private readonly input = new InputQueue(() => {}, () => {});

  attach(sink: ConsoleSink, wake: () => void): void { this.input.attach(sink, wake); }
  write(byte: number): void { this.output.write(byte); }
  pump(): void { this.input.pump(); }
  /** Bytes from the page. */
  receive(bytes: Uint8Array): void { this.input.push(bytes); }
}

/**
 * Whether the guest reads COM1: a driver that opened the port for input enables the received-data interrupt
 * (Linux's 8250 driver does when a process opens ttyS0; the kernel's own console output never does). Read
 * through the registers, as the guest would; IER is DLM while LCR.DLAB is set.
 */
function readsInput(uart: Uart16550): boolean {
  return (uart.read(UartReg.Lcr, 1) & LCR_DLAB) === 0 && (uart.read(UartReg.Ier, 1) & IER_ERBFI) !== 0;
}

/** The running machine and the page's controls over it. */
class Session {
  private state: MachineState['state'] = 'booting';
  /** The pc.run() under way, if one is. */
  private running: Promise<void> | undefined;
  /** The guest has opened COM1 since the last reset. */
  private guestReady = false;

  constructor(private readonly pc: Pc, private readonly time: PausableTime) {
    const machine = pc.machine;
    machine.resetHandlers.push(() => {
      this.guestReady = false;
      this.set({ state: 'booting' });
    });
    const com1 = pc.uarts[0]!;
    machine.afterSlice.push(() => {
      if (this.guestReady || !readsInput(com1)) return;
      this.guestReady = true;
      this.set({ state: 'running' });
    });
  }

  start(): void { this.running = this.run(); }

  pause(): void {
    if (this.running) this.pc.machine.requestExit({ kind: 'stopped' });
  }

  resume(): void {
    if (this.state === 'paused') this.start();
  }

  /** Reset a running machine; power a stopped one on again (paused, powered off, or stopped by an error). */
  reset(): void {
    this.pc.machine.requestReset();
    if (!this.running) this.start();
  }

  /** Stop the machine (it shows as paused) and wait until it has. */
  async stop(): Promise<void> {
    this.pause();
    await this.running;
  }

  powerOff(): void {
    if (this.running) this.pc.machine.requestExit({ kind: 'poweroff' });
    else if (this.state === 'paused') this.set({ state: 'powered-off' });
  }

  private async run(): Promise<void> {
    this.time.resume();
    this.set({ state: this.guestReady ? 'running' : 'booting' });
    try {
      const exit = await this.pc.run();
      switch (exit.kind) {
        case 'stopped':
          this.time.pause();
          this.set({ state: 'paused' });
          break;
        case 'poweroff':
        case 'debug-exit':
          this.set({ state: 'powered-off' });
          break;
        case 'shutdown':
          this.set({ state: 'error', reason: `the machine stopped: ${exit.reason}` });
          break;
      }
    } catch (e) {
      this.set({ state: 'error', reason: `internal error: ${describe(e)}` });
    } finally {
      this.running = undefined;
    }
  }

  private set(state: MachineState): void {
    this.state = state.state;
    post({ kind: 'state', state });
  }
}

/** How often the page hears how much of the disks was fetched. */
const DISK_REPORT_MS = 2000;
const com1 = new PageConsole();
const disks = new BrowserDisks();
let session: Session | undefined;
let booted = false;

async function boot(request: BootRequest): Promise<void> {
  post({ kind: 'state', state: { state: 'downloading' } });
  const local = request.files ?? {};
  const files: Array<[string, string | File]> = [['core', request.core], ['kernel', local.kernel ?? request.kernel]];
  const initrdFrom = local.initrd ?? request.initrd;
  if (initrdFrom !== undefined) files.push(['initrd', initrdFrom]);
  for (const file of local.disks ?? []) disks.local.add(file);
  const [core, kernel, initrd] = await Promise.all(files.map(([what, from]) => typeof from === 'string'
    ? download(what, from, (loaded, total) => post({ kind: 'progress', what, loaded, total }))
    : readLocal(what, from)));
  const time = new PausableTime();
  const pc = await assemblePc(request.config, {
    kind: 'kernel', kernel: kernel!, ...(initrd ? { initrd } : {}), cmdline: request.append,
  }, {
    module: await WebAssembly.compile(core!),
    time,
    scheduler: new WorkerScheduler(),
    consoles: { com1 },
    openDisk: (path, opts, where) => disks.openDisk(path, opts, where),
    openNet: (backend, _mac, where) => openNet(request.net, backend, where),
  });
  session = new Session(pc, time);
  session.start();
  const report = await disks.report();
  post({ kind: 'disks', report });
  // The disk line shows the fetched bytes growing as the guest reads.
  if (report.imageBytes > 0) setInterval(() => void reportDisks(), DISK_REPORT_MS);
}

/** A kernel or an initrd chosen on the page, read whole. */
async function readLocal(what: string, file: File): Promise<Uint8Array<ArrayBuffer>> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch (e) {
    throw new Error(`${what} ${file.name}: cannot read the file (${describe(e)})`);
  }
  post({ kind: 'progress', what, loaded: bytes.length, total: bytes.length });
  return bytes;
}

/** A user-mode NIC's frames go to the relay at ?net=; the page has no other network backends. */
async function openNet(relay: string | undefined, backend: NetBackendConfig, where: string): Promise<NetBackend> {
  if (backend.kind !== 'user' || backend.hostfwd.length > 0 || backend.restrict) {
    throw new Error(`${where}: the page's only network is user-mode without options, through \`wasmpc relay\` (?net=ws://127.0.0.1:PORT)`);
  }
  if (relay === undefined) throw new Error(`${where}: needs a relay: start \`wasmpc relay --listen 127.0.0.1:PORT\` and open the page with ?net=ws://127.0.0.1:PORT`);
  return WebSocketNetBackend.open(relay);
}

async function reportDisks(): Promise<void> {
  post({ kind: 'disks', report: await disks.report() });
}

async function saveDisks(): Promise<void> {
  for (const { name, bytes } of await disks.save()) post({ kind: 'saved-disk', name, bytes }, [bytes.buffer]);
  await reportDisks();
}

/** The guest stops first, so no write is under way; then it boots again from the disks as served. */
async function discardDisks(): Promise<void> {
  await session?.stop();
  await disks.discard();
  session?.reset();
  await reportDisks();
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

scope.onmessage = (event) => {
  const m = event.data;
  switch (m.kind) {
    case 'boot':
      if (booted) return;
      booted = true;
      boot(m.request).catch((e: unknown) => post({ kind: 'state', state: { state: 'error', reason: describe(e) } }));
      return;
    case 'input':
      com1.receive(m.bytes);
      return;
    case 'pause':
      session?.pause();
      return;
    case 'resume':
      session?.resume();
      return;
    case 'reset':
      session?.reset();
      return;
    case 'power-off':
      session?.powerOff();
      return;
    case 'save-disks':
      saveDisks().catch((e: unknown) => post({ kind: 'disk-error', reason: `saving the disks: ${describe(e)}` }));
      return;
    case 'discard-disks':
      discardDisks().catch((e: unknown) => post({ kind: 'disk-error', reason: `discarding the disks' changes: ${describe(e)}` }));
      return;
  }
};
