/** The alias table resolves shipped models to package folders and refuses missing ones clearly. */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { NotFoundError } from '../../../src/errors.js';
import { MODEL_ALIASES, resolveAlias } from '../../../src/model/aliases.js';

describe('model aliases', () => {
  it('maps shipped names to folders, hub names to themselves, and passes paths through', () => {
    expect(resolveAlias('distilbert-mini')).toMatch(/models\/distilbert-mini$/);
    expect(existsSync(resolveAlias('distilbert-mini'))).toBe(true);
    expect(resolveAlias('gpt2')).toBe('gpt2');
    expect(resolveAlias('some/other-model')).toBe('some/other-model');
    expect(Object.keys(MODEL_ALIASES)).toContain('induction-2l');
  });

  it('a shipped alias whose folder is missing gives NotFoundError naming the training script', () => {
    if (existsSync('models/induction-2l/config.json')) return;
    expect(() => resolveAlias('induction-2l')).toThrow(NotFoundError);
    expect(() => resolveAlias('induction-2l')).toThrow(/train_induction/);
  });

  it('checks names locally first: typos of aliases and path-like names never pass through to the hub', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'tfjs-lens-alias-cache-'));
    try {
      expect(() => resolveAlias('gpt3', { cacheDir })).toThrow(NotFoundError);
      expect(() => resolveAlias('gpt3', { cacheDir })).toThrow(/unknown model 'gpt3'; did you mean 'gpt2'\?.*hub \(need the network once\)/);
      expect(() => resolveAlias('induction-2L', { cacheDir })).toThrow(/did you mean 'induction-2l' \(names are case-sensitive\)\?/);
      expect(() => resolveAlias('models/distilbert_mini', { cacheDir })).toThrow(/no model folder 'models\/distilbert_mini'.*did you mean 'models\/distilbert-mini'\?/);
      expect(() => resolveAlias('./nonexistent', { cacheDir })).toThrow(/no model folder '\.\/nonexistent'/);
      // plausible hub ids pass: owner/name (owner not a local folder), a bare name in the cache, any name with a custom endpoint
      expect(resolveAlias('EleutherAI/pythia-31m', { cacheDir })).toBe('EleutherAI/pythia-31m');
      mkdirSync(join(cacheDir, 'models--my-cached-model'));
      expect(resolveAlias('my-cached-model', { cacheDir })).toBe('my-cached-model');
      expect(resolveAlias('tiny-model', { cacheDir, endpoint: 'http://127.0.0.1:1' })).toBe('tiny-model');
      vi.stubEnv('HF_ENDPOINT', 'http://127.0.0.1:1'); // a custom hub from the environment counts too
      expect(resolveAlias('tiny-model', { cacheDir })).toBe('tiny-model');
      vi.stubEnv('HF_ENDPOINT', '');
      expect(() => resolveAlias('tiny-model', { cacheDir })).toThrow(/unknown model 'tiny-model'/);
    } finally {
      vi.unstubAllEnvs();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
