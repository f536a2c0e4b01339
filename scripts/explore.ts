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
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildExplorer, REPO_ROOT } from '../explorer/build.js';
import { closeServer, ISOLATION_HEADERS, listenLoopback, staticHandler } from './lib/static_server.js';

const DEFAULT_PORT = 8765;

const HEADERS: Readonly<Record<string, string>> = { ...ISOLATION_HEADERS, 'Cache-Control': 'no-cache' };

/** A running server. */
export interface ExploreServer {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly server: Server;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

/**
 * Serve a folder on 127.0.0.1. `port` 0 picks a free port; a taken port falls back to a free one
 * when `fallback` is set (default true).
 */
export async function serveExplorer(dir: string, port = DEFAULT_PORT, fallback = true): Promise<ExploreServer> {
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html'))) throw new Error(`explore: ${root}/index.html is missing; build the page first (drop --no-build)`);
  const server = createServer(staticHandler(root, { headers: HEADERS }));
  try {
    await listenLoopback(server, port);
  } catch (e) {
    if (!fallback || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    await listenLoopback(server, 0);
  }
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    server,
    close: () => closeServer(server),
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
