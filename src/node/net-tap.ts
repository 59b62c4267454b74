// The `tap` network backend: the guest's NIC on a host tap interface, as QEMU's `-netdev tap,ifname=..,script=no`
// does it. Opening a tap needs the TUNSETIFF ioctl on /dev/net/tun, which Node cannot issue, so a small native
// addon (native/tap.c, built on install by scripts/build-native.mjs) opens the interface, reads its frames on a
// thread of its own and writes the guest's. The interface is the host administrator's: wasmpc attaches to it
// (creating a transient one when it does not exist and the process may) but does not configure addresses or
// bridges. Without the addon, or without the permission, opening fails with a message that says why.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { NetBackend } from '../net/backend';
import { MIN_FRAME } from '../net/backend';
import { packageRoot } from './core-module';

export class TapUnavailableError extends Error {}

/** The addon's exports (native/tap.c). */
interface TapAddon {
  open(ifname: string, onFrame: (frame: Buffer) => void): unknown;
  name(handle: unknown): string;
  send(handle: unknown, frame: Uint8Array): boolean;
  close(handle: unknown): void;
  dropped(handle: unknown): number;
}

const WAY_OUT = '(use the user or socket backend)';

/** The built addon's path; tests point it elsewhere to see the unavailable case. */
export function tapAddonPath(): string {
  return join(packageRoot(), 'build', 'native', 'tap.node');
}

function loadAddon(path: string, ifname: string): TapAddon {
  if (process.platform !== 'linux') {
    throw new TapUnavailableError(`tap is unavailable: opening ${ifname} needs Linux's /dev/net/tun ${WAY_OUT}`);
  }
  if (!existsSync(path)) {
    throw new TapUnavailableError(
      `tap is unavailable: opening ${ifname} needs the native addon ${path}, which was not built ` +
      `(it needs a C compiler and Node's headers; then run \`npm run build:native\`) ${WAY_OUT}`,
    );
  }
  return createRequire(import.meta.url)(path) as TapAddon;
}

export class TapNetBackend implements NetBackend {
  private deliver: (frame: Uint8Array) => void = () => {};
  private closed = false;
  /** Frames the interface refused (down, or its queue full). */
  sendFailures = 0;

  private constructor(private readonly addon: TapAddon, private readonly handle: unknown) {}

  /** Attach to the tap interface `ifname`; throws an Error naming the cause (no addon, no permission, busy). */
  static open(ifname: string, addonPath = tapAddonPath()): TapNetBackend {
    const addon = loadAddon(addonPath, ifname);
    let backend: TapNetBackend | undefined;
    let handle: unknown;
    try {
      handle = addon.open(ifname, (frame) => backend?.receive(frame));
    } catch (e) {
      throw new Error(`tap ${ifname}: ${(e as Error).message}`);
    }
    backend = new TapNetBackend(addon, handle);
    return backend;
  }

  /** The interface's name as the kernel gave it. */
  get ifname(): string { return this.addon.name(this.handle); }

  /** Frames from the interface that were dropped because JavaScript had not taken the earlier ones yet. */
  get dropped(): number { return this.addon.dropped(this.handle); }

  onReceive(cb: (frame: Uint8Array) => void): void {
    this.deliver = cb;
  }

  send(frame: Uint8Array): void {
    // No upper bound here: a guest may raise its MTU, and the interface's own MTU is the kernel's to enforce.
    if (this.closed || frame.length < MIN_FRAME) return;
    if (!this.addon.send(this.handle, frame)) this.sendFailures++;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.addon.close(this.handle);
  }

  private receive(frame: Buffer): void {
    if (this.closed || frame.length < MIN_FRAME) return;
    this.deliver(new Uint8Array(frame.buffer, frame.byteOffset, frame.length));
  }
}

export async function openTap(ifname: string, addonPath?: string): Promise<NetBackend> {
  return TapNetBackend.open(ifname, addonPath);
}
