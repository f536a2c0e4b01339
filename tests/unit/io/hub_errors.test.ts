/**
 * resolveModelDir failure paths: HTTP errors, truncated/dropped downloads, network errors (each
 * must leave no file in the cache), and invalid ids/revisions (refused before any request).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, HubError } from '../../../src/errors.js';
import { resolveModelDir, validateRepoId } from '../../../src/io/hub.js';
import { useTestHub } from './hub_fixture.js';
import { TEST_COMMIT } from './hub_server.js';
import { listNonDirs } from './st_helpers.js';

const env = useTestHub();

/** Run resolveModelDir expecting a rejection; return the error. */
async function failWith(id: string, opts: Parameters<typeof resolveModelDir>[1]): Promise<Error> {
  try {
    await resolveModelDir(id, opts);
  } catch (err) {
    return err as Error;
  }
  throw new TypeError(`expected resolveModelDir(${id}) to fail`);
}

const URL_RE = String.raw`http://127\.0\.0\.1:\d+/test-org/\w+/resolve/main/config\.json`;

describe('resolveModelDir: HTTP and transfer failures leave nothing in the cache', () => {
  it.each([
    ['missing', 404, new RegExp(`^resolveModelDir: not found: ${URL_RE} \\(check the model id and revision\\)`)],
    ['gated', 401, /access denied \(HTTP 401 Unauthorized\) for .*no token was sent; the repo may be gated.*\[set HF_TOKEN/],
    ['broken', 503, new RegExp(`HTTP 503 Service Unavailable for ${URL_RE} \\[server error`)],
    ['truncated', undefined, new RegExp(`truncated download of ${URL_RE} — expected \\d+ bytes, got \\d+`)],
    ['dropped', undefined, new RegExp(`connection dropped while downloading ${URL_RE} — got \\d+ bytes`)],
  ])('test-org/%s → HubError (status %s)', async (name, status, re) => {
    const cache = await env.freshCache();
    const err = await failWith(`test-org/${name}`, env.opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBe(status);
    expect(err.message).toMatch(re);
    expect(err.message).not.toContain('hf_'); // no token in messages
    if (status === undefined) expect(err.cause).toBeDefined();
    expect(await listNonDirs(cache)).toEqual([]);
  });

  it('401 with a token says the token was rejected', async () => {
    const err = await failWith('test-org/gated', { ...env.opts(await env.freshCache()), token: 'hf_secret' });
    expect(err.message).toMatch(/the token was rejected or lacks access/);
    expect(err.message).not.toContain('hf_secret');
  });

  it('weights truncated after config.json succeeded: no partial blob, snapshot link or ref', async () => {
    const cache = await env.freshCache();
    const err = await failWith('test-org/partial', env.opts(cache));
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/truncated download of .*\/model\.safetensors/);
    const files = await listNonDirs(cache);
    expect(files.filter((p) => /incomplete|\.tmp$/.test(p))).toEqual([]);
    expect(files.some((p) => p.endsWith('/model.safetensors'))).toBe(false);
    expect(files.some((p) => p.includes('/refs/'))).toBe(false);
    expect(files).toContain(`models--test-org--partial/snapshots/${TEST_COMMIT}/config.json`); // complete files may stay
  });

  it('connection refused → HubError wrapping the cause, URL included', async () => {
    const cache = await env.freshCache();
    const err = await failWith('test-org/gpt2-tiny', { ...env.opts(cache), endpoint: 'http://127.0.0.1:1' });
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBeUndefined();
    expect(err.message).toMatch(/^resolveModelDir: network error fetching http:\/\/127\.0\.0\.1:1\/test-org\/gpt2-tiny\/resolve\/main\/config\.json — .*HF_HUB_OFFLINE=1/);
    expect(err.cause).toBeDefined();
    expect(await listNonDirs(cache)).toEqual([]);
  });
});

describe('resolveModelDir: invalid ids and revisions are refused before any request', () => {
  it.each(['../etc', 'a/../../b', '/abs/path-that-does-not-exist', 'a\\b', 'a/b/c', '', 'a//b', 'org/na me', 'org/a--b', '~/x'])(
    'repo id %j → ConfigError',
    async (id) => {
      const err = await failWith(id, env.opts(await env.freshCache()));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(/^validateRepoId: invalid model id .* — expected "name" or "org\/name"/);
      expect(env.fetchCalls).toBe(0);
      expect(env.hub.requests).toEqual([]);
    },
  );

  it('accepts ordinary ids', () => {
    for (const id of ['gpt2', 'openai-community/gpt2', 'EleutherAI/pythia-70m', 'a.b_c-d/E.F_1']) {
      expect(() => validateRepoId(id)).not.toThrow();
    }
    expect(() => validateRepoId('a/b/c')).toThrow(/got 2 '\/' separators/);
    expect(() => validateRepoId('../etc')).toThrow(/path traversal/);
    expect(() => validateRepoId('/abs')).toThrow(/absolute path/);
    expect(() => validateRepoId('a\\b')).toThrow(/backslash/);
  });

  it.each(['../main', '/main', 'a\\b', 'x/../../y', 'a//b', ''])('revision %j → ConfigError', async (revision) => {
    const err = await failWith('test-org/gpt2-tiny', { ...env.opts(await env.freshCache()), revision });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^resolveModelDir: invalid revision/);
    expect(env.fetchCalls).toBe(0);
  });

  it('extraFiles outside the repo → ConfigError', async () => {
    const err = await failWith('test-org/gpt2-tiny', { ...env.opts(await env.freshCache()), extraFiles: ['../x'] });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/invalid extraFiles entry "\.\.\/x"/);
    expect(env.fetchCalls).toBe(0);
  });
});
