/**
 * Idle timeout of hub downloads: a server that never answers, one that sends headers and a few
 * bytes then stalls (on config.json, and on the weights behind a redirect), and one that is slow
 * but steady (must succeed). Every stalled request must end in a HubError within about the
 * timeout, tear the connection down, and leave no partial file in the cache.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, HubError } from '../../../src/errors.js';
import { resolveModelDir, type HubOptions } from '../../../src/io/hub.js';
import { DEFAULT_HUB_TIMEOUT_MS, hubTimeoutMs } from '../../../src/io/hub_timeout.js';
import { FIXTURES } from './hub_fixture.js';
import { TEST_COMMIT } from './hub_server.js';
import { listNonDirs, makeTempDir, removeDir } from './st_helpers.js';

const TIMEOUT_MS = 200;

let server: Server;
let url = '';
let root = '';
let caches = 0;
const sockets = new Set<Socket>();
const timers = new Set<NodeJS.Timeout>();
/** Paths whose response was closed before it finished (the client hung up). */
const hungUp: string[] = [];
const requests: string[] = [];
let config = Buffer.alloc(0);
let weights = Buffer.alloc(0);

/** Send `body` in `parts` pieces, `gapMs` apart. */
function drip(res: ServerResponse, body: Buffer, parts: number, gapMs: number): void {
  res.writeHead(200, { 'x-repo-commit': TEST_COMMIT, 'content-length': String(body.length) });
  const size = Math.ceil(body.length / parts);
  let i = 0;
  const next = (): void => {
    if (res.destroyed) return;
    const chunk = body.subarray(i * size, (i + 1) * size);
    i++;
    if (i >= parts) return void res.end(chunk);
    res.write(chunk);
    const t = setTimeout(() => {
      timers.delete(t);
      next();
    }, gapMs);
    timers.add(t);
  };
  next();
}

/** Routes: `/test-org/{repo}/resolve/{rev}/{file}` and `/cdn/{what}`. */
function handle(path: string, res: ServerResponse): void {
  const m = /^\/test-org\/([^/]+)\/resolve\/[^/]+\/(.+)$/.exec(path);
  const [, repo = '', file = ''] = m ?? [];
  if (path === '/cdn/stall' || (repo === 'stall-body' && file === 'config.json')) {
    res.writeHead(200, { 'x-repo-commit': TEST_COMMIT, 'content-length': '1000' });
    res.write(Buffer.alloc(10, 1)); // then nothing, forever
  } else if (repo === 'stall-headers') {
    // never answer
  } else if (file === 'config.json') {
    res.writeHead(200, { 'x-repo-commit': TEST_COMMIT, 'content-length': String(config.length) }).end(config);
  } else if (repo === 'stall-weights' && file === 'model.safetensors') {
    res.writeHead(302, { 'x-repo-commit': TEST_COMMIT, location: '/cdn/stall' }).end();
  } else if (repo === 'slow' && file === 'model.safetensors') {
    drip(res, weights, 6, TIMEOUT_MS / 2); // takes 2.5× the timeout in all, but never idles that long
  } else {
    res.writeHead(404, { 'x-repo-commit': TEST_COMMIT }).end();
  }
}

