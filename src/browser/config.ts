// The machine the page's query string asks for: ?kernel=URL&initrd=URL&append=CMDLINE&mem=SIZE, each optional.
// Without a kernel, the default Debian i686 guest that `wasmpc serve` publishes beside the page, with its console
// on COM1. URLs are resolved against the page's address.
import { ConfigError, DEFAULT_APPEND, FieldError, completeSpec, parseMemory, type MachineSpec } from '../machine/config';
import type { BootRequest } from './protocol';

export const QUERY_PARAMETERS = ['kernel', 'initrd', 'append', 'mem'] as const;
/** Where `wasmpc serve` publishes images/debian-i686, relative to the page. */
export const DEFAULT_GUEST_PATH = 'images/debian-i686/';
/** The core beside the page (scripts/build-web.mjs copies build/core.wasm there). */
const CORE_PATH = 'core.wasm';

/** The boot request of `search` (location.search) for a page at `base`, or what is wrong with the query. */
export function bootRequestFromQuery(search: string, base: string): BootRequest | ConfigError {
  const query = new URLSearchParams(search);
  for (const name of new Set(query.keys())) {
    if (!(QUERY_PARAMETERS as readonly string[]).includes(name)) {
      return new ConfigError(`?${name}=: not a parameter (parameters: ${QUERY_PARAMETERS.join(', ')})`);
    }
  }
  const spec: MachineSpec = { slots: [], serial: {} };
  try {
    const mem = query.get('mem');
    if (mem !== null) spec.memoryBytes = at('mem', mem, () => parseMemory(mem));
    spec.kernel = url(query, 'kernel', base);
    spec.initrd = url(query, 'initrd', base);
  } catch (e) {
    if (e instanceof FieldError) return new ConfigError(e.field === '' ? e.message : `${e.field}: ${e.message}`);
    throw e;
  }
  spec.append = query.get('append') ?? undefined;
  const config = completeSpec(spec, 'query');
  if (config instanceof ConfigError) return config;
  const guest = new URL(DEFAULT_GUEST_PATH, base);
  return {
    config,
    core: new URL(CORE_PATH, base).href,
    kernel: config.kernel ?? new URL('vmlinuz', guest).href,
    initrd: config.kernel === undefined ? new URL('initrd.img', guest).href : config.initrd,
    append: config.append ?? (config.kernel === undefined ? DEFAULT_APPEND : ''),
  };
}

/** An image's URL resolved against the page; an empty parameter is no parameter. */
function url(query: URLSearchParams, name: 'kernel' | 'initrd', base: string): string | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  return at(name, value, () => {
    try {
      return new URL(value, base).href;
    } catch {
      throw new FieldError('', 'is not a URL');
    }
  });
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
