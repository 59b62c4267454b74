// `wasmpc serve`: the browser page (build/web, made by `npm run build:web`) and the default guest's images on
// http://127.0.0.1:PORT. Files are sent whole or, for a Range request, in part (RFC 9110 §14): disks over HTTP
// read their blocks that way. Every response is cross-origin isolated (COOP and COEP), which gives the page's
// Worker a precise performance.now() for the guest's clocks.
import { createReadStream, statSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { LOOPBACK } from '../machine/config';
import { packageRoot } from './core-module';
import { defaultGuest } from './default-guest';
import { DEFAULT_GUEST_PATH } from '../browser/config';

const USAGE = `usage: wasmpc serve [--port N]

Serve the browser page on http://${LOOPBACK}:PORT/ with the default Debian i686 guest (built first if it is
missing). PORT is --port, else the PORT environment variable, else 8080. \`npm run serve\` builds the page and runs
this. Query parameters of the page: ?kernel=URL&initrd=URL&append=CMDLINE&mem=SIZE&disk=URL&cdrom=URL&config=URL
&net=WS-URL (a \`wasmpc relay\`).
`;

const DEFAULT_PORT = 8080;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

export interface WebServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  close(): Promise<void>;
}

/** What is served: `web` at /, `guest` at /images/debian-i686/, and `extra.dir` at `extra.prefix` (/disks/). */
export interface WebRoots {
  web: string;
  guest: string;
  extra?: { prefix: string; dir: string };
}

/** Told of each request: the URL path, and its Range header if any (tests count the requests of a disk). */
export type RequestObserver = (path: string, range: string | undefined) => void;

/** Listen on 127.0.0.1:`port` (0 picks a free port). */
export function serveWeb(roots: WebRoots, port: number, observe?: RequestObserver): Promise<WebServer> {
  const server = createServer((req, res) => {
    observe?.(new URL(req.url ?? '/', 'http://host').pathname, req.headers.range);
    respond(roots, req, res);
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.removeListener('error', reject);
      const address = server.address();
      const actual = typeof address === 'object' && address !== null ? address.port : port;
      resolveServer({
        url: `http://${LOOPBACK}:${actual}/`,
        close: () => new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}

/** The file a URL path names, or undefined when it names nothing served (or tries to leave its root). */
export function fileFor(roots: WebRoots, urlPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.split('/').includes('..')) return undefined;
  const guestPrefix = `/${DEFAULT_GUEST_PATH}`;
  const extra = roots.extra;
  const [root, rest] = extra && path.startsWith(extra.prefix) ? [extra.dir, path.slice(extra.prefix.length)]
    : path.startsWith(guestPrefix) ? [roots.guest, path.slice(guestPrefix.length)] : [roots.web, path.slice(1)];
  const file = resolve(root, rest === '' ? 'index.html' : rest);
  return file.startsWith(resolve(root) + sep) ? file : undefined;
}

/** A byte range of a file of `size` bytes, from a Range header. */
export type RangeAnswer = { kind: 'whole' } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * RFC 9110 §14.1.2: `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-SUFFIX`. A header that is not one byte range
 * is ignored (the whole file is sent), as §14.2 allows; a range starting past the end cannot be satisfied.
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'whole' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (last < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', start, end: Math.min(last, size - 1) };
}

function respond(roots: WebRoots, req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('Cache-Control', 'no-cache');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'Allow': 'GET, HEAD' }).end();
    return;
  }
  const file = fileFor(roots, new URL(req.url ?? '/', 'http://host').pathname);
  let stats: Stats | undefined;
  try {
    stats = file === undefined ? undefined : statSync(file);
  } catch {
    stats = undefined;
  }
  if (file === undefined || !stats?.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  const size = stats.size;
  const etag = `"${size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  res.setHeader('Content-Type', CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', stats.mtime.toUTCString());
  // §13.1.5: a Range under an If-Range that no longer matches gets the whole (changed) file.
  const ifRange = req.headers['if-range'];
  const range = ifRange !== undefined && ifRange !== etag ? { kind: 'whole' as const } : parseRange(req.headers.range, size);
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
    return;
  }
  const [start, end] = range.kind === 'part' ? [range.start, range.end] : [0, size - 1];
  res.setHeader('Content-Length', end - start + 1);
  if (range.kind === 'part') res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  res.writeHead(range.kind === 'part' ? 206 : 200);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
}

export async function serveMain(argv: string[]): Promise<number> {
  let port = process.env.PORT === undefined || process.env.PORT === '' ? DEFAULT_PORT : Number(process.env.PORT);
  let portFrom = 'PORT';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') { process.stdout.write(USAGE); return 0; }
    if (a === '--port' && i + 1 < argv.length) { port = Number(argv[++i]); portFrom = '--port'; continue; }
    process.stderr.write(`wasmpc serve: unknown argument '${a}'\n${USAGE}`);
    return 2;
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`wasmpc serve: ${portFrom} must be a port number 0-65535\n`);
    return 2;
  }
  const web = join(packageRoot(), 'build', 'web');
  try {
    statSync(join(web, 'index.html'));
  } catch {
    process.stderr.write(`wasmpc serve: ${web}/index.html is missing; run \`npm run build:web\` (or \`npm run serve\`)\n`);
    return 2;
  }
  const guest = defaultGuest();
  let server: WebServer;
  try {
    server = await serveWeb({ web, guest: guest.dir }, port);
  } catch (e) {
    process.stderr.write(`wasmpc serve: cannot listen on ${LOOPBACK}:${port} (${(e as NodeJS.ErrnoException).code ?? String(e)})\n`);
    return 2;
  }
  process.stdout.write(`wasmpc: serving ${server.url} (Ctrl-C stops)\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await server.close();
  return 0;
}
