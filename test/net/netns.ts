// A network namespace with one tap interface in it, for the tap backend's tests: the test creates it, runs
// wasmpc (or a probe) inside it with `ip netns exec`, and removes it, so the host's own network is never touched.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tapAddonPath } from '../../src/node/net-tap';

export interface TapNamespace {
  readonly name: string;
  readonly ifname: string;
  /** The argv prefix that runs a command inside the namespace. */
  readonly exec: readonly string[];
  remove(): void;
}

function ip(args: readonly string[]): string | null {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) return `ip is not installed (apt-get install iproute2)`;
  return r.status === 0 ? null : `ip ${args.join(' ')}: ${r.stderr.trim()}`;
}

/** null where a tap test can run (a /dev/net/tun, the addon, and the right to make namespaces), else why not. */
export function tapPrerequisite(): string | null {
  if (!existsSync(tapAddonPath())) return `the tap addon ${tapAddonPath()} was not built (npm run build:native)`;
  const probe = `wasmpc-probe-${process.pid}`;
  const failed = ip(['netns', 'add', probe]);
  if (failed) return `cannot create a network namespace (needs CAP_NET_ADMIN): ${failed}`;
  ip(['netns', 'del', probe]);
  return null;
}

/** Whether this host has the tun/tap driver at all: a host property, so its absence skips even under CI. */
export const HAS_TUN = existsSync('/dev/net/tun');

/** A namespace `wasmpc-<tag>-<pid>` holding a persistent tap `ifname` with `hostCidr` on it, up. */
export function makeTapNamespace(tag: string, ifname: string, hostCidr: string): TapNamespace {
  const name = `wasmpc-${tag}-${process.pid}`;
  const inNs = (args: string[]) => ['netns', 'exec', name, 'ip', ...args];
  const steps: string[][] = [
    ['netns', 'add', name],
    inNs(['link', 'set', 'lo', 'up']),
    inNs(['tuntap', 'add', 'dev', ifname, 'mode', 'tap']),
    inNs(['addr', 'add', hostCidr, 'dev', ifname]),
    inNs(['link', 'set', ifname, 'up']),
  ];
  const remove = () => { ip(['netns', 'del', name]); };
  for (const s of steps) {
    const failed = ip(s);
    if (failed) {
      remove();
      throw new Error(failed);
    }
  }
  return { name, ifname, exec: ['ip', 'netns', 'exec', name], remove };
}
