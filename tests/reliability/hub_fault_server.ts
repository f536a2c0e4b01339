/**
 * A fake hub on 127.0.0.1 for the fault tests: every repo `f/{name}` serves the same files
 * (git-blob-sha1 etags; `.safetensors` behind a 302 with `x-linked-etag`/`x-linked-size` to
 * `/cdn/{repo}/{file}`, like LFS files on the real hub). A test overrides any response with
 * `hub.on('{repo}/{file}', handler)` (hub hop) or `hub.on('cdn:{repo}/{file}', handler)`.
 */
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const FAULT_COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** Git blob sha1 (`git hash-object`), the hub's etag of regular files. */
export const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/** Writes a response for `body` (the real file content, or undefined when the repo lacks it). */
export type Handler = (res: ServerResponse, body: Buffer | undefined, cdnUrl: string) => void;

export interface FaultHub {
  readonly url: string;
  /** Every request path, in order. */
  readonly requests: string[];
  /** Paths whose response was closed by the client before it finished. */
  readonly hungUp: string[];
  on(key: string, handler: Handler): void;
  /** Drop all overrides and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

/** Normal hub-hop response: 200 + git sha1 etag, or a 302 to the CDN for safetensors. */
export const serveNormally: Handler = (res, body, cdnUrl) => {
  if (body === undefined) return void res.writeHead(404, { 'x-repo-commit': FAULT_COMMIT }).end('Entry not found');
  if (cdnUrl !== '') {
    const sha = sha256(body);
    return void res
      .writeHead(302, { 'x-repo-commit': FAULT_COMMIT, 'x-linked-etag': `"${sha}"`, 'x-linked-size': String(body.length), etag: `"${sha}"`, location: cdnUrl })
      .end();
  }
  res.writeHead(200, { 'x-repo-commit': FAULT_COMMIT, etag: `"${gitSha1(body)}"`, 'content-length': String(body.length) }).end(body);
};

/**
 * Start the fault hub.
 * @param files - file name → content, served by every repo
 */
export async function startFaultHub(files: Record<string, Buffer>): Promise<FaultHub> {
  const requests: string[] = [];
  const hungUp: string[] = [];
  const overrides = new Map<string, Handler>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    requests.push(path);
    res.on('close', () => {
      if (!res.writableFinished) hungUp.push(path);
    });
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(path);
    if (cdn !== null) {
      const [, repo = '', file = ''] = cdn;
      const body = files[decodeURIComponent(file)];
      const h = overrides.get(`cdn:${repo}/${file}`);
      if (h !== undefined) return h(res, body, '');
      if (body === undefined) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-length': String(body.length), etag: '"cdn-etag"' }).end(body);
    }
    const m = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(path);
    if (m === null) return void res.writeHead(400).end();
    const [, repo = '', file = ''] = m;
    const body = files[decodeURIComponent(file)];
    const cdnUrl = file.endsWith('.safetensors') ? `/cdn/${repo}/${file}` : '';
    (overrides.get(`${repo}/${file}`) ?? serveNormally)(res, body, cdnUrl);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    hungUp,
    on: (key, handler) => void overrides.set(key, handler),
    reset: () => {
      overrides.clear();
      requests.length = 0;
      hungUp.length = 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
