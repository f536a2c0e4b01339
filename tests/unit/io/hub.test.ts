/**
 * resolveModelDir against a fake hub on 127.0.0.1: download into the HF cache layout, reuse of
 * the cache (zero requests), offline mode, sharded repos, Python-populated caches, local dirs.
 */
import { createHash } from 'node:crypto';
import { copyFile, lstat, mkdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { NotFoundError } from '../../../src/errors.js';
import { loadCheckpointTensors } from '../../../src/io/checkpoint.js';
import { hubCacheDir, resolveModelDir } from '../../../src/io/hub.js';
import { FIXTURES, GPT2_FILES, useTestHub } from './hub_fixture.js';
import { TEST_COMMIT } from './hub_server.js';
import { listNonDirs } from './st_helpers.js';

const env = useTestHub();
const REPO = 'test-org/gpt2-tiny';
const repoDirOf = (cache: string, id = REPO): string => join(cache, `models--${id.replace('/', '--')}`);

/** Python-style cache entry: refs/main + snapshots/<hash>/ with real files (no blobs). */
async function pythonStyleCache(cache: string, id: string, hash: string, files: readonly string[]): Promise<string> {
  const repoDir = repoDirOf(cache, id);
  const snap = join(repoDir, 'snapshots', hash);
  await mkdir(join(repoDir, 'refs'), { recursive: true });
  await mkdir(snap, { recursive: true });
  await writeFile(join(repoDir, 'refs', 'main'), `${hash}\n`);
  for (const f of files) await copyFile(join(FIXTURES, f), join(snap, f));
  return snap;
}

describe('resolveModelDir: download and cache', () => {
  let warm = '';

  it('downloads into the HF cache layout (refs, blobs, snapshot symlinks), files identical', async () => {
    warm = await env.freshCache();
    const progress: { file: string; loaded: number; total?: number }[] = [];
    const r = await resolveModelDir(REPO, { ...env.opts(warm), token: 'hf_secret', onProgress: (p) => progress.push(p) });
    const repoDir = repoDirOf(warm);
    expect(r).toEqual({ dir: join(repoDir, 'snapshots', TEST_COMMIT), source: 'hub', repoId: REPO, revision: 'main', commit: TEST_COMMIT });
    expect(await readFile(join(repoDir, 'refs', 'main'), 'utf8')).toBe(TEST_COMMIT);
    for (const f of GPT2_FILES) {
      const link = join(r.dir, f);
      expect((await lstat(link)).isSymbolicLink(), f).toBe(true);
      expect(await readlink(link)).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{40,64}$/);
      expect((await readFile(link)).equals(env.fixture[f] as Buffer), f).toBe(true);
    }
    const sha = createHash('sha256').update(env.fixture['model.safetensors'] as Buffer).digest('hex');
    expect(await readlink(join(r.dir, 'model.safetensors'))).toBe(`../../blobs/${sha}`); // x-linked-etag, not the CDN etag
    expect((await lstat(join(repoDir, '.no_exist', TEST_COMMIT, 'tokenizer.json'))).isFile()).toBe(true);
    const all = await listNonDirs(warm);
    expect(all.filter((p) => /incomplete|\.tmp$/.test(p))).toEqual([]);
    expect((await loadCheckpointTensors(r.dir)).size).toBe(28);

    const hubReqs = env.hub.requests.filter((q) => q.server === 'hub');
    expect(hubReqs[0]?.path).toBe(`/${REPO}/resolve/main/config.json`);
    expect(hubReqs.slice(1).every((q) => q.path.includes(`/resolve/${TEST_COMMIT}/`))).toBe(true); // pinned to the commit
    expect(hubReqs.every((q) => q.auth === 'Bearer hf_secret')).toBe(true);
    const cdnReqs = env.hub.requests.filter((q) => q.server === 'cdn');
    expect(cdnReqs.length).toBe(1);
    expect(cdnReqs[0]?.auth).toBeUndefined(); // token not sent to another origin
    const size = (env.fixture['model.safetensors'] as Buffer).length;
    const modelProgress = progress.filter((p) => p.file === 'model.safetensors');
    expect(modelProgress.length).toBeGreaterThan(1);
    expect(modelProgress.at(-1)).toEqual({ file: 'model.safetensors', loaded: size, total: size });
    expect(progress.some((p) => p.file === 'config.json')).toBe(true);
  });

  it('second call is served from the cache with zero HTTP requests', async () => {
    const r = await resolveModelDir(REPO, env.opts(warm));
    expect(r.source).toBe('cache');
    expect(r.commit).toBe(TEST_COMMIT);
    expect(env.hub.requests).toEqual([]);
    expect(env.fetchCalls).toBe(0);
  });

  it('a revision given as a commit hash is looked up directly', async () => {
    const r = await resolveModelDir(REPO, { ...env.opts(warm), revision: TEST_COMMIT });
    expect(r.source).toBe('cache');
    expect(env.fetchCalls).toBe(0);
  });

  it('extraFiles: fetched when missing (404 recorded in .no_exist), then cached', async () => {
    const r = await resolveModelDir(REPO, { ...env.opts(warm), extraFiles: ['README.md'] });
    expect(r.source).toBe('hub');
    expect(env.hub.requests.some((q) => q.path.endsWith('/model.safetensors'))).toBe(false); // already in the snapshot
    expect((await lstat(join(repoDirOf(warm), '.no_exist', TEST_COMMIT, 'README.md'))).isFile()).toBe(true);
    env.hub.requests.length = 0;
    expect((await resolveModelDir(REPO, { ...env.opts(warm), extraFiles: ['README.md'] })).source).toBe('cache');
    expect(env.hub.requests).toEqual([]);
  });

  it('re-links a deleted snapshot file, reusing the existing blob', async () => {
    const cache = await env.freshCache();
    const first = await resolveModelDir(REPO, env.opts(cache));
    await rm(join(first.dir, 'model.safetensors'));
    const blobsBefore = (await listNonDirs(cache)).filter((p) => p.includes('/blobs/')).sort();
    const again = await resolveModelDir(REPO, env.opts(cache));
    expect(again.source).toBe('hub');
    expect((await readFile(join(again.dir, 'model.safetensors'))).equals(env.fixture['model.safetensors'] as Buffer)).toBe(true);
    expect((await listNonDirs(cache)).filter((p) => p.includes('/blobs/')).sort()).toEqual(blobsBefore);
  });

  it('without x-repo-commit the revision names the snapshot, and the cache still works', async () => {
    const cache = await env.freshCache();
    const r = await resolveModelDir('test-org/nocommit', env.opts(cache));
    const repoDir = repoDirOf(cache, 'test-org/nocommit');
    expect(r).toMatchObject({ dir: join(repoDir, 'snapshots', 'main'), source: 'hub', commit: 'main' });
    expect(await readFile(join(repoDir, 'refs', 'main'), 'utf8')).toBe('main');
    expect(env.hub.requests.filter((q) => q.server === 'hub').every((q) => q.path.includes('/resolve/main/'))).toBe(true);
    env.hub.requests.length = 0;
    expect((await resolveModelDir('test-org/nocommit', env.opts(cache))).source).toBe('cache');
    expect(env.hub.requests).toEqual([]);
  });

  it('downloads a sharded checkpoint (index + every shard)', async () => {
    const cache = await env.freshCache();
    const r = await resolveModelDir('test-org/sharded', env.opts(cache));
    expect(r.source).toBe('hub');
    const tensors = await loadCheckpointTensors(r.dir);
    expect([...tensors.keys()].sort()).toEqual(['a', 'b']);
    expect(Array.from(tensors.get('b')?.data ?? [])).toEqual([3]);
    env.hub.requests.length = 0;
    expect((await resolveModelDir('test-org/sharded', env.opts(cache))).source).toBe('cache');
    expect(env.hub.requests).toEqual([]);
  });

  it('prints throttled progress on stderr unless quiet', async () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await resolveModelDir(REPO, { ...env.opts(await env.freshCache()), quiet: false });
      const lines = spy.mock.calls.map((c) => String(c[0]));
      expect(lines).toContain(`tfjs-lens: downloading ${REPO}/model.safetensors 0.7/0.7 MB (100%)\n`);
      expect(lines.some((l) => l.includes('config.json'))).toBe(false); // small files stay silent
      spy.mockClear();
      await resolveModelDir(REPO, env.opts(await env.freshCache()));
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('resolveModelDir: offline mode', () => {
  it('offline: true with an empty cache → NotFoundError, zero requests', async () => {
    const cache = await env.freshCache();
    const p = resolveModelDir(REPO, { ...env.opts(cache), offline: true });
    await expect(p).rejects.toBeInstanceOf(NotFoundError);
    await expect(p).rejects.toThrow(
      /resolveModelDir: test-org\/gpt2-tiny@main is not in the local cache and offline: true was passed — missing refs\/main; looked in .*models--test-org--gpt2-tiny/,
    );
    expect(env.fetchCalls).toBe(0);
    expect(env.hub.requests).toEqual([]);
  });

  it('HF_HUB_OFFLINE=1 with an empty cache → NotFoundError naming the variable, zero requests', async () => {
    vi.stubEnv('HF_HUB_OFFLINE', '1');
    const { offline: _ignored, ...opts } = env.opts(await env.freshCache());
    await expect(resolveModelDir(REPO, opts)).rejects.toThrow(NotFoundError);
    await expect(resolveModelDir(REPO, opts)).rejects.toThrow(/HF_HUB_OFFLINE is set/);
    expect(env.fetchCalls).toBe(0);
    expect(env.hub.requests).toEqual([]);
  });

  it('HF_HUB_OFFLINE=true with a warm cache → served from the cache', async () => {
    const cache = await env.freshCache();
    await resolveModelDir(REPO, env.opts(cache));
    env.hub.requests.length = 0;
    env.fetchCalls = 0;
    vi.stubEnv('HF_HUB_OFFLINE', 'true');
    const { offline: _ignored, ...opts } = env.opts(cache);
    const r = await resolveModelDir(REPO, opts);
    expect(r.source).toBe('cache');
    expect(env.fetchCalls).toBe(0);
  });

  it('offline with an incomplete snapshot lists the missing files', async () => {
    const cache = await env.freshCache();
    const snap = await pythonStyleCache(cache, 'py-org/only-config', TEST_COMMIT, ['config.json']);
    await expect(resolveModelDir('py-org/only-config', { ...env.opts(cache), offline: true })).rejects.toThrow(
      new RegExp(`missing model\\.safetensors \\(or model\\.safetensors\\.index\\.json\\); looked in ${snap}`),
    );
  });
});

describe('resolveModelDir: existing caches and local folders', () => {
  it('finds a Python-populated cache (refs/main + snapshot with real files), zero requests', async () => {
    const cache = await env.freshCache();
    const hash = 'fedcba9876543210fedcba9876543210fedcba98';
    const snap = await pythonStyleCache(cache, 'py-org/py-model', hash, ['config.json', 'model.safetensors']);
    const r = await resolveModelDir('py-org/py-model', env.opts(cache));
    expect(r).toEqual({ dir: snap, source: 'cache', repoId: 'py-org/py-model', revision: 'main', commit: hash });
    expect(env.fetchCalls).toBe(0);
  });

  it('uses $HF_HUB_CACHE when no cacheDir is given', async () => {
    const cache = await env.freshCache();
    await pythonStyleCache(cache, 'gpt2', TEST_COMMIT, ['config.json', 'model.safetensors']);
    vi.stubEnv('HF_HUB_CACHE', cache);
    const { cacheDir: _ignored, ...opts } = env.opts(cache);
    const r = await resolveModelDir('gpt2', opts);
    expect(r.dir).toBe(join(cache, 'models--gpt2', 'snapshots', TEST_COMMIT));
    expect(env.fetchCalls).toBe(0);
  });

  it('an existing directory (absolute or relative) is used as is', async () => {
    expect(await resolveModelDir(FIXTURES, env.opts(await env.freshCache()))).toEqual({ dir: FIXTURES, source: 'local' });
    const rel = relative(process.cwd(), FIXTURES);
    expect((await resolveModelDir(rel, env.opts(await env.freshCache()))).dir).toBe(FIXTURES);
    expect(env.fetchCalls).toBe(0);
  });
});

describe('hubCacheDir', () => {
  it('HF_HUB_CACHE > HF_HOME/hub > XDG_CACHE_HOME/huggingface/hub > ~/.cache/huggingface/hub', () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/a/hub', HF_HOME: '/b', HOME: '/h' })).toBe('/a/hub');
    expect(hubCacheDir({ HF_HOME: '/b', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/b/hub');
    expect(hubCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/huggingface/hub');
    expect(hubCacheDir({ HOME: '/h' })).toBe('/h/.cache/huggingface/hub');
    expect(hubCacheDir({ HF_HUB_CACHE: '', HF_HOME: '~/hf', HOME: '/h' })).toBe('/h/hf/hub');
  });

  it('reads process.env by default', () => {
    vi.stubEnv('HF_HUB_CACHE', '/from/env');
    expect(hubCacheDir()).toBe('/from/env');
  });
});
