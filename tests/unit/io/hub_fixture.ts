/**
 * Shared setup for the hub tests: the fake hub serving gpt2-tiny + a sharded repo, fresh cache
 * dirs under one temp root, a fetch that refuses anything but 127.0.0.1, and env isolation.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, vi } from 'vitest';
import type { HubOptions } from '../../../src/io/hub.js';
import { serializeSafetensors } from '../../../src/io/safetensors.js';
import { startTestHub, type TestHub } from './hub_server.js';
import { makeTempDir, removeDir } from './st_helpers.js';
import { bundledFixtureDir } from '../../helpers/fixtures.js';

export const FIXTURES = bundledFixtureDir('gpt2-tiny');
export const GPT2_FILES = ['config.json', 'generation_config.json', 'model.safetensors'] as const;

/** Mutable handles filled in by `useTestHub()`'s hooks. */
export interface HubEnv {
  hub: TestHub;
  root: string;
  fixture: Record<string, Buffer>;
  /** Calls made through `opts().fetch`. */
  fetchCalls: number;
  /** A new empty cache dir. */
  freshCache(): Promise<string>;
  /** Options for a test: local endpoint, guarded fetch, quiet, online. */
  opts(cacheDir: string): HubOptions;
}

/** Register beforeAll/afterAll/beforeEach/afterEach hooks and return the shared handles. */
export function useTestHub(): HubEnv {
  let n = 0;
  const env: HubEnv = {
    hub: undefined as unknown as TestHub,
    root: '',
    fixture: {},
    fetchCalls: 0,
    freshCache: async () => {
      const d = join(env.root, `cache-${n++}`);
      await mkdir(d);
      return d;
    },
    opts: (cacheDir) => ({
      cacheDir,
      endpoint: env.hub.url,
      quiet: true,
      offline: false,
      fetch: (input, init) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (!url.startsWith('http://127.0.0.1:')) throw new TypeError(`test refused a non-local fetch: ${url}`);
        env.fetchCalls++;
        return globalThis.fetch(input, init);
      },
    }),
  };
  beforeAll(async () => {
    env.root = await makeTempDir('hub');
    for (const f of GPT2_FILES) env.fixture[f] = await readFile(join(FIXTURES, f));
    const shard1 = serializeSafetensors({ a: { dtype: 'F32', shape: [2], data: [1, 2] } });
    const shard2 = serializeSafetensors({ b: { dtype: 'F32', shape: [1], data: [3] } });
    env.hub = await startTestHub({
      'test-org/gpt2-tiny': env.fixture,
      'test-org/sharded': {
        'config.json': env.fixture['config.json'] as Buffer,
        'model.safetensors.index.json': Buffer.from(
          JSON.stringify({ metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }),
        ),
        'model-00001-of-00002.safetensors': Buffer.from(shard1),
        'model-00002-of-00002.safetensors': Buffer.from(shard2),
      },
    });
  });
  afterAll(async () => {
    await env.hub.close();
    await removeDir(env.root);
  });
  beforeEach(() => {
    // Isolate from the developer's environment: '' counts as unset.
    for (const k of ['HF_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_CACHE', 'HF_HOME']) vi.stubEnv(k, '');
    env.hub.requests.length = 0;
    env.fetchCalls = 0;
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  return env;
}
