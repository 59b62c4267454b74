// The page's query string: what machine ?kernel=&initrd=&append=&mem= asks for, the default guest without a
// kernel, and the one line for each mistake.
import { describe, expect, it } from 'vitest';
import { bootRequestFromQuery } from '../../src/browser/config';
import { ConfigError } from '../../src/machine/config';
import type { BootRequest } from '../../src/browser/protocol';

const PAGE = 'http://127.0.0.1:8080/index.html';
const MiB = 1024 * 1024;

function ok(search: string): BootRequest {
  const r = bootRequestFromQuery(search, PAGE);
  if (r instanceof ConfigError) throw new Error(r.message);
  return r;
}

function err(search: string): string {
  const r = bootRequestFromQuery(search, PAGE);
  if (!(r instanceof ConfigError)) throw new Error(`accepted: ${search}`);
  return r.message;
}

describe('bootRequestFromQuery', () => {
  it('boots the default guest beside the page with its console on COM1 when the query is empty', () => {
    const r = ok('');
    expect(r.kernel).toBe('http://127.0.0.1:8080/images/debian-i686/vmlinuz');
    expect(r.initrd).toBe('http://127.0.0.1:8080/images/debian-i686/initrd.img');
    expect(r.append).toBe('console=ttyS0');
    expect(r.core).toBe('http://127.0.0.1:8080/core.wasm');
    expect(r.config.memoryBytes).toBe(256 * MiB);
    expect(r.config.slots.map((s) => s.emulation)).toEqual(['hostbridge', 'lpc']);
    expect(r.config.serial).toEqual({ com1: { kind: 'stdio' } });
  });

  it('gives the default guest another command line and memory size', () => {
    const r = ok(`?append=${encodeURIComponent('console=ttyS0 wasmpc.run="uname -m"')}&mem=512M`);
    expect(r.append).toBe('console=ttyS0 wasmpc.run="uname -m"');
    expect(r.config.memoryBytes).toBe(512 * MiB);
    expect(r.kernel).toMatch(/debian-i686\/vmlinuz$/);
  });

  it('resolves kernel and initrd URLs against the page and boots a kernel without an initrd', () => {
    const r = ok('?kernel=guests/bzImage&initrd=https://example.org/rd.gz');
    expect(r.kernel).toBe('http://127.0.0.1:8080/guests/bzImage');
    expect(r.initrd).toBe('https://example.org/rd.gz');
    expect(r.append).toBe('');
    const bare = ok('?kernel=k');
    expect(bare.initrd).toBeUndefined();
  });

  it('takes an empty parameter as no parameter', () => {
    expect(ok('?kernel=&initrd=').kernel).toMatch(/debian-i686\/vmlinuz$/);
  });

  it('names the parameter and its value in each mistake', () => {
    expect(err('?mem=4G')).toBe('?mem=4G: must be at most 3584M (3.5G): RAM ends below the PCI hole');
    expect(err('?mem=lots')).toMatch(/^\?mem=lots: must be a size/);
    expect(err('?kernal=x')).toBe('?kernal=: not a parameter (parameters: kernel, initrd, append, mem)');
    expect(err('?kernel=http://[')).toBe('?kernel=http://[: is not a URL');
    expect(err('?initrd=rd.gz')).toBe('query: an initrd needs a kernel (the default guest brings its own)');
  });
});
