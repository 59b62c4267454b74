// The tap backend (native/tap.c through src/node/net-tap.ts). Where the addon is missing it says so; inside a
// network namespace the test makes, the host kernel is the reference: it answers an ARP request sent through
// the tap, delivers a UDP datagram to a socket, and routes the answer back out through the tap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { openTap, tapAddonPath } from '../../src/node/net-tap';
import {
  ARP_OP_REPLY, ARP_OP_REQUEST, ETHERTYPE_ARP, ETHERTYPE_IPV4, IpProto, arpFrame, ethType, ip4, parseArp, parseIpv4, parseUdp, udpFrame,
} from '../../src/net/wire';
import { itWhen } from '../images/host-tools';
import { HAS_TUN, makeTapNamespace, tapPrerequisite, type TapNamespace } from './netns';

const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0xab, 0xcd, 0x01);
const HOST_IP = ip4(10, 11, 0, 1);
const GUEST_IP = ip4(10, 11, 0, 2);
const UDP_PORT = 9999;

describe('the tap network backend', () => {
  it('reports tap as unavailable without its addon, naming the interface and the way out', async () => {
    await expect(openTap('tap0', '/nonexistent/tap.node')).rejects.toThrow(/^tap is unavailable: opening tap0 needs the native addon .*user or socket/);
  });

  itWhen([tapPrerequisite()], 'refuses an interface name the kernel cannot hold, naming it', async () => {
    await expect(openTap('a-name-longer-than-15')).rejects.toThrow(/^tap a-name-longer-than-15: the interface name must be 1 to 15 characters/);
  });
});

(HAS_TUN ? describe : describe.skip)('a tap inside a network namespace (the host kernel at the other end)', () => {
  const missing = tapPrerequisite();
  let ns: TapNamespace | undefined;
  beforeAll(() => {
    if (!missing) ns = makeTapNamespace('tap', 'wtap0', '10.11.0.1/24');
  });
  afterAll(() => ns?.remove());

  itWhen([missing], 'carries ARP and UDP both ways, and closes cleanly', async () => {
    const probe = spawn(ns!.exec[0]!, [...ns!.exec.slice(1), process.execPath, join(__dirname, 'tap-probe.cjs'),
      tapAddonPath(), ns!.ifname, '10.11.0.1', String(UDP_PORT)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const waiters: (() => void)[] = [];
    createInterface({ input: probe.stdout }).on('line', (l) => {
      lines.push(l);
      for (const w of waiters.splice(0)) w();
    });
    const until = async (pred: (l: string) => boolean, what: string): Promise<string> => {
      const end = Date.now() + 10_000;
      for (;;) {
        const hit = lines.find(pred);
        if (hit !== undefined) return hit;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the probe said:\n${lines.join('\n')}`);
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 200); });
      }
    };
    const frames = (): Uint8Array[] => lines.filter((l) => l.startsWith('rx ')).map((l) => Buffer.from(l.slice(3), 'hex'));
    const tx = (f: Uint8Array) => probe.stdin.write(`tx ${Buffer.from(f).toString('hex')}\n`);

    expect(await until((l) => l.startsWith('ready '), 'the probe')).toBe('ready wtap0');
    tx(arpFrame(ARP_OP_REQUEST, GUEST_MAC, GUEST_IP, new Uint8Array(6), HOST_IP));
    await until(() => frames().some((f) => ethType(f) === ETHERTYPE_ARP && parseArp(f)?.op === ARP_OP_REPLY), 'the ARP reply');
    const reply = frames().map((f) => (ethType(f) === ETHERTYPE_ARP ? parseArp(f) : undefined)).find((a) => a?.op === ARP_OP_REPLY)!;
    expect(reply.senderIp).toBe(HOST_IP);
    expect(reply.targetIp).toBe(GUEST_IP);
    const hostMac = reply.senderMac;

    tx(udpFrame(hostMac, GUEST_MAC, GUEST_IP, 40000, HOST_IP, UDP_PORT, Buffer.from('ping-through-tap')));
    const isPong = (f: Uint8Array): boolean => {
      if (ethType(f) !== ETHERTYPE_IPV4) return false;
      const ip = parseIpv4(f);
      if (typeof ip === 'string' || ip.proto !== IpProto.Udp || ip.dst !== GUEST_IP) return false;
      return Buffer.from(parseUdp(ip)?.data ?? []).toString() === 'pong:ping-through-tap';
    };
    await until(() => frames().some(isPong), 'the UDP answer');
    const pong = frames().find(isPong)!;
    expect(Buffer.from(pong.subarray(0, 6))).toEqual(Buffer.from(GUEST_MAC));
    expect(lines.filter((l) => l.startsWith('sent ')).every((l) => l === 'sent true')).toBe(true);

    probe.stdin.end();
    expect(await until((l) => l.startsWith('closed '), 'the close')).toBe('closed dropped=0');
    expect(await new Promise((r) => probe.on('exit', r))).toBe(0);
  }, 30_000);
});
