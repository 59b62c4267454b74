// The Debian i686 kernel with the project's initramfs boots on wasmpc to userspace, runs a command and powers
// off (exit status 0). The expectations are the guest's own reports (its /proc files and markers) and the
// kernel's log: no ACPI, BIOS or MP-table complaints.
import { describe, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { itWhen } from '../images/host-tools';
import { packageRoot } from '../../src/node/core-module';

const root = packageRoot();
const images = join(root, 'images', 'debian-i686');
const cli = join(root, 'build', 'node', 'wasmpc.js');
const missing = [
  existsSync(join(images, 'vmlinuz')) ? null : 'the Debian guest is missing (npm run images)',
  existsSync(cli) ? null : 'build/node/wasmpc.js is missing (npm run build)',
];

/** CPU time (user + system) the process has used, in seconds, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Boot { status: number | null; out: string; ms: number; idleCpuShare: number }

function boot(command: string, timeoutMs: number): Promise<Boot> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [cli, 'run', '--append', `console=ttyS0 wasmpc.run="${command}"`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    // While the guest sleeps between the idle markers, measure the share of one host core the emulator uses.
    let idleStart: { cpu: number; wall: number } | undefined;
    let idleCpuShare = NaN;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      // The markers are computed by the guest's shell, so the kernel's echo of its command line cannot match.
      if (!idleStart && out.includes('idle-42')) idleStart = { cpu: cpuSeconds(child.pid!), wall: Date.now() };
      if (idleStart && Number.isNaN(idleCpuShare) && out.includes('idle-43')) {
        idleCpuShare = (cpuSeconds(child.pid!) - idleStart.cpu) / ((Date.now() - idleStart.wall) / 1000);
      }
    });
    child.stderr.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (status) => { clearTimeout(timer); resolve({ status, out, ms: Date.now() - t0, idleCpuShare }); });
  });
}

describe('the Debian i686 guest on wasmpc', () => {
  itWhen(missing, 'boots to userspace, reports its hardware, reboots, boots again and powers off with status 0', async () => {
    const hostDate = Math.floor(Date.now() / 1000);
    // Both boots run the same command line, so the command tells them apart by a byte of CMOS NVRAM (0x3e),
    // which survives a reset as it does on a PC: the first boot sets it, reports, and reboots; the second sees it
    // and returns to /init, which powers off.
    const cmosIndex = "printf '\\076' | dd of=/dev/port bs=1 seek=112 count=1 2>/dev/null";
    const r = await boot(`${cmosIndex}; mark=$(dd if=/dev/port bs=1 skip=113 count=1 2>/dev/null | od -An -tx1); ` +
      'if [ $mark = a5 ]; then echo reboot-test-$((1+1)); else ' +
      `${cmosIndex}; printf '\\245' | dd of=/dev/port bs=1 seek=113 count=1 2>/dev/null; ` +
      'cat /proc/interrupts; echo date=$(date +%s); cat /proc/cpuinfo; lspci; ' +
      'echo clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource); ' +
      'echo idle-$((6*7)); sleep 10; echo idle-$((6*7+1)); echo reboot-test-$((0+1)); reboot -f; fi', 40 * 60_000);
    const log = r.out;
    expect(log, log.slice(-3000)).toContain('wasmpc-guest: userspace');
    // `reboot` resets the machine, which boots a second time and powers off from there.
    const first = log.indexOf('reboot-test-1'), second = log.indexOf('reboot-test-2');
    expect(first, log.slice(-3000)).toBeGreaterThan(0);
    expect(second, log.slice(-3000)).toBeGreaterThan(first);
    expect(log.slice(first, second)).toContain('reboot: Restarting system');
    expect(log.split('wasmpc-guest: userspace').length - 1).toBe(2);
    expect(log.slice(second)).toContain('wasmpc-guest: done');
    expect(r.status, log.slice(-2000)).toBe(0);
    // The timer and ttyS0 interrupts arrive through the I/O APIC.
    expect(log).toMatch(/^\s*0:\s+\d+\s+IO-APIC\s+2-edge\s+timer/m);
    expect(log).toMatch(/^\s*4:\s+\d+\s+IO-APIC\s+4-edge\s+ttyS0/m);
    // The guest's clock was set from the RTC: within a few minutes of the host's (the boot itself takes time).
    const guestDate = Number(/date=(\d+)/.exec(log)?.[1]);
    expect(Math.abs(guestDate - hostDate)).toBeLessThan(r.ms / 1000 + 120);
    // lspci (the initramfs's guest tool, reading sysfs) shows the i440FX host bridge and the PIIX3 LPC bridge.
    expect(log).toMatch(/^00:00\.0 Host bridge \[0600\]: Device \[8086:1237\]/m);
    expect(log).toMatch(/^00:01\.0 ISA bridge \[0601\]: Device \[8086:7000\]/m);
    expect(log).toMatch(/fpu\s*:\s*yes/);
    // Time sources agree: the clocksource watchdog (the HPET) finds no skew, and the TSC stays the clocksource.
    expect(log).not.toMatch(/Marking (TSC|clocksource '[^']*') (as )?unstable/);
    expect(log).toMatch(/clocksource: Switched to clocksource tsc\s/);
    expect(log).toContain('clocksource=tsc');
    // An idle guest (in sleep) costs the host little. The platform issue's target is under 5% of one core. Measured
    // alone over 20-30 s of `sleep` (the closing notes of sessions 14-18), the JIT build costs 9-18%: each 4 ms
    // tick (HZ=250, the tick an hrtimer on the one-shot LAPIC timer) runs ~3,400 guest instructions through ~220
    // entries into ~200 separately compiled modules, ~400 us of host time; the same ticks back to back (--icount)
    // take ~70 us each, so it is the code and data gone cold between ticks. This window (10 s right after boot, on
    // a CI host running other tests) holds the line at what is achieved; the closing notes track the gap.
    expect(r.idleCpuShare).toBeLessThan(0.5);
    // No firmware complaints. Linux's check_timer() also says "MP-BIOS bug: 8254 timer not connected to IO-APIC"
    // when fewer than five ticks arrive while it spins on the TSC for ~160 ms of host time, which a host whose
    // cores are busy elsewhere (a loaded CI machine) can cause: that is accepted only when the kernel then finds
    // the timer on the same I/O APIC pin ("found apic 0 pin 2 ... works"); the routing is checked above.
    const complaints = log.replace(
      /\.\.MP-BIOS bug: 8254 timer not connected to IO-APIC[^\n]*\n[^\n]*through the 8259A[^\n]*\n[^\n]*found apic 0 pin 2[^\n]*\n[^\n]*\.{7} works\./g, '');
    expect(complaints).not.toMatch(/ACPI Error|ACPI BIOS Error|BIOS bug|\[Firmware Bug\]|MP-BIOS bug/);
    // The kernel's crypto self-tests (most of the boot's instructions: AES, SHA, DRBG ... computed and compared
    // with known answers) all passed on this CPU.
    expect(log).not.toMatch(/alg: self-tests for .* failed|alg: .* test failed/);
  }, 41 * 60_000);

  itWhen(missing, 'the interactive shell\'s reboot boots again and its poweroff exits with status 0', async () => {
    // Without wasmpc.run, /init starts a shell on the console (what `npm start` gives a user). busybox's reboot and
    // poweroff without -f only signal PID 1, which is /init.
    const child = spawn(process.execPath, [cli, 'run', '--append', 'console=ttyS0 quiet'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let typed = 0;
    // Each command must have its effect within minutes (a boot on a loaded CI host takes about one).
    let timer: ReturnType<typeof setTimeout> = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
    const type = (line: string): void => {
      child.stdin.write(`${line}\n`);
      typed++;
      clearTimeout(timer);
      timer = setTimeout(() => child.kill('SIGKILL'), 4 * 60_000);
    };
    const prompts = (): number => out.split('/ # ').length - 1;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      // The first prompt of each boot: reboot from the first, poweroff from the second.
      const boots = out.split('wasmpc-guest: userspace').length - 1;
      if (typed === 0 && boots === 1 && prompts() >= 1) type('reboot');
      if (typed === 1 && boots === 2 && out.lastIndexOf('/ # ') > out.lastIndexOf('wasmpc-guest: userspace')) type('poweroff');
    });
    child.stderr.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    const status = await new Promise<number | null>((resolve) => {
      child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
    });
    expect(typed, out.slice(-2000)).toBe(2);
    expect(out).toContain('reboot: Restarting system');
    expect(out.slice(out.indexOf('reboot: Restarting system'))).toContain('reboot: Power down');
    expect(status, out.slice(-2000)).toBe(0);
  }, 20 * 60_000);
});
