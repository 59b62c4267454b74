// The machine the page's query string asks for: ?kernel=URL&initrd=URL&append=CMDLINE&mem=SIZE&disk=URL&cdrom=URL
// &config=URL&net=WS-URL, each optional. ?config= names a machine config in JSON (`wasmpc run --config`'s format), whose file
// paths are URLs relative to it; the other parameters override it, and each ?disk= adds a virtio-blk disk and
// each ?cdrom= an AHCI CD drive in the first free slots from 3. Without a kernel, the default Debian i686 guest
// that `wasmpc serve` publishes beside the page, with its console on COM1. URLs are resolved against the page's
// address. ?net=ws://127.0.0.1:PORT adds a virtio-net NIC on a user-mode network that `wasmpc relay` runs at
// that address (src/browser/net-ws.ts); without it the machine has no NIC.
import {
  ConfigError, DEFAULT_APPEND, FieldError, completeSpec, mergeSpecs, parseMemory, readConfigSpec, slotKey,
  type MachineSpec, type PciSlotConfig,
} from '../machine/config';
import { PCI_SLOTS } from '../devices/pci';
import type { BootRequest } from './protocol';

export const QUERY_PARAMETERS = ['kernel', 'initrd', 'append', 'mem', 'disk', 'cdrom', 'config', 'net'] as const;
/** The first slot ?disk= and ?cdrom= devices go in (0 and 1 hold the host and LPC bridges, 2 stays free). */
const FIRST_QUERY_SLOT = 3;

/** A machine config fetched for ?config=: its URL and its parsed JSON. */
export interface ConfigFile {
  url: string;
  json: unknown;
}
/** Where `wasmpc serve` publishes images/debian-i686, relative to the page. */
export const DEFAULT_GUEST_PATH = 'images/debian-i686/';
/** The core beside the page (scripts/build-web.mjs copies build/core.wasm there). */
const CORE_PATH = 'core.wasm';

/** The absolute URL of ?config=, to fetch before bootRequestFromQuery(); undefined without one. */
export function configUrl(search: string, base: string): string | undefined | ConfigError {
  const value = new URLSearchParams(search).get('config');
  if (value === null || value === '') return undefined;
  try {
    return at('config', value, () => absolute(value, base));
  } catch (e) {
    if (e instanceof FieldError) return new ConfigError(`${e.field}: ${e.message}`);
    throw e;
  }
}

/**
 * The boot request of `search` (location.search) for a page at `base`, over the machine config `file` that
 * ?config= named (fetched by the caller), or what is wrong with either.
 */
export function bootRequestFromQuery(search: string, base: string, file?: ConfigFile): BootRequest | ConfigError {
  const query = new URLSearchParams(search);
  for (const name of new Set(query.keys())) {
    if (!(QUERY_PARAMETERS as readonly string[]).includes(name)) {
      return new ConfigError(`?${name}=: not a parameter (parameters: ${QUERY_PARAMETERS.join(', ')})`);
    }
  }
  let fromFile: MachineSpec = { slots: [], serial: {} };
  if (file) {
    const source = `?config=${file.url}`;
    const read = readConfigSpec(file.json, source);
    if (read instanceof ConfigError) return read;
    try {
      fromFile = resolvePaths(read, file.url);
    } catch (e) {
      if (e instanceof FieldError) return new ConfigError(`${source}: ${e.field}: ${e.message}`);
      throw e;
    }
  }
  const spec: MachineSpec = { slots: [], serial: {} };
  let net: string | undefined;
  try {
    const mem = query.get('mem');
    if (mem !== null) spec.memoryBytes = at('mem', mem, () => parseMemory(mem));
    spec.kernel = url(query, 'kernel', base);
    spec.initrd = url(query, 'initrd', base);
    spec.slots = querySlots(query, base, fromFile.slots);
    net = relayUrl(query);
  } catch (e) {
    if (e instanceof FieldError) return new ConfigError(e.field === '' ? e.message : `${e.field}: ${e.message}`);
    throw e;
  }
  spec.append = query.get('append') ?? undefined;
  const config = completeSpec(mergeSpecs(fromFile, spec), file ? `?config=${file.url}` : 'query');
  if (config instanceof ConfigError) return config;
  const guest = new URL(DEFAULT_GUEST_PATH, base);
  return {
    config,
    core: new URL(CORE_PATH, base).href,
    kernel: config.kernel ?? new URL('vmlinuz', guest).href,
    initrd: config.kernel === undefined ? new URL('initrd.img', guest).href : config.initrd,
    append: config.append ?? (config.kernel === undefined ? DEFAULT_APPEND : ''),
    net,
  };
}

