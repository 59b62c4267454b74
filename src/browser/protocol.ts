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
  /** ?net=: the `wasmpc relay` WebSocket that carries the user-mode NICs' frames. */
  net: string | undefined;
  /**
   * Files chosen in the page's "Local files" form: each replaces the kernel's or the initrd's URL; the disks
   * the config names by localPath() (file-disk.ts) are these.
   */
  files?: LocalFiles;
}

/** The page's local files (Files are structured-cloneable: the Worker reads them itself). */
export interface LocalFiles {
  kernel?: File;
  initrd?: File;
  disks?: File[];
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
  | { kind: 'power-off' }
  /** Send each writable disk's overlay to the page (`saved-disk`). */
  | { kind: 'save-disks' }
  /** Drop every disk's changes and reset the machine, which boots from the disks as served. */
  | { kind: 'discard-disks' };

/** The disks read over HTTP, for the page's disk line. */
export interface DiskReport {
  /** Writable disks (with an overlay) by URL. */
  writable: string[];
  /** Where the overlays are: `opfs` (kept when the page closes) or `memory` (with the reason OPFS is not used). */
  store: { kind: 'opfs' } | { kind: 'memory'; why: string };
  /** Overlays kept from an earlier visit, by disk URL. */
  restored: string[];
  /** Bytes fetched by Range requests so far, and the images' sizes together. */
  fetched: number;
  imageBytes: number;
}

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
  | { kind: 'output'; bytes: Uint8Array }
  | { kind: 'disks'; report: DiskReport }
  /** Saving or discarding the disks' changes failed; the machine is as it was. */
  | { kind: 'disk-error'; reason: string }
  /** A disk's overlay for the user to download: a qcow2 file whose backing file is the disk's URL. */
  | { kind: 'saved-disk'; name: string; bytes: Uint8Array };
