// The `tap` network backend. Opening a tap interface needs the TUNSETIFF ioctl on /dev/net/tun, which Node
// cannot issue without a native addon, and wasmpc does not build one yet: the backend says so, and every other
// backend works without it.
import type { NetBackend } from '../net/backend';

export class TapUnavailableError extends Error {}

export async function openTap(ifname: string): Promise<NetBackend> {
  throw new TapUnavailableError(
    `tap is unavailable: opening ${ifname} needs the TUNSETIFF ioctl on /dev/net/tun, and wasmpc has no native addon for it yet ` +
    '(use the user or socket backend)',
  );
}
