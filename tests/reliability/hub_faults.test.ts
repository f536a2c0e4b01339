/**
 * Faults and hostile input for the hub download cache (issue 18). Every fault must end in a typed
 * error, a verified success or a documented behaviour — never a silently corrupt cache entry, a
 * hang or a partial file. All servers listen on 127.0.0.1; timeouts are small so each test is fast.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, HubError, NotFoundError } from '../../src/errors.js';
import { loadCheckpointTensors } from '../../src/io/checkpoint.js';
import { resolveModelDir, type HubOptions } from '../../src/io/hub.js';
import { acquireBlobLock, cleanStaleDownloads, pidAlive } from '../../src/io/hub_lock.js';
import { DEFAULT_HUB_MIN_RATE, DEFAULT_HUB_RATE_WINDOW_MS, hubRateLimit } from '../../src/io/hub_timeout.js';
import { FIXTURES } from '../unit/io/hub_fixture.js';
import { initBackend } from '../../src/backend/backend.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { expectMatchesRef, loadReference, refRows } from '../helpers/reference.js';
import { listNonDirs, makeTempDir, removeDir } from '../unit/io/st_helpers.js';
import { FAULT_COMMIT, gitSha1, sha256, startFaultHub, type FaultHub } from './hub_fault_server.js';

let hub: FaultHub;
let root = '';
let n = 0;
const files: Record<string, Buffer> = {};
const FILES = ['config.json', 'generation_config.json', 'model.safetensors'] as const;

beforeAll(async () => {
  root = await makeTempDir('hub-faults');
  for (const f of FILES) files[f] = await readFile(join(FIXTURES, f));
  hub = await startFaultHub(files);
});
afterAll(async () => {
  await hub.close();
  await removeDir(root);
});
beforeEach(() => {
  for (const k of ['HF_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_CACHE', 'HF_HOME', 'HF_HUB_DOWNLOAD_TIMEOUT']) vi.stubEnv(k, '');
  for (const k of ['TFJS_LENS_HUB_MIN_RATE', 'TFJS_LENS_HUB_RATE_WINDOW']) vi.stubEnv(k, '');
  hub.reset();
  return () => void vi.unstubAllEnvs();
});

const fresh = async (): Promise<string> => {
  const d = join(root, `cache-${n++}`);
  await mkdir(d);
  return d;
};
const opts = (cacheDir: string, extra: HubOptions = {}): HubOptions => ({
  cacheDir,
  endpoint: hub.url,
  quiet: true,
  offline: false,
  timeoutMs: 2000,
  fetch: (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('http://127.0.0.1:')) throw new TypeError(`test refused a non-local fetch: ${url}`);
    return globalThis.fetch(input, init);
  },
  ...extra,
});
const repoDirOf = (cache: string, repo: string): string => join(cache, `models--${repo.replace('/', '--')}`);

async function failWith(repo: string, o: Parameters<typeof resolveModelDir>[1]): Promise<Error> {
  try {
    await resolveModelDir(repo, o);
  } catch (err) {
    return err as Error;
  }
  throw new TypeError(`expected resolveModelDir(${repo}) to fail`);
}

/** No temp files, locks or links to unverified content anywhere in the cache. */
async function expectNoLeftovers(cache: string): Promise<void> {
  const all = await listNonDirs(cache);
  expect(all.filter((p) => /incomplete|\.lock$|\.tmp$/.test(p))).toEqual([]);
}

/** A complete, verified download: every file equals the reference. */
async function expectGood(cache: string, repo: string): Promise<string> {
  const r = await resolveModelDir(repo, opts(cache));
  for (const f of FILES) expect((await readFile(join(r.dir, f))).equals(files[f] as Buffer), f).toBe(true);
  await expectNoLeftovers(cache);
  return r.dir;
}

const headers = (body: Buffer, extra: Record<string, string> = {}): Record<string, string> => ({
  'x-repo-commit': FAULT_COMMIT,
  etag: `"${gitSha1(body)}"`,
  ...extra,
});

/** Send the first `cut` bytes (with or without the full Content-Length), then drop the connection. */
const cutAt =
  (cut: number, withLength: boolean) =>
  (res: ServerResponse, body: Buffer | undefined): void => {
    const b = body as Buffer;
    res.writeHead(200, headers(b, withLength ? { 'content-length': String(b.length) } : {}));
    res.write(b.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 10));
  };

