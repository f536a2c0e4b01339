/**
 * `npm run explore`: build the explorer page (explorer/ → dist/explorer/, with the library's browser
 * bundle and the shipped models, SAEs and probe) and serve it on 127.0.0.1 with a small static server
 * (node:http, COOP/COEP headers so tfjs's threaded wasm can use SharedArrayBuffer). Prints the URL
 * (with --json: one JSON object {"url": …} on stdout); Ctrl-C (SIGINT) or SIGTERM closes the server and
 * exits 0.
 *
 * Run: npm run explore [-- --port 8765] [--json] [--no-build] [--dir dist/explorer]
 * --port: 8765 by default, falling back to a free port when it is taken; --port 0 picks a free one.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildExplorer, REPO_ROOT } from '../explorer/build.js';

const DEFAULT_PORT = 8765;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

const HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};

/** A running server. */
export interface ExploreServer {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly server: Server;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

/** Serve `root` read-only: GET/HEAD of files inside it (a folder → its index.html); 403 outside, 404 missing. */
function handler(root: string): Parameters<typeof createServer>[1] {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...HEADERS, Allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400, HEADERS).end('bad path');
      return;
    }
    const file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403, HEADERS).end('forbidden');
      return;
    }
    const target = existsSync(file) && statSync(file).isDirectory() ? join(file, 'index.html') : file;
    if (!existsSync(target) || !statSync(target).isFile()) {
      res.writeHead(404, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${path}`);
      return;
    }
    const size = statSync(target).size;
    res.writeHead(200, { ...HEADERS, 'Content-Type': TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': String(size) });
    if (req.method === 'HEAD') res.end();
    else createReadStream(target).pipe(res);
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((ok, fail) => {
    const onError = (e: Error): void => fail(e);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      ok();
    });
  });
}

/**
 * Serve a folder on 127.0.0.1. `port` 0 picks a free port; a taken port falls back to a free one
 * when `fallback` is set (default true).
 */
export async function serveExplorer(dir: string, port = DEFAULT_PORT, fallback = true): Promise<ExploreServer> {
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html'))) throw new Error(`explore: ${root}/index.html is missing; build the page first (drop --no-build)`);
  const server = createServer(handler(root));
  try {
    await listen(server, port);
  } catch (e) {
    if (!fallback || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    await listen(server, 0);
  }
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (v.help) {
    process.stdout.write('usage: npm run explore [-- --port N] [--json] [--no-build] [--dir FOLDER]\n');
    return;
  }
  const port = v.port === undefined ? DEFAULT_PORT : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`explore: --port must be an integer in [0, 65535], got ${v.port}`);
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  const dir = v.dir === undefined ? join(REPO_ROOT, 'dist', 'explorer') : resolve(v.dir);
  if (!v['no-build']) await buildExplorer({ outDir: dir, log });
  const s = await serveExplorer(dir, port);
  if (v.json) process.stdout.write(`${JSON.stringify({ url: s.url })}\n`);
  else process.stdout.write(`tfjs-lens explorer: ${s.url}  (Ctrl-C stops)\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`explore: ${signal}, closing the server`);
    void s.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`explore: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
