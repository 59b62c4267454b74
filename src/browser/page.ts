// The page: COM1 in an xterm.js terminal, a state line, download progress, and the machine's buttons. The
// machine itself runs in a Worker (worker.ts). `window.machine` exposes it to scripts and tests.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { ConfigError } from '../machine/config';
import { PCI_SLOTS } from '../devices/pci';
import type { PciSlotConfig } from '../machine/config';
import { bootRequestFromQuery, configUrl } from './config';
import { localPath } from './file-disk';
import type { BootRequest, DiskReport, FromWorker, MachineState, ToWorker } from './protocol';

/** The running machine, for scripts: `window.machine`. */
export interface PageMachine {
  /** Everything COM1 printed so far, decoded as UTF-8. */
  consoleText(): string;
  /** Send text to COM1 as if typed (UTF-8; "\r" is Enter). */
  sendText(text: string): void;
  state(): MachineState;
  pause(): void;
  resume(): void;
  /** Reset the machine, or power it on again after a power-off. */
  reset(): void;
  powerOff(): void;
  /** The disks over HTTP: bytes fetched, overlays; undefined until the machine is built. */
  disks(): DiskReport | undefined;
}

declare global {
  interface Window { machine: PageMachine }
}

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const stateLine = element<HTMLParagraphElement>('state');
const progressLine = element<HTMLParagraphElement>('progress');
const pauseButton = element<HTMLButtonElement>('pause');
const resetButton = element<HTMLButtonElement>('reset');
const powerButton = element<HTMLButtonElement>('power');
const saveButton = element<HTMLButtonElement>('save-disk');
const discardButton = element<HTMLButtonElement>('discard-disk');
const diskLine = element<HTMLParagraphElement>('disks');
const localForm = element<HTMLFormElement>('local-files');
const localAppend = element<HTMLInputElement>('local-append');