describe('fault 1: damaged non-weight files are never stored', () => {
  const cfgLen = (): number => (files['config.json'] as Buffer).length;

  it.each([
    [0, true],
    [1, true],
    [0.5, true],
    [-1, true],
    [1, false],
    [0.5, false],
    [-1, false],
  ])('config.json cut at offset %s (Content-Length sent: %s) → HubError, nothing cached; then a retry succeeds', async (at, withLength) => {
    const cut = at === -1 ? cfgLen() - 1 : at === 0.5 ? cfgLen() >> 1 : at;
    const cache = await fresh();
    hub.on('f/cut/config.json', cutAt(cut, withLength));
    const err = await failWith('f/cut', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/truncated download|connection dropped|checksum mismatch|config\.json/);
    expect((await listNonDirs(cache)).filter((p) => !p.includes('/.verified/'))).toEqual([]);
    hub.reset();
    await expectGood(cache, 'f/cut');
  });

  it('a short body with a matching (wrong) Content-Length → checksum mismatch naming config.json', async () => {
    const cache = await fresh();
    hub.on('f/short/config.json', (res, body) => {
      const b = body as Buffer;
      res.writeHead(200, headers(b, { 'content-length': '10' })).end(b.subarray(0, 10));
    });
    const err = await failWith('f/short', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/downloaded config\.json is not valid JSON|checksum mismatch for config\.json/);
    expect(await listNonDirs(cache)).toEqual([]);
  });

  it('a short body with no etag and no length → HubError: not valid JSON', async () => {
    const cache = await fresh();
    hub.on('f/short2/config.json', (res, body) => {
      res.writeHead(200, { 'x-repo-commit': FAULT_COMMIT }).end((body as Buffer).subarray(0, 20));
    });
    const err = await failWith('f/short2', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/^resolveModelDir: downloaded config\.json is not valid JSON/);
  });

  it('HTTP 204 → HubError naming the file', async () => {
    const cache = await fresh();
    hub.on('f/nocontent/config.json', (res) => void res.writeHead(204, { 'x-repo-commit': FAULT_COMMIT }).end());
    const err = await failWith('f/nocontent', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBe(204);
    expect(err.message).toMatch(/HTTP 204 No Content for config\.json .* expected the file's content/);
    expect(await listNonDirs(cache)).toEqual([]);
  });

  it('a zero-byte 200 body → HubError: empty file', async () => {
    const cache = await fresh();
    hub.on('f/empty/config.json', (res) => void res.writeHead(200, headers(Buffer.alloc(0), { 'content-length': '0' })).end());
    const err = await failWith('f/empty', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/downloaded config\.json is empty file \(0 bytes\)/);
    expect(await listNonDirs(cache)).toEqual([]);
  });

  it.each([
    ['text/html; charset=utf-8', /got an HTML page \(content-type text\/html; charset=utf-8\) instead of config\.json/],
    ['application/octet-stream', /downloaded config\.json is an HTML page/],
  ])('a 200 HTML error page (content-type %s) → HubError', async (type, re) => {
    const cache = await fresh();
    const page = Buffer.from('<!DOCTYPE html>\n<html><body>Rate limited, try later</body></html>');
    hub.on('f/html/config.json', (res) => void res.writeHead(200, headers(page, { 'content-type': type })).end(page));
    const err = await failWith('f/html', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(re);
    expect(await listNonDirs(cache)).toEqual([]);
  });

  it('an optional file (generation_config.json) served as HTML is refused too, and nothing is linked', async () => {
    const cache = await fresh();
    const page = Buffer.from('<html><body>502 Bad Gateway</body></html>');
    hub.on('f/opthtml/generation_config.json', (res) => void res.writeHead(200, headers(page)).end(page));
    const err = await failWith('f/opthtml', opts(cache));
    expect(err.message).toMatch(/downloaded generation_config\.json is an HTML page/);
    const all = await listNonDirs(cache);
    expect(all.some((p) => p.endsWith('generation_config.json'))).toBe(false);
    expect(all.some((p) => p.includes('/refs/'))).toBe(false);
  });

  it('a damaged cached config.json (no hash in its name: a Python-style copy) is detected and re-downloaded', async () => {
    const cache = await fresh();
    const dir = await expectGood(cache, 'f/pycopy');
    const blob = await realpath(join(dir, 'config.json'));
    await writeFile(blob, '<html>oops</html>'); // damaged in place (the blob's name no longer matches)
    const r = await resolveModelDir('f/pycopy', opts(cache));
    expect(r.source).toBe('hub');
    expect((await readFile(join(r.dir, 'config.json'))).equals(files['config.json'] as Buffer)).toBe(true);
  });

  it('a damaged cached optional file (generation_config.json) in a complete snapshot is re-downloaded online and named offline', async () => {
    const cache = await fresh();
    const dir = await expectGood(cache, 'f/optional');
    const blob = await realpath(join(dir, 'generation_config.json'));
    await writeFile(blob, '<!DOCTYPE html><html>error</html>');
    hub.reset();
    const err = await failWith('f/optional', opts(cache, { offline: true }));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toContain('generation_config.json');
    expect(err.message).toContain(`delete ${blob}`);
    expect(hub.requests).toEqual([]);
    const r = await resolveModelDir('f/optional', opts(cache));
    expect(r.source).toBe('hub');
    expect((await readFile(join(r.dir, 'generation_config.json'))).equals(files['generation_config.json'] as Buffer)).toBe(true);
    await expectNoLeftovers(cache);
  });
});

describe('fault 2: corrupt weights never load silently', () => {
  it('a corrupted cached blob (same name and size) is re-downloaded online; tensors equal the reference', async () => {
    const cache = await fresh();
    const dir = await expectGood(cache, 'f/rot');
    const blob = await realpath(join(dir, 'model.safetensors'));
    const bad = Buffer.from(files['model.safetensors'] as Buffer);
    bad[bad.length - 3] = (bad[bad.length - 3] ?? 0) ^ 0xff; // one flipped byte in the tensor data
    await writeFile(blob, bad);
    hub.reset();
    const r = await resolveModelDir('f/rot', opts(cache));
    expect(r.source).toBe('hub');
    expect(hub.requests.some((p) => p.startsWith('/cdn/'))).toBe(true);
    expect((await readFile(join(r.dir, 'model.safetensors'))).equals(files['model.safetensors'] as Buffer)).toBe(true);
    const want = await loadCheckpointTensors(FIXTURES);
    const got = await loadCheckpointTensors(r.dir);
    for (const [k, t] of want) expect(Array.from(got.get(k)?.data ?? []), k).toEqual(Array.from(t.data));
    await expectNoLeftovers(cache);
    // End to end: the model loaded by hub id from the repaired cache gives Hugging Face's logits.
    await initBackend(undefined, { quiet: true });
    const model = await HookedTransformer.fromPretrainedNoProcessing('f/rot', { ...opts(cache), offline: true, tokenizer: null });
    try {
      const ref = loadReference(FIXTURES);
      const logits = model.forward(refRows(ref, 'inputs/input_ids'));
      expectMatchesRef(logits, ref, 'hf/logits');
      logits.dispose();
    } finally {
      model.dispose();
    }
  });

  it('offline, the corrupt blob is named with the path to delete (HubError)', async () => {
    const cache = await fresh();
    const dir = await expectGood(cache, 'f/rot-offline');
    const blob = await realpath(join(dir, 'model.safetensors'));
    const bad = Buffer.from(files['model.safetensors'] as Buffer);
    bad[100] = (bad[100] ?? 0) ^ 1;
    await writeFile(blob, bad);
    hub.reset();
    const err = await failWith('f/rot-offline', opts(cache, { offline: true }));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toContain(`model.safetensors: sha256 is `);
    expect(err.message).toContain(`delete ${blob}`);
    expect(err.message).toMatch(/offline: true was passed/);
    expect(hub.requests).toEqual([]);
  });

  it('an existing blob with the right name and size but wrong bytes is not reused by a download', async () => {
    const cache = await fresh();
    const w = files['model.safetensors'] as Buffer;
    const blobs = join(repoDirOf(cache, 'f/planted'), 'blobs');
    await mkdir(blobs, { recursive: true });
    await writeFile(join(blobs, sha256(w)), Buffer.alloc(w.length, 0)); // planted: right name and size
    await expectGood(cache, 'f/planted');
  });

  it('an upper-case sha256 in x-linked-etag is still verified (wrong bytes → checksum mismatch)', async () => {
    const cache = await fresh();
    const w = files['model.safetensors'] as Buffer;
    const bad = Buffer.from(w);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0xff;
    const sha = sha256(w).toUpperCase();
    hub.on('f/upper/model.safetensors', (res) => {
      res.writeHead(302, { 'x-repo-commit': FAULT_COMMIT, 'x-linked-etag': `"${sha}"`, 'x-linked-size': String(w.length), location: '/cdn/f/upper/model.safetensors' }).end();
    });
    hub.on('cdn:f/upper/model.safetensors', (res) => void res.writeHead(200, { 'content-length': String(bad.length) }).end(bad));
    const err = await failWith('f/upper', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(new RegExp(`checksum mismatch for model\\.safetensors .* expected sha256 ${sha.toLowerCase()}`));
    expect((await listNonDirs(cache)).some((p) => p.endsWith('model.safetensors'))).toBe(false);
  });

  it('an upper-case sha256 with the right bytes succeeds; the blob is named by the lower-case hash', async () => {
    const cache = await fresh();
    const w = files['model.safetensors'] as Buffer;
    hub.on('f/upper-ok/model.safetensors', (res) => {
      res.writeHead(302, { 'x-repo-commit': FAULT_COMMIT, 'x-linked-etag': `"${sha256(w).toUpperCase()}"`, location: '/cdn/f/upper-ok/model.safetensors' }).end();
    });
    const dir = await expectGood(cache, 'f/upper-ok');
    expect(await realpath(join(dir, 'model.safetensors'))).toBe(join(await realpath(repoDirOf(cache, 'f/upper-ok')), 'blobs', sha256(w)));
  });

  it('a regular file whose git-sha1 etag does not match → checksum mismatch', async () => {
    const cache = await fresh();
    hub.on('f/badsha1/config.json', (res, body) => {
      const b = Buffer.from((body as Buffer).toString().replace('"gpt2"', '"gpt3"'));
      res.writeHead(200, { 'x-repo-commit': FAULT_COMMIT, etag: `"${gitSha1(body as Buffer).toUpperCase()}"` }).end(b);
    });
    const err = await failWith('f/badsha1', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/checksum mismatch for config\.json .* expected git-sha1 [0-9a-f]{40}/);
  });

  it('no etag at all: a weights body cut to a shorter Content-Length → invalid safetensors, not cached', async () => {
    const cache = await fresh();
    const w = files['model.safetensors'] as Buffer;
    hub.on('f/noetag/model.safetensors', (res) => {
      const cut = w.subarray(0, w.length - 1000);
      res.writeHead(200, { 'x-repo-commit': FAULT_COMMIT, 'content-length': String(cut.length) }).end(cut);
    });
    const err = await failWith('f/noetag', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/downloaded model\.safetensors is not a valid safetensors file/);
    expect((await listNonDirs(cache)).some((p) => p.endsWith('model.safetensors'))).toBe(false);
  });

  it('no etag at all: a good body is stored under the sha256 of its bytes', async () => {
    const cache = await fresh();
    const w = files['model.safetensors'] as Buffer;
    hub.on('f/noetag-ok/model.safetensors', (res) => {
      res.writeHead(200, { 'x-repo-commit': FAULT_COMMIT, 'content-length': String(w.length) }).end(w);
    });
    const dir = await expectGood(cache, 'f/noetag-ok');
    expect(await realpath(join(dir, 'model.safetensors'))).toMatch(new RegExp(`/blobs/${sha256(w)}$`));
  });

  it('X-Linked-Size that disagrees with the bytes received → HubError', async () => {
    const cache = await fresh();
    const w = files['model.safetensors'] as Buffer;
    hub.on('f/linksize/model.safetensors', (res) => {
      res.writeHead(302, { 'x-repo-commit': FAULT_COMMIT, 'x-linked-size': String(w.length + 5), location: '/cdn/f/linksize/model.safetensors' }).end();
    });
    hub.on('cdn:f/linksize/model.safetensors', (res) => void res.writeHead(200, {}).end(w)); // chunked, no length
    const err = await failWith('f/linksize', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(new RegExp(`expected ${w.length + 5} bytes \\(X-Linked-Size\\), got ${w.length}`));
  });
});

/** Wait until `blobsDir` holds `{prefix}.incomplete.*` with some bytes; returns its name. */
async function waitForIncomplete(blobsDir: string, prefix: string): Promise<string> {
  let name = '';
  await vi.waitFor(
    async () => {
      const names = await readdir(blobsDir).catch(() => [] as string[]);
      const inc = names.find((x) => x.startsWith(`${prefix}.incomplete.`));
      expect(inc).toBeDefined();
      expect((await stat(join(blobsDir, inc as string))).size).toBeGreaterThan(0);
      name = inc as string;
    },
    { timeout: 15_000, interval: 25 },
  );
  return name;
}

describe('fault 4: killed downloads leave nothing behind after the next download', () => {
  it.each(['SIGKILL', 'SIGTERM', 'SIGINT'] as const)('a child killed with %s mid-body; the retry completes and cleans up', async (signal) => {
    const cache = await fresh();
    const repo = `f/killed-${signal.toLowerCase()}`;
    const w = files['model.safetensors'] as Buffer;
    hub.on(`cdn:${repo}/model.safetensors`, (res) => {
      res.writeHead(200, { 'content-length': String(w.length) });
      res.write(w.subarray(0, w.length >> 1)); // then stall until killed
    });
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'hub_kill_child.ts'), hub.url, repo, cache], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const blobsDir = join(repoDirOf(cache, repo), 'blobs');
    try {
      const inc = await waitForIncomplete(blobsDir, sha256(w));
      expect(inc).toMatch(new RegExp(`^${sha256(w)}\\.incomplete\\.${child.pid}\\.[0-9a-f]+$`));
      expect(await readdir(blobsDir)).toContain(`${sha256(w)}.lock`);
    } catch (err) {
      throw new Error(`child stderr: ${stderr}`, { cause: err });
    } finally {
      child.kill(signal);
      await exited;
    }
    expect((await readdir(blobsDir)).some((x) => x.includes('.incomplete.'))).toBe(true); // left by the dead child
    hub.reset();
    await expectGood(cache, repo);
    expect(await readdir(blobsDir)).not.toContain(`${sha256(w)}.lock`);
  });

  it('cleanStaleDownloads removes files of dead pids only; a stale lock is taken over', async () => {
    const dead = await deadPid();
    expect(pidAlive(dead)).toBe(false);
    expect(pidAlive(process.pid)).toBe(true);
    const dir = join(await fresh(), 'blobs');
    await mkdir(dir);
    await writeFile(join(dir, `abc.incomplete.${dead}.0123456789ab`), 'x');
    await writeFile(join(dir, `abc.incomplete.${process.pid}.0123456789ab`), 'x');
    await writeFile(join(dir, 'dead.lock'), String(dead));
    expect((await cleanStaleDownloads(dir)).sort()).toEqual([`abc.incomplete.${dead}.0123456789ab`, 'dead.lock']);
    expect((await readdir(dir)).sort()).toEqual([`abc.incomplete.${process.pid}.0123456789ab`]);
    await writeFile(join(dir, 'blob.lock'), String(dead));
    const lock = await acquireBlobLock(join(dir, 'blob'), 60_000);
    expect(await readFile(join(dir, 'blob.lock'), 'utf8')).toBe(String(process.pid));
    await lock.release();
  });

  it('two takers of one stale lock: only one holds it at a time (the other waits for its release)', async () => {
    const dir = join(await fresh(), 'blobs');
    await mkdir(dir);
    await writeFile(join(dir, 'race.lock'), String(await deadPid()));
    const order: string[] = [];
    const take = async (who: string): Promise<void> => {
      const lock = await acquireBlobLock(join(dir, 'race'), 60_000);
      order.push(`${who} in`);
      await new Promise((r) => setTimeout(r, 150));
      order.push(`${who} out`);
      await lock.release();
    };
    await Promise.all([take('a'), take('b')]);
    expect(order).toHaveLength(4);
    expect(order[1]).toBe(order[0]?.replace('in', 'out')); // no overlap: the first one in is out before the other enters
    expect((await readdir(dir)).filter((x) => x.includes('.lock'))).toEqual([]);
  });

  it('a lock held by a live process is waited for (two concurrent downloads of one blob both succeed)', async () => {
    const cache = await fresh();
    const [a, b] = await Promise.all([resolveModelDir('f/twice', opts(cache)), resolveModelDir('f/twice', opts(cache))]);
    expect(a.dir).toBe(b.dir);
    await expectGood(cache, 'f/twice');
  });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0']);
  await new Promise<void>((resolve) => c.on('exit', () => resolve()));
  return c.pid as number;
}

describe('fault 5: blobs are keyed by verified content', () => {
  it('two files sharing a non-hash etag get separate blobs with the right contents', async () => {
    const cache = await fresh();
    for (const f of ['config.json', 'generation_config.json']) {
      hub.on(`f/sameetag/${f}`, (res, body) => {
        res.writeHead(200, { 'x-repo-commit': FAULT_COMMIT, etag: '"same-etag-1"', 'content-length': String((body as Buffer).length) }).end(body);
      });
    }
    const dir = await expectGood(cache, 'f/sameetag');
    expect(await realpath(join(dir, 'config.json'))).not.toBe(await realpath(join(dir, 'generation_config.json')));
  });

  it('two files sharing a hash etag but differing in size: the second is refused, the first keeps its content', async () => {
    const cache = await fresh();
    const cfg = files['config.json'] as Buffer;
    hub.on('f/collide/generation_config.json', (res, body) => {
      res.writeHead(200, { 'x-repo-commit': FAULT_COMMIT, etag: `"${gitSha1(cfg)}"`, 'content-length': String((body as Buffer).length) }).end(body);
    });
    const err = await failWith('f/collide', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/checksum mismatch for generation_config\.json/);
    const snap = join(repoDirOf(cache, 'f/collide'), 'snapshots', FAULT_COMMIT);
    expect((await readFile(join(snap, 'config.json'))).equals(cfg)).toBe(true);
    expect((await listNonDirs(cache)).some((p) => p.endsWith('generation_config.json'))).toBe(false);
  });
});

describe('fault 7: typed errors instead of raw Node errors', () => {
  it.each([
    ['a revision segment of 300 bytes', { revision: 'r'.repeat(300) }, /invalid revision .* got a path segment of 300 bytes \(at most 255\)/],
    ['an extra file name of 300 bytes', { extraFiles: [`${'x'.repeat(300)}.json`] }, /invalid extraFiles entry .* got a path segment of 305 bytes/],
    ['a NUL byte in an extra file', { extraFiles: ['a\0b.json'] }, /invalid extraFiles entry/],
    ['a NUL byte in the revision', { revision: 'ma\0in' }, /invalid revision/],
    ['a NUL byte in cacheDir', { cacheDir: '/tmp/a\0b' }, /invalid cacheDir .* contains a NUL byte/],
    ['a malformed endpoint', { endpoint: 'not a url' }, /invalid endpoint "not a url"/],
  ])('%s → ConfigError before any request', async (_what, extra, re) => {
    const err = await failWith('f/names', opts(await fresh(), extra as HubOptions));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(re);
    expect(hub.requests).toEqual([]);
  });

  it('a cache path that is a file (or under a file) → ConfigError naming it', async () => {
    const file = join(await fresh(), 'not-a-dir');
    await writeFile(file, 'x');
    for (const cacheDir of [file, join(file, 'sub')]) {
      const err = await failWith('f/cachefile', opts(cacheDir));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain(cacheDir);
    }
    expect(hub.requests).toEqual([]);
  });

  it('offline with a cache path that is a file → ConfigError, not NotFoundError', async () => {
    const file = join(await fresh(), 'f');
    await writeFile(file, 'x');
    const err = await failWith('f/cachefile', opts(file, { offline: true }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).not.toBeInstanceOf(NotFoundError);
  });

  it.each(['http://[::1', 'file:///etc/passwd'])('a redirect to Location %j → HubError', async (location) => {
    const cache = await fresh();
    hub.on('f/badloc/model.safetensors', (res) => void res.writeHead(302, { 'x-repo-commit': FAULT_COMMIT, location }).end());
    const err = await failWith('f/badloc', opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBe(302);
    expect(err.message).toMatch(/resolveModelDir: (malformed|redirect to a non-http\(s\)) (redirect )?Location/);
    await expectNoLeftovers(cache);
  });

  it('a server dripping one byte at a time is aborted by the minimum rate (the idle timeout never fires)', async () => {
    const cache = await fresh();
    const timers: NodeJS.Timeout[] = [];
    hub.on('f/drip/config.json', (res, body) => {
      const b = body as Buffer;
      res.writeHead(200, headers(b, { 'content-length': String(b.length) }));
      let i = 0;
      const t = setInterval(() => {
        if (res.destroyed || i >= b.length) return void clearInterval(t);
        res.write(b.subarray(i, i + 1));
        i++;
      }, 60);
      timers.push(t);
    });
    const t0 = Date.now();
    const err = await failWith('f/drip', opts(cache, { timeoutMs: 1000, minBytesPerSecond: 100, rateWindowMs: 400 }));
    for (const t of timers) clearInterval(t);
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/download too slow from .*config\.json — got \d+ bytes in the last 0\.4 s, expected at least 100 bytes\/s/);
    expect(Date.now() - t0).toBeLessThan(3000);
    await vi.waitFor(() => expect(hub.hungUp.some((p) => p.endsWith('/config.json'))).toBe(true), { timeout: 2000 });
    expect(await listNonDirs(cache)).toEqual([]);
  });

  it('the rate check also fires when bytes stop arriving for a whole window (shorter than the idle timeout)', async () => {
    const cache = await fresh();
    hub.on('f/pause/config.json', (res, body) => {
      const b = body as Buffer;
      res.writeHead(200, headers(b, { 'content-length': String(b.length) }));
      res.write(b.subarray(0, 5));
    });
    const err = await failWith('f/pause', opts(cache, { timeoutMs: 5000, minBytesPerSecond: 100, rateWindowMs: 300 }));
    expect(err.message).toMatch(/download too slow/);
  });

  it('hubRateLimit: defaults never fire on a healthy link; env vars and options; invalid → ConfigError', () => {
    expect(DEFAULT_HUB_MIN_RATE).toBe(1000);
    expect(DEFAULT_HUB_RATE_WINDOW_MS).toBe(60_000);
    expect(hubRateLimit(undefined, undefined, {})).toEqual({ minBytesPerSecond: 1000, windowMs: 60_000 });
    expect(hubRateLimit(undefined, undefined, { TFJS_LENS_HUB_MIN_RATE: '0', TFJS_LENS_HUB_RATE_WINDOW: '5' })).toEqual({ minBytesPerSecond: 0, windowMs: 5000 });
    expect(hubRateLimit(50, 100, { TFJS_LENS_HUB_MIN_RATE: '7' })).toEqual({ minBytesPerSecond: 50, windowMs: 100 });
    expect(() => hubRateLimit(-1, undefined, {})).toThrow(ConfigError);
    expect(() => hubRateLimit(undefined, 0, {})).toThrow(ConfigError);
    expect(() => hubRateLimit(undefined, undefined, { TFJS_LENS_HUB_MIN_RATE: 'fast' })).toThrow(/invalid TFJS_LENS_HUB_MIN_RATE "fast"/);
  });
});

describe('verified cache loads stay cheap', () => {
  it('a warm, verified cache is served with zero requests (stamps under .verified/, outside snapshots/)', async () => {
    const cache = await fresh();
    await expectGood(cache, 'f/warm');
    hub.reset();
    const r = await resolveModelDir('f/warm', opts(cache));
    expect(r.source).toBe('cache');
    expect(hub.requests).toEqual([]);
    const all = await listNonDirs(cache);
    expect(all.some((p) => p.includes('/.verified/'))).toBe(true);
    expect(all.filter((p) => p.includes('/snapshots/')).every((p) => !p.includes('.verified'))).toBe(true);
  });
});
