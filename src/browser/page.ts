// The page: COM1 in an xterm.js terminal, a state line, download progress, and the machine's buttons. The
// machine itself runs in a Worker (worker.ts). `window.machine` exposes it to scripts and tests.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { ConfigError } from '../machine/config';
import { bootRequestFromQuery } from './config';
import type { FromWorker, MachineState, ToWorker } from './protocol';

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

const request = bootRequestFromQuery(location.search, location.href);
const worker = request instanceof ConfigError ? undefined : new Worker('worker.js');
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
  const files = request instanceof ConfigError ? 0 : request.initrd === undefined ? 2 : 3;
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

window.machine = {
  consoleText: () => consoleText,
  sendText,
  state: () => state,
  pause: () => send({ kind: 'pause' }),
  resume: () => send({ kind: 'resume' }),
  reset: () => send({ kind: 'reset' }),
  powerOff: () => send({ kind: 'power-off' }),
};

if (request instanceof ConfigError) {
  showState({ state: 'error', reason: request.message });
} else {
  showState({ state: 'downloading' });
  worker!.onmessage = (event: MessageEvent<FromWorker>) => {
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
    }
  };
  worker!.onerror = (event) => showState({ state: 'error', reason: `the machine's worker failed: ${event.message}` });
  send({ kind: 'boot', request });
}
