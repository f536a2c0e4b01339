/**
 * A fake Hugging Face hub on 127.0.0.1 for tests: `/{org}/{name}/resolve/{rev}/{file}` with
 * `x-repo-commit` / `etag` headers; `.safetensors` files redirect (302 + `x-linked-etag`) to a
 * second "CDN" server, like LFS files on the real hub. Special repos simulate failures.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Commit hash every served repo reports. */
export const TEST_COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** One HTTP request seen by the fake servers. */
export interface SeenRequest {
  readonly server: 'hub' | 'cdn';
  readonly path: string;
  readonly auth: string | undefined;
}

/** A running fake hub. */
export interface TestHub {
  /** Hub endpoint, e.g. `http://127.0.0.1:43123`. */
  readonly url: string;
  /** Every request, in order (clear it with `requests.length = 0`). */
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** Git blob sha1 (`git hash-object`): the hub's etag of regular (non-LFS) files. */
export const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha1 = gitSha1;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Failure modes, by repo id. */
function failure(repo: string, file: string, body: Buffer | undefined, res: ServerResponse): boolean {
  const common = { 'x-repo-commit': TEST_COMMIT, etag: `"${sha1(body ?? Buffer.alloc(0))}"` };
  if (repo === 'test-org/missing') {
    res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
  } else if (repo === 'test-org/gated') {
    res.writeHead(401, { 'x-error-code': 'GatedRepo' }).end('Access to model test-org/gated is restricted');
  } else if (repo === 'test-org/broken') {
    res.writeHead(503).end('down for maintenance');
  } else if (repo === 'test-org/truncated' || (repo === 'test-org/partial' && file === 'model.safetensors')) {
    const data = body ?? Buffer.alloc(1000, 7);
    res.writeHead(200, { ...common, 'content-length': String(data.length), connection: 'close' });
    res.write(data.subarray(0, data.length >> 1));
    res.end(); // fewer bytes than Content-Length
  } else if (repo === 'test-org/dropped') {
    const data = body ?? Buffer.alloc(1000, 7);
    res.writeHead(200, common); // chunked: no Content-Length
    res.write(data.subarray(0, data.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
  } else {
    return false;
  }
  return true;
}

/**
 * Start the fake hub and CDN.
 * @param repos - repo id → file name → content. `test-org/partial` and `test-org/nocommit` (no
 *   `x-repo-commit` header) serve `test-org/gpt2-tiny`'s files.
 */
export async function startTestHub(repos: Record<string, Record<string, Buffer>>): Promise<TestHub> {
  const requests: SeenRequest[] = [];
  const blobs = new Map<string, Buffer>();
  for (const files of Object.values(repos)) for (const b of Object.values(files)) blobs.set(sha256(b), b);

  const cdn = createServer((req, res) => {
    requests.push({ server: 'cdn', path: req.url ?? '', auth: req.headers.authorization });
    const body = blobs.get((req.url ?? '').replace(/^\/cdn\//, ''));
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-length': String(body.length), etag: '"cdn-etag-ignored"' }).end(body);
  });
  const cdnUrl = await listen(cdn);

  const hub = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ server: 'hub', path: req.url ?? '', auth: req.headers.authorization });
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    if (m === null) return void res.writeHead(400).end();
    const [, repo = '', , file = ''] = m;
    const alias = repo === 'test-org/partial' || repo === 'test-org/nocommit';
    const served = repos[alias ? 'test-org/gpt2-tiny' : repo];
    const commit: Record<string, string> = repo === 'test-org/nocommit' ? {} : { 'x-repo-commit': TEST_COMMIT };
    const body = served?.[decodeURIComponent(file)];
    if (failure(repo, file, body, res)) return;
    if (served === undefined || body === undefined) {
      return void res.writeHead(404, { ...commit, 'x-error-code': 'EntryNotFound' }).end('Entry not found');
    }
    if (file.endsWith('.safetensors')) {
      const sha = sha256(body);
      res.writeHead(302, {
        ...commit,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(body.length),
        etag: `"${sha}"`,
        location: `${cdnUrl}/cdn/${sha}`,
      });
      return void res.end();
    }
    res.writeHead(200, { ...commit, etag: `"${sha1(body)}"`, 'content-length': String(body.length) });
    res.end(body);
  });
  const url = await listen(hub);

  return {
    url,
    requests,
    close: async () => {
      await Promise.all([closeServer(hub), closeServer(cdn)]);
    },
  };
}