beforeAll(async () => {
  root = await makeTempDir('hub-timeout');
  config = await readFile(join(FIXTURES, 'config.json'));
  weights = await readFile(join(FIXTURES, 'model.safetensors'));
  server = createServer((req, res) => {
    const path = req.url ?? '';
    requests.push(path);
    res.on('close', () => {
      if (!res.writableFinished) hungUp.push(path);
    });
    handle(path, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const t of timers) clearTimeout(t);
  for (const s of sockets) s.destroy(); // stalled responses would otherwise keep the server open
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await removeDir(root);
});

beforeEach(() => {
  for (const k of ['HF_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_CACHE', 'HF_HOME', 'HF_HUB_DOWNLOAD_TIMEOUT']) {
    vi.stubEnv(k, '');
  }
  hungUp.length = 0;
  requests.length = 0;
});

afterEach(() => {
  vi.unstubAllEnvs();
});

function opts(extra: HubOptions = {}): HubOptions {
  return { cacheDir: join(root, `cache-${caches++}`), endpoint: url, quiet: true, offline: false, timeoutMs: TIMEOUT_MS, ...extra };
}

/** Run resolveModelDir expecting a rejection; return the error and the time it took. */
async function failWith(id: string, o: HubOptions): Promise<{ err: Error; ms: number }> {
  const t0 = Date.now();
  try {
    await resolveModelDir(id, o);
  } catch (err) {
    return { err: err as Error, ms: Date.now() - t0 };
  }
  throw new TypeError(`expected resolveModelDir(${id}) to fail`);
}

/** Wait until the server has seen the client close `path` (the abort reached the socket). */
async function expectHungUp(path: string): Promise<void> {
  await vi.waitFor(() => expect(hungUp).toContain(path), { timeout: 2000, interval: 10 });
}

const cfgUrl = (repo: string): string => `${url}/test-org/${repo}/resolve/main/config.json`;
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('hub downloads: idle timeout', () => {
  it('a server that never sends headers → HubError after ~timeoutMs, connection closed, empty cache', async () => {
    const o = opts();
    const { err, ms } = await failWith('test-org/stall-headers', o);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBeUndefined();
    expect(err.message).toMatch(
      new RegExp(`^resolveModelDir: timed out after 0\\.2 s waiting for data from ${escape(cfgUrl('stall-headers'))} — no response headers`),
    );
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(ms).toBeLessThan(5000);
    await expectHungUp('/test-org/stall-headers/resolve/main/config.json');
    expect(await listNonDirs(o.cacheDir as string)).toEqual([]);
  });

  it('headers + 10 bytes, then silence → HubError naming the bytes received, no partial file', async () => {
    const o = opts();
    const { err, ms } = await failWith('test-org/stall-body', o);
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(
      new RegExp(`timed out after 0\\.2 s waiting for data from ${escape(cfgUrl('stall-body'))} — got 10 of 1000 bytes \\[.*HF_HUB_DOWNLOAD_TIMEOUT`),
    );
    expect(ms).toBeLessThan(5000);
    await expectHungUp('/test-org/stall-body/resolve/main/config.json');
    expect(await listNonDirs(o.cacheDir as string)).toEqual([]); // no blobs/*.incomplete.*
  });

  it('weights stalling behind a redirect → HubError; config.json may stay, no weights blob, link or ref', async () => {
    const o = opts();
    const { err } = await failWith('test-org/stall-weights', o);
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/timed out after 0\.2 s waiting for data from .*\/stall-weights\/resolve\/[0-9a-f]{40}\/model\.safetensors — got 10 of 1000 bytes/);
    await expectHungUp('/cdn/stall');
    const files = await listNonDirs(o.cacheDir as string);
    expect(files.filter((p) => p.includes('incomplete'))).toEqual([]);
    expect(files.some((p) => p.endsWith('model.safetensors') || p.includes('/refs/'))).toBe(false);
    expect(files).toContain(`models--test-org--stall-weights/snapshots/${TEST_COMMIT}/config.json`);
    expect(files.filter((p) => p.includes('/blobs/'))).toHaveLength(1); // config.json's blob only
  });

  it('a fetch that ignores the abort signal still times out', async () => {
    const o = opts({ fetch: () => new Promise<Response>(() => undefined) });
    const { err, ms } = await failWith('test-org/anything', o);
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/timed out after 0\.2 s .* no response headers received/);
    expect(ms).toBeLessThan(5000);
    expect(requests).toEqual([]);
  });

  it('slow but steady: a download longer than the timeout succeeds (the timeout is per wait)', async () => {
    const o = opts();
    const t0 = Date.now();
    const r = await resolveModelDir('test-org/slow', o);
    expect(Date.now() - t0).toBeGreaterThan(TIMEOUT_MS);
    expect(r).toMatchObject({ source: 'hub', commit: TEST_COMMIT });
    expect((await readFile(join(r.dir, 'model.safetensors'))).equals(weights)).toBe(true);
    expect(hungUp).toEqual([]);
  });

  it('HF_HUB_DOWNLOAD_TIMEOUT (seconds) is the default when timeoutMs is not passed', async () => {
    vi.stubEnv('HF_HUB_DOWNLOAD_TIMEOUT', '0.15');
    const { err, ms } = await failWith('test-org/stall-headers', opts({ timeoutMs: undefined }));
    expect(err.message).toMatch(/timed out after 0\.15 s/);
    expect(ms).toBeLessThan(5000);
  });

  it('an invalid timeoutMs or HF_HUB_DOWNLOAD_TIMEOUT → ConfigError before any request', async () => {
    for (const timeoutMs of [0, -1, Number.NaN, Infinity]) {
      const { err } = await failWith('test-org/slow', opts({ timeoutMs }));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(/invalid timeoutMs/);
    }
    vi.stubEnv('HF_HUB_DOWNLOAD_TIMEOUT', 'ten');
    const { err } = await failWith('test-org/slow', opts({ timeoutMs: undefined }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/invalid HF_HUB_DOWNLOAD_TIMEOUT "ten" — expected a positive number of seconds/);
    expect(requests).toEqual([]);
  });

  it('hubTimeoutMs: explicit value, else the env var in seconds, else 30 s', () => {
    expect(DEFAULT_HUB_TIMEOUT_MS).toBe(30_000);
    expect(hubTimeoutMs(undefined, {})).toBe(30_000);
    expect(hubTimeoutMs(undefined, { HF_HUB_DOWNLOAD_TIMEOUT: ' ' })).toBe(30_000);
    expect(hubTimeoutMs(undefined, { HF_HUB_DOWNLOAD_TIMEOUT: '60' })).toBe(60_000);
    expect(hubTimeoutMs(undefined, { HF_HUB_DOWNLOAD_TIMEOUT: '2.5' })).toBe(2500);
    expect(hubTimeoutMs(1234, { HF_HUB_DOWNLOAD_TIMEOUT: '60' })).toBe(1234);
    expect(() => hubTimeoutMs(undefined, { HF_HUB_DOWNLOAD_TIMEOUT: '-5' })).toThrow(ConfigError);
    expect(() => hubTimeoutMs(undefined, { HF_HUB_DOWNLOAD_TIMEOUT: '0' })).toThrow(ConfigError);
  });
});
