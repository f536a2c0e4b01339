/**
 * A small loopback static file server for browser tests: serves one directory on 127.0.0.1 at a
 * random port, with the content types a page, an ES module, a wasm file and a safetensors file need,
 * optional COOP/COEP headers (cross-origin isolation, so tfjs's threaded wasm can use
 * SharedArrayBuffer) and a log of the requested paths. Paths outside the root are refused (403);
 * missing files answer 404.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

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

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Serve `root` on 127.0.0.1 at a random free port; resolves once listening. */
export async function startStaticServer(root: string, opts: StaticServerOptions = {}): Promise<StaticServer> {
  const base = resolve(root);
  const requests: string[] = [];
  const common: Record<string, string> = {
    'Cache-Control': 'no-store',
    ...(opts.crossOriginIsolated
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' }
      : {}),
    ...opts.headers,
  };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const inline = opts.files?.[path];
    if (inline !== undefined) {
      const type = TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
      res.writeHead(200, { ...common, 'Content-Type': type }).end(inline);
      return;
    }
    const file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403, common).end('forbidden');
      return;
    }
    const target = existsSync(file) && statSync(file).isDirectory() ? join(file, 'index.html') : file;
    if (!existsSync(target) || !statSync(target).isFile()) {
      res.writeHead(404, { ...common, 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    const type = TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, { ...common, 'Content-Type': type, 'Content-Length': String(statSync(target).size) });
    if (req.method === 'HEAD') res.end();
    else createReadStream(target).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