/** An image's URL resolved against the page; an empty parameter is no parameter. */
function url(query: URLSearchParams, name: 'kernel' | 'initrd', base: string): string | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  return at(name, value, () => absolute(value, base));
}

function absolute(value: string, base: string): string {
  try {
    return new URL(value, base).href;
  } catch {
    throw new FieldError('', 'is not a URL');
  }
}

/** A virtio-blk slot per ?disk= and an ahci-cd slot per ?cdrom=, in the free slots from FIRST_QUERY_SLOT. */
function querySlots(query: URLSearchParams, base: string, taken: PciSlotConfig[]): PciSlotConfig[] {
  const used = new Set(taken.map((s) => s.slot));
  const out: PciSlotConfig[] = [];
  const next = (name: string, value: string): number => {
    let slot = FIRST_QUERY_SLOT;
    while (used.has(slot)) slot++;
    if (slot >= PCI_SLOTS) throw new FieldError(`?${name}=${value}`, 'no PCI slot is left for it');
    used.add(slot);
    return slot;
  };
  const relay = query.get('net');
  if (relay !== null && relay !== '') {
    out.push({ slot: next('net', relay), func: 0, emulation: 'virtio-net', backend: { kind: 'user', hostfwd: [], restrict: false }, mac: undefined });
  }
  for (const name of ['disk', 'cdrom'] as const) {
    for (const value of query.getAll(name)) {
      if (value === '') continue;
      const path = at(name, value, () => absolute(value, base));
      const slot = next(name, value);
      out.push(name === 'disk'
        ? { slot, func: 0, emulation: 'virtio-blk', path, ro: false, snapshot: false }
        : { slot, func: 0, emulation: 'ahci-cd', path });
    }
  }
  return out;
}

/** ?net=: the relay's ws:// or wss:// URL, as given; undefined without one. */
function relayUrl(query: URLSearchParams): string | undefined {
  const value = query.get('net');
  if (value === null || value === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new FieldError(`?net=${value}`, 'is not a URL; the relay is ws://127.0.0.1:PORT (`wasmpc relay --listen 127.0.0.1:PORT`)');
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new FieldError(`?net=${value}`, 'must be a ws:// or wss:// URL, like ws://127.0.0.1:8081 (`wasmpc relay --listen 127.0.0.1:8081`)');
  }
  return value;
}

/** The config file's image paths as URLs relative to the file. */
function resolvePaths(spec: MachineSpec, fileUrl: string): MachineSpec {
  const abs = (field: string, path: string) => at(field, path, () => absolute(path, fileUrl));
  const slots = spec.slots.map((s): PciSlotConfig => {
    const where = `slots[${slotKey(s)}].path`;
    switch (s.emulation) {
      case 'virtio-blk':
      case 'ahci-hd':
      case 'ahci-cd':
        return { ...s, path: abs(where, s.path) };
      case 'ahci':
        return { ...s, ports: s.ports.map((p) => (p.path === undefined ? p : { ...p, path: abs(where, p.path) })) };
      default:
        return s;
    }
  });
  return {
    ...spec,
    slots,
    ...(spec.kernel !== undefined ? { kernel: abs('kernel', spec.kernel) } : {}),
    ...(spec.initrd !== undefined ? { initrd: abs('initrd', spec.initrd) } : {}),
  };
}

/** Run `read`, naming the parameter and its value in front of the message of a FieldError it throws. */
function at<T>(name: string, value: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof FieldError) throw new FieldError(`?${name}=${value}`, e.message);
    throw e;
  }
}
