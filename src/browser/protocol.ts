// The messages between the page (src/browser/page.ts) and the Worker that runs the machine (worker.ts).
import type { MachineConfig } from '../machine/config';

/** What the page asks the Worker to boot: the config, with the images as absolute URLs. */
export interface BootRequest {
  config: MachineConfig;
  /** URL of build/core.wasm. */
  core: string;
  kernel: string;
  initrd: string | undefined;
  /** The kernel command line. */
  append: string;
}

/** Page to Worker. */
export type ToWorker =
  | { kind: 'boot'; request: BootRequest }
  /** Bytes typed or pasted into the terminal, for COM1. */
  | { kind: 'input'; bytes: Uint8Array }
  | { kind: 'pause' }
  | { kind: 'resume' }
  /** Reset the running machine, or power it on again after it was powered off. */
  | { kind: 'reset' }
  | { kind: 'power-off' };

/**
 * Where the machine is. `downloading`: fetching the core and the images, then building the machine; `booting`:
 * the machine runs but the guest has not opened COM1 for input yet (a kernel boots); `running`: the guest reads
 * COM1 (a shell or a getty is there). An error before the first `booting` left no machine to power on.
 */
export type MachineState =
  | { state: 'downloading' }
  | { state: 'booting' }
  | { state: 'running' }
  | { state: 'paused' }
  | { state: 'powered-off' }
  | { state: 'error'; reason: string };

/** Worker to page. */
export type FromWorker =
  | { kind: 'state'; state: MachineState }
  /** A download's progress; `total` is undefined when the server did not say (no Content-Length). */
  | { kind: 'progress'; what: string; loaded: number; total: number | undefined }
  /** COM1 output since the last message. */
  | { kind: 'output'; bytes: Uint8Array };
