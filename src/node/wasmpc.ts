// The wasmpc command line.
import { runMain } from './run';
import { conformanceMain } from './conformance';
import { imgMain } from './img';
import { relayMain } from './relay';
import { serveMain } from './serve';

const USAGE = `usage: wasmpc <command> [options]

commands:
  run            boot a guest (default: the Debian i686 guest built by \`npm run images\`); see \`wasmpc run --help\`
  conformance    run CPU conformance suites: \`wasmpc conformance sst [--json]\`
  img            create, inspect and convert disk images (raw, qcow2): \`wasmpc img --help\`
  serve          serve the browser page: \`wasmpc serve --help\`
  relay          carry the page's network (?net=ws://...) to a user-mode NAT: \`wasmpc relay --help\`
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run':
      return runMain(rest);
    case 'conformance':
      return conformanceMain(rest);
    case 'img':
      return imgMain(rest);
    case 'serve':
      return serveMain(rest);
    case 'relay':
      return relayMain(rest);
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
