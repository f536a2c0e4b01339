/**
 * Serving a folder read-only over loopback HTTP: the request handler and listen/close helpers shared by
 * `npm run explore` (scripts/explore.ts) and the browser tests (tests/helpers/static_server.ts).
 * GET/HEAD of files inside the root (a folder → its index.html), with the content types a page, an ES
 * module, a wasm file and a safetensors file need; 403 outside the root, 404 for a missing file,
 * 405 for other methods, 400 for an undecodable path.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { RequestListener, Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

/** Content type by file extension (anything else: application/octet-stream). */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

/** COOP/COEP (and CORP) headers: the page is cross-origin isolated, so tfjs's threaded wasm can use SharedArrayBuffer. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Options of {@link staticHandler}. */
export interface StaticHandlerOptions {
  /** Headers sent with every response. */
  readonly headers?: Readonly<Record<string, string>>;
  /** In-memory files by URL path (e.g. `{ '/blank.html': '<!doctype html>' }`), served before the folder. */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Called with each request's decoded path (without the query). */
  readonly onRequest?: (path: string) => void;
}

function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** A request handler serving `root` read-only (see the module comment). */
export function staticHandler(root: string, opts: StaticHandlerOptions = {}): RequestListener {
  const base = resolve(root);
  const headers = opts.headers ?? {};
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400, headers).end('bad path');
      return;
    }
    opts.onRequest?.(path);
    const inline = opts.files?.[path];
    if (inline !== undefined) {
      res.writeHead(200, { ...headers, 'Content-Type': contentType(path) }).end(inline);
      return;
    }
    const file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    const target = existsSync(file) && statSync(file).isDirectory() ? join(file, 'index.html') : file;
    if (!existsSync(target) || !statSync(target).isFile()) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': contentType(target), 'Content-Length': String(statSync(target).size) });
    if (req.method === 'HEAD') res.end();
    else createReadStream(target).pipe(res);
  };
}

/** Listen on 127.0.0.1:`port` (0: a free port); rejects on a listen error (e.g. EADDRINUSE). */
export function listenLoopback(server: Server, port: number): Promise<void> {
  return new Promise((ok, fail) => {
    const onError = (e: Error): void => fail(e);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      ok();
    });
  });
}

/** Stop listening and drop open connections. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((ok) => {
    server.closeAllConnections();
    server.close(() => ok());
  });
}