const term = new Terminal({ scrollback: 10_000, cursorBlink: true, fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace' });
const fit = new FitAddon();
term.loadAddon(fit);
term.open(element('terminal'));
fit.fit();
// The terminal follows the window; the guest is not told (a serial line has no window size), so nothing is sent.
let fitting = false;
window.addEventListener('resize', () => {
  if (fitting) return;
  fitting = true;
  requestAnimationFrame(() => {
    fitting = false;
    fit.fit();
  });
});
// Ctrl+C copies when text is selected (the browser's copy, which xterm.js fills with the selection) and is the
// guest's interrupt otherwise; Ctrl+Shift+V pastes (plain Ctrl+V stays the guest's literal-next).
term.attachCustomKeyEventHandler((ev) => {
  if (ev.type !== 'keydown' || !ev.ctrlKey || ev.altKey || ev.metaKey) return true;
  const key = ev.key.toLowerCase();
  if (key === 'c' && term.hasSelection()) return false;
  if (key === 'v' && ev.shiftKey) return false;
  return true;
});
term.focus();

let state: MachineState = { state: 'downloading' };
/** The machine was built (it reached `booting` once): Reset can power it on again after it stopped. */
let built = false;
let consoleText = '';
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const downloads = new Map<string, { loaded: number; total: number | undefined }>();

let disks: DiskReport | undefined;
/** Why the last Save disk or Discard changes failed, shown until the next one. */
let diskError: string | undefined;
let request: BootRequest | ConfigError | undefined;
let worker: Worker | undefined;
const send = (message: ToWorker, transfer: Transferable[] = []) => worker?.postMessage(message, transfer);

function sendText(text: string): void {
  const bytes = encoder.encode(text);
  send({ kind: 'input', bytes }, [bytes.buffer]);
}

term.onData(sendText);

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

const PROGRESS_ORDER = ['core', 'kernel', 'initrd'];

/** Each download's bytes and percent; once all are done, just their sizes. */
function showProgress(): void {
  // In a fixed order, whichever download reported first (they run in parallel).
  const rank = (what: string): number => { const i = PROGRESS_ORDER.indexOf(what); return i < 0 ? PROGRESS_ORDER.length : i; };
  const all = [...downloads].sort(([a], [b]) => rank(a) - rank(b));
  const files = request === undefined || request instanceof ConfigError ? 0 : request.initrd === undefined && request.files?.initrd === undefined ? 2 : 3;
  const done = all.length === files && all.every(([, d]) => d.total !== undefined && d.loaded === d.total);
  progressLine.textContent = all.map(([what, { loaded, total }]) =>
    done || total === undefined ? `${what} ${formatBytes(loaded)}` : `${what} ${formatBytes(loaded)} of ${formatBytes(total)} (${Math.floor((loaded / total) * 100)}%)`).join(' · ');
}

const STATE_TEXT: Record<MachineState['state'], string> = {
  'downloading': 'Downloading',
  'booting': 'Booting',
  'running': 'Running',
  'paused': 'Paused',
  'powered-off': 'Powered off',
  'error': 'Error',
};

function showState(next: MachineState): void {
  state = next;
  if (next.state === 'booting') built = true;
  stateLine.textContent = next.state === 'error' ? `Error: ${next.reason}` : STATE_TEXT[next.state];
  stateLine.dataset.state = next.state;
  const on = next.state === 'booting' || next.state === 'running' || next.state === 'paused';
  pauseButton.disabled = !on;
  pauseButton.textContent = next.state === 'paused' ? 'Resume' : 'Pause';
  powerButton.disabled = !on;
  resetButton.disabled = !built;
  resetButton.textContent = on || !built ? 'Reset' : 'Power on';
}

pauseButton.addEventListener('click', () => { send({ kind: state.state === 'paused' ? 'resume' : 'pause' }); term.focus(); });
resetButton.addEventListener('click', () => { send({ kind: 'reset' }); term.focus(); });
powerButton.addEventListener('click', () => { send({ kind: 'power-off' }); term.focus(); });
saveButton.addEventListener('click', () => { diskError = undefined; send({ kind: 'save-disks' }); term.focus(); });
discardButton.addEventListener('click', () => {
  diskError = undefined;
  if (confirm('Drop every change to the disks and reset the machine? Save disk first to keep them.')) send({ kind: 'discard-disks' });
  term.focus();
});

/** Where the disks' changes are, and how much of the images was fetched. */
function showDisks(report: DiskReport): void {
  disks = report;
  const writable = report.writable.length > 0;
  saveButton.hidden = !writable;
  discardButton.hidden = !writable;
  if (diskError !== undefined) {
    diskLine.textContent = `Error: ${diskError}`;
    diskLine.dataset.state = 'error';
    return;
  }
  delete diskLine.dataset.state;
  if (report.imageBytes === 0) return;
  const kept = report.store.kind === 'opfs' ? 'kept in this browser (OPFS) until discarded' : `kept in memory only: ${report.store.why}`;
  const restored = report.restored.length > 0 ? ` (with the changes of an earlier visit to ${report.restored.join(', ')})` : '';
  diskLine.textContent = [
    `Disks read on demand: ${formatBytes(report.fetched)} of ${formatBytes(report.imageBytes)} fetched.`,
    writable ? `Changes are ${kept}${restored}; Save disk downloads them as a qcow2 overlay whose backing file is the disk's URL.` : '',
  ].join(' ').trim();
}

/** Hand a file to the user as a download. */
function offer(name: string, bytes: Uint8Array<ArrayBuffer>): void {
  const href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

window.machine = {
  consoleText: () => consoleText,
  sendText,
  state: () => state,
  pause: () => send({ kind: 'pause' }),
  resume: () => send({ kind: 'resume' }),
  reset: () => send({ kind: 'reset' }),
  powerOff: () => send({ kind: 'power-off' }),
  disks: () => disks,
};

/** The boot request of the page's query, with the machine config ?config= names fetched first. */
async function pageRequest(): Promise<BootRequest | ConfigError> {
  const where = configUrl(location.search, location.href);
  if (where === undefined || where instanceof ConfigError) return where ?? bootRequestFromQuery(location.search, location.href);
  let json: unknown;
  try {
    const response = await fetch(where);
    if (!response.ok) return new ConfigError(`?config=${where}: HTTP ${response.status} ${response.statusText}`.trimEnd());
    json = await response.json();
  } catch (e) {
    return new ConfigError(`?config=${where}: ${(e as Error).message}`);
  }
  return bootRequestFromQuery(location.search, location.href, { url: where, json });
}

/**
 * The machine of the page's address with the files chosen in "Local files": each replaces the kernel's or the
 * initrd's URL, the disk the first virtio-blk disk's and the CD the first CD drive's (or is added in the first
 * free slot from 3), and the command line replaces the append.
 */
function localRequest(base: BootRequest): BootRequest | ConfigError {
  const chosen = (name: string): File | undefined => (localForm.elements.namedItem(name) as HTMLInputElement).files?.[0];
  const kernel = chosen('kernel');
  const initrd = chosen('initrd');
  const slots = [...base.config.slots];
  const disks: File[] = [];
  const place = (file: File | undefined, emulation: 'virtio-blk' | 'ahci-cd'): ConfigError | undefined => {
    if (file === undefined) return undefined;
    disks.push(file);
    const path = localPath(file);
    const at = slots.findIndex((s) => s.emulation === emulation);
    if (at >= 0) {
      slots[at] = { ...slots[at]!, path } as PciSlotConfig;
      return undefined;
    }
    let slot = 3;
    while (slots.some((s) => s.slot === slot)) slot++;
    if (slot >= PCI_SLOTS) return new ConfigError(`${file.name}: no PCI slot is left for it`);
    slots.push(emulation === 'virtio-blk'
      ? { slot, func: 0, emulation, path, ro: false, snapshot: false }
      : { slot, func: 0, emulation, path });
    slots.sort((a, b) => a.slot - b.slot || a.func - b.func);
    return undefined;
  };
  const failed = place(chosen('disk'), 'virtio-blk') ?? place(chosen('cdrom'), 'ahci-cd');
  if (failed) return failed;
  return {
    ...base,
    config: { ...base.config, slots },
    append: localAppend.value,
    files: { ...(kernel ? { kernel } : {}), ...(initrd ? { initrd } : {}), disks },
  };
}

/** Start a Worker on `next`, ending the machine that runs (the page runs one at a time). */
function start(next: BootRequest): void {
  worker?.terminate();
  request = next;
  built = false;
  consoleText = '';
  disks = undefined;
  diskError = undefined;
  downloads.clear();
  progressLine.textContent = '';
  diskLine.textContent = '';
  saveButton.hidden = true;
  discardButton.hidden = true;
  term.reset();
  showState({ state: 'downloading' });
  const w = new Worker('worker.js');
  worker = w;
  w.onmessage = (event: MessageEvent<FromWorker>) => {
    if (worker !== w) return;
    const m = event.data;
    switch (m.kind) {
      case 'state':
        showState(m.state);
        return;
      case 'progress':
        downloads.set(m.what, { loaded: m.loaded, total: m.total });
        showProgress();
        return;
      case 'output':
        consoleText += decoder.decode(m.bytes, { stream: true });
        term.write(m.bytes);
        return;
      case 'disks':
        showDisks(m.report);
        return;
      case 'disk-error':
        diskError = m.reason;
        if (disks) showDisks(disks);
        return;
      case 'saved-disk':
        offer(m.name, m.bytes as Uint8Array<ArrayBuffer>);
        return;
    }
  };
  w.onerror = (event) => { if (worker === w) showState({ state: 'error', reason: `the machine's worker failed: ${event.message}` }); };
  send({ kind: 'boot', request: next });
}

localForm.addEventListener('submit', (event) => {
  event.preventDefault();
  // The page's address, not an earlier local boot, is what the chosen files replace parts of.
  const base = queryRequest instanceof ConfigError || queryRequest === undefined ? bootRequestFromQuery('', location.href) : queryRequest;
  const next = base instanceof ConfigError ? base : localRequest(base);
  if (next instanceof ConfigError) {
    worker?.terminate();
    worker = undefined;
    showState({ state: 'error', reason: next.message });
  } else {
    start(next);
  }
  term.focus();
});

/** The machine of the page's address. */
let queryRequest: BootRequest | ConfigError | undefined;
const first = await pageRequest();
queryRequest = first;
if (first instanceof ConfigError) {
  request = first;
  showState({ state: 'error', reason: first.message });
} else {
  localAppend.value = first.append;
  start(first);
}
