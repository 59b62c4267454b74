// The wasmpc command line.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { packageRoot } from './core-module';
import { conformanceMain } from './conformance';

const USAGE = `usage: wasmpc <command> [options]

commands:
  run            boot a guest (default: the Debian i686 guest built by \`npm run images\`)
  conformance    run CPU conformance suites: \`wasmpc conformance sst [--json]\`
`;

async function runMain(_args: string[]): Promise<number> {
  const root = packageRoot();
  const guest = join(root, 'images', 'debian-i686');
  if (!existsSync(join(guest, 'vmlinuz')) || !existsSync(join(guest, 'initrd.img'))) {
    process.stderr.write('wasmpc: the default guest is missing; building it with `npm run images`\n');
    const r = spawnSync(process.execPath, [join(root, 'build', 'node', 'images.js')], { stdio: 'inherit' });
    if (r.status !== 0) return 1;
  }
  process.stderr.write(
    'wasmpc: this build cannot boot Linux yet: the CPU core runs real-mode and protected-mode integer code,\n' +
      'but the PC platform (interrupt controllers, UARTs, timers, firmware tables, the bzImage loader) is not\n' +
      'assembled into a bootable machine. The default guest is ready in images/debian-i686.\n',
  );
  return 1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run':
      return runMain(rest);
    case 'conformance':
      return conformanceMain(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`wasmpc: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`wasmpc: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
