// Linux itself as the judge of our ACPI tables: the Debian kernel boots in QEMU with our DSDT and MADT put in
// place of QEMU's through the kernel's ACPI table upgrade (CONFIG_ACPI_TABLE_UPGRADE: tables in an uncompressed
// cpio at kernel/firmware/acpi/ ahead of the initrd, matched by OEM ID and table ID, taken if their OEM revision
// is higher). QEMU's PIIX4 power management sits at 0x600 like ours, so _S5 must power the machine off.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { fixChecksum } from '../../bios/acpi/checksum';
import { buildDsdt, buildMadt } from '../../bios/acpi/tables';
import { CpioWriter } from '../../src/images/cpio';
import { imagePaths, repoRoot } from '../../src/images/paths';
import { itWhen, missingTool } from '../images/host-tools';
import { inTempDirAsync } from './acpica';

const paths = imagePaths(repoRoot());
const noImages = existsSync(paths.initrd) ? null : `${paths.initrd} does not exist (run npm run images)`;
const noQemu = missingTool('qemu-system-i386', 'qemu-system-x86');
const BOOT_TIMEOUT_MS = 120_000;

/** Our table dressed as QEMU's (OEM ID "BOCHS ", table ID "BXPC    ") with a higher OEM revision. */
function asQemuUpgrade(table: Uint8Array): Uint8Array {
  const out = table.slice();
  const put = (at: number, text: string): void => { for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i); };
  put(10, 'BOCHS ');
  put(16, 'BXPC    ');
  new DataView(out.buffer).setUint32(24, 2, true);
  fixChecksum(out, 9);
  return out;
}

function boot(initrd: string, append: string): Promise<{ code: number | null; output: string }> {
  const args = ['-accel', 'tcg', '-m', '256', '-nodefaults', '-display', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', paths.vmlinuz, '-initrd', initrd, '-append', append];
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-i386', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`qemu did not power off within ${BOOT_TIMEOUT_MS / 1000} s; serial output:\n${output}`));
    }, BOOT_TIMEOUT_MS - 5_000);
    child.on('error', reject);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, output: output.replace(/\r/g, '') }); });
  });
}

describe('our ACPI tables under Linux (Debian kernel in QEMU)', () => {
  itWhen([noImages, noQemu], 'are taken over QEMU\'s, enumerate the platform without ACPI errors, and _S5 powers off', async () => {
    const options = { ncpus: 1, pciMmio: { base: 0xc000_0000, size: 0x3ec0_0000 }, ecam: { base: 0xb000_0000, endBus: 255 } };
    const upgrade = new CpioWriter()
      .file('kernel/firmware/acpi/dsdt.aml', asQemuUpgrade(buildDsdt(options)))
      .file('kernel/firmware/acpi/apic.aml', asQemuUpgrade(buildMadt(1, 1)))
      .finish();
    const { code, output } = await inTempDirAsync(async (dir) => {
      const initrd = join(dir, 'initrd');
      writeFileSync(initrd, Buffer.concat([upgrade, readFileSync(paths.initrd)]));
      return boot(initrd, 'console=ttyS0 wasmpc.run="ls /sys/bus/acpi/devices"');
    });
    expect(code, output).toBe(0);
    expect(output).toContain('ACPI: Table Upgrade: override [DSDT-BOCHS -BXPC    ]');
    expect(output).toContain('ACPI: Table Upgrade: override [APIC-BOCHS -BXPC    ]');
    expect(output.split('\n').filter((l) => /ACPI (BIOS )?(Error|Warning)|ACPI Exception/.test(l))).toEqual([]);
    expect(output).toContain('ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 high level)');
    expect(output).toContain('ACPI: PM: (supports S0 S5)');
    expect(output).toContain('ACPI: PCI Root Bridge [PCI0] (domain 0000 [bus 00-ff])');
    expect(output).toContain('root bus resource [mem 0xc0000000-0xfebfffff window]');
    expect(output).toMatch(/ACPI: PCI: Interrupt link LNKD configured for IRQ 11/);
    expect(output).toMatch(/system 00:0\d: \[mem 0xb0000000-0xbfffffff\] has been reserved/);
    expect(output).toMatch(/ttyS0 at I\/O 0x3f8 \(irq = 4, base_baud = 115200\) is a 16550A/);
    expect(output).toContain('i8042: PNP: PS/2 Controller [PNP0303:KBD,PNP0f13:MOU] at 0x60,0x64 irq 1,12');
    for (const id of ['ACPI0007:00', 'PNP0A03:00', 'PNP0B00:00', 'PNP0000:00', 'PNP0100:00', 'PNP0C0F:03', 'PNP0C02:00']) expect(output).toContain(id);
    expect(output).toContain('ACPI: PM: Preparing to enter system sleep state S5');
  }, BOOT_TIMEOUT_MS);
});
