// Opens the network backend a virtio-net slot names (src/machine/config.ts NetBackend): the user-mode NAT stack
// over Node sockets, a socket to another wasmpc, or a tap interface.
import type { NetBackend as NetBackendConfig } from '../machine/config';
import type { NetBackend } from '../net/backend';
import { UserNet } from '../net/user';
import { NodeNetHost } from './net-host';
import { SocketNetBackend } from './net-socket';
import { openTap } from './net-tap';

export interface OpenNetOptions {
  /** The NIC's MAC, which the user network needs before the guest has sent anything. */
  mac: Uint8Array;
  log: (message: string) => void;
}

/** The backend, started (listeners open); throws an Error whose message names the cause. */
export async function openNetBackend(cfg: NetBackendConfig, opts: OpenNetOptions): Promise<NetBackend> {
  switch (cfg.kind) {
    case 'user': {
      const net = new UserNet({
        host: new NodeNetHost(), restrict: cfg.restrict, guestMac: opts.mac,
        hostfwd: cfg.hostfwd.map((f) => ({ hostPort: f.hostPort, guestPort: f.guestPort, ...(f.guestAddr !== undefined ? { guestAddr: f.guestAddr } : {}) })),
      });
      try {
        await net.start();
      } catch (e) {
        await net.close();
        throw e;
      }
      return net;
    }
    case 'socket':
      return SocketNetBackend.open({ mode: cfg.mode, host: cfg.host, port: cfg.port, log: opts.log });
    case 'tap':
      return openTap(cfg.ifname);
  }
}
