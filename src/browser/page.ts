// The page: COM1 in an xterm.js terminal, a state line, download progress, and the machine's buttons. The
// machine itself runs in a Worker (worker.ts). `window.machine` exposes it to scripts and tests.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { ConfigError } from '../machine/config';
import { bootRequestFromQuery, configUrl } from './config';
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

/** Each download's bytes and percent; once all are done, just their sizes. */
function showProgress(): void {
  const all = [...downloads];
  const files = request === undefined || request instanceof ConfigError ? 0 : request.initrd === undefined ? 2 : 3;
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

request = await pageRequest();
if (request instanceof ConfigError) {
  showState({ state: 'error', reason: request.message });
} else {
  showState({ state: 'downloading' });
  worker = new Worker('worker.js');
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
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
  worker.onerror = (event) => showState({ state: 'error', reason: `the machine's worker failed: ${event.message}` });
  send({ kind: 'boot', request });
}
