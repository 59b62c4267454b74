// /init's kernel command line parsing, run by the host's sh and awk (the guest runs the same text in busybox).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CMDLINE_PARAM_FUNCTION, initScript } from '../../src/images/init-script';

function param(cmdline: string, name: string): string {
  const result = spawnSync('sh', ['-c', `${CMDLINE_PARAM_FUNCTION}\ncmdline_param "$1"`, 'sh', name], {
    env: { ...process.env, CMDLINE: cmdline },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`sh failed: ${result.stderr}`);
  return result.stdout;
}

describe('cmdline_param in /init', () => {
  it('reads an unquoted value', () => {
    expect(param('console=ttyS0 wasmpc.bench=1 quiet', 'wasmpc.bench')).toBe('1\n');
  });

  it('reads a double-quoted value with spaces and shell syntax, without the quotes', () => {
    expect(param('console=ttyS0 wasmpc.run="echo hi; uname -m" loglevel=3', 'wasmpc.run')).toBe('echo hi; uname -m\n');
  });

  it('keeps single quotes inside a double-quoted value', () => {
    expect(param(`wasmpc.run="echo 'a  b' | wc -c"`, 'wasmpc.run')).toBe(`echo 'a  b' | wc -c\n`);
  });

  it('prints nothing for an absent parameter', () => {
    expect(param('console=ttyS0 wasmpc.runner=x', 'wasmpc.run')).toBe('');
  });

  it('does not mistake text inside another quoted value for a parameter', () => {
    expect(param('wasmpc.run="echo wasmpc.bench=1"', 'wasmpc.bench')).toBe('');
  });

  it('takes the last of repeated parameters, as the kernel does', () => {
    expect(param('wasmpc.bench=0 wasmpc.bench=1', 'wasmpc.bench')).toBe('1\n');
  });

  it('treats the dot in the name literally', () => {
    expect(param('wasmpcXrun=nope', 'wasmpc.run')).toBe('');
  });

  it('is part of /init, which prints the markers the host waits for', () => {
    const script = initScript();
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain(CMDLINE_PARAM_FUNCTION);
    expect(script).toContain("echo 'wasmpc-guest: userspace'");
    expect(script).toContain("echo 'wasmpc-guest: done'");
    for (const workload of ['sha256', 'gzip', 'loop']) {
      expect(script).toContain(`echo 'wasmpc-bench: ${workload} start'`);
      expect(script).toContain(`echo 'wasmpc-bench: ${workload} end'`);
    }
  });

  it('is valid sh syntax', () => {
    const result = spawnSync('sh', ['-n'], { input: initScript(), encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
