// Running Debian's ACPICA tools (acpica-tools: iasl, acpiexec) on tables that bios/ built: the reference
// implementation of ACPI that Linux itself uses, as an oracle nobody here wrote.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTool } from '../images/host-tools';

export const MISSING_IASL = missingTool('iasl', 'acpica-tools');
export const MISSING_ACPIEXEC = missingTool('acpiexec', 'acpica-tools');

export interface ToolRun { status: number | null; output: string }

function run(command: string, args: string[], cwd: string): ToolRun {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Runs `body` in a fresh temporary directory and removes it afterwards. */
export function inTempDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'wasmpc-acpi-'));
  try { return body(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** inTempDir for a body that returns a promise: the directory lives until the promise settles. */
export async function inTempDirAsync<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmpc-acpi-'));
  try { return await body(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** `iasl -d` on one binary table: the tool's log and the disassembled source. */
export function disassemble(table: Uint8Array): ToolRun & { dsl: string } {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'table.dat'), table);
    const r = run('iasl', ['-d', 'table.dat'], dir);
    let dsl = '';
    try { dsl = readFileSync(join(dir, 'table.dsl'), 'utf8'); } catch { /* the log says why */ }
    return { ...r, dsl };
  });
}

/** `iasl` on ASL source: the log and the AML it produced (empty when compilation failed). */
export function compile(source: string, flags: readonly string[] = []): ToolRun & { aml: Uint8Array } {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'source.dsl'), source);
    const r = run('iasl', [...flags, '-p', 'out', 'source.dsl'], dir);
    let aml = new Uint8Array(0);
    try { aml = new Uint8Array(readFileSync(join(dir, 'out.aml'))); } catch { /* the log says why */ }
    return { ...r, aml };
  });
}

/** The "N Errors, N Warnings, N Remarks" summary line of an iasl compile, as numbers. */
export function compileCounts(log: string): { errors: number; warnings: number; remarks: number } | undefined {
  const m = /(\d+) Errors, (\d+) Warnings, (\d+) Remarks/.exec(log);
  return m ? { errors: +m[1]!, warnings: +m[2]!, remarks: +m[3]! } : undefined;
}

/** acpiexec in batch mode with the given tables loaded (DSDT first) and debugger commands separated by ';'. */
export function acpiexec(tables: readonly Uint8Array[], commands: string): ToolRun {
  return inTempDir((dir) => {
    const files = tables.map((t, i) => { const f = `t${i}.dat`; writeFileSync(join(dir, f), t); return f; });
    return run('acpiexec', ['-b', commands, ...files], dir);
  });
}

/**
 * acpiexec's own interface self-tests (aetests.c) poke hardware its test tables have and a PC does not (PM2's
 * ARB_DIS bit, GPEs 0x19 and 101) and report "Unexpected ... (aetests-NNN)"; every other complaint counts.
 */
export function acpiComplaints(output: string): string[] {
  return output.split('\n').filter((l) => /ACPI (Error|Warning|Exception)|Unexpected|AE_[A-Z_]+/.test(l))
    .filter((l) => !/\(aetests-\d+\)/.test(l))
    .filter((l) => !/AcpiSetCurrentResources failed: AE_NOT_FOUND/.test(l)); // the debugger tries _SRS on every device
}
