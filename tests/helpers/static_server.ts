/**
 * A small loopback static file server for browser tests: serves one directory on 127.0.0.1 at a
 * random port (scripts/lib/static_server.ts's handler), with optional COOP/COEP headers (cross-origin isolation, so tfjs's threaded wasm can use
 * SharedArrayBuffer) and a log of the requested paths. Paths outside the root are refused (403);
 * missing files answer 404.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, ISOLATION_HEADERS, listenLoopback, staticHandler } from '../../scripts/lib/static_server.js';

/** Options of {@link startStaticServer}. */
export interface StaticServerOptions {
  /** Send `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` (default false). */
  crossOriginIsolated?: boolean;
  /** Extra headers sent with every response. */
  headers?: Record<string, string>;
  /** In-memory files by URL path (e.g. `{ '/blank.html': '<!doctype html>' }`), served before the folder. */
  files?: Record<string, string | Uint8Array>;
}

/** A running server: its base URL (ending in `/`), the paths it was asked for, and `close`. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  /** Request paths (URL-decoded, without the query), in order. */
  requests: string[];
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

/** Serve `root` on 127.0.0.1 at a random free port; resolves once listening. */
export async function startStaticServer(root: string, opts: StaticServerOptions = {}): Promise<StaticServer> {
  const requests: string[] = [];
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...(opts.crossOriginIsolated ? ISOLATION_HEADERS : {}), ...opts.headers };
  const server: Server = createServer(staticHandler(root, { headers, ...(opts.files === undefined ? {} : { files: opts.files }), onRequest: (p) => requests.push(p) }));
  await listenLoopback(server, 0);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, requests, close: () => closeServer(server) };
}
