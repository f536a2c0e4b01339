/**
 * `tfjs-lens probe` end to end on a tiny local checkpoint (the distilbert-tiny fixture plus a
 * 1,000-token WordPiece vocabulary): the same code path as `--model distilbert-mini` or
 * `--model distilbert-base-uncased`, at toy sizes. Checks the files, the cache reuse and
 * `--force-reprocess`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { resolveProbeTextOptions } from '../../../src/cli/commands/probe.js';
import { runProbeText } from '../../../src/cli/commands/probe_text.js';
import { shippedTokenizerDir } from '../../../src/tokenizers/load.js';

const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-probe-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tinyModelWithVocab(): string {
  const dir = join(root, 'model');
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join('tests/fixtures/distilbert-tiny', f), join(dir, f));
  const words = readFileSync(join(shippedTokenizerDir('distilbert-base-uncased'), 'vocab.txt'), 'utf8').split('\n').slice(1996).filter((w) => /^[a-z]+$/.test(w));
  writeFileSync(join(dir, 'vocab.txt'), `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words.slice(0, 995)].join('\n')}\n`);
  return dir;
}

describe('probe command (text benchmark)', () => {
  it('writes the table, plots, probe and scores; reuses the feature cache; --force-reprocess recomputes', async () => {
    const model = tinyModelWithVocab();
    const args = { json: true, positionals: ['probe'], model, dataset: 'sms_spam', outputDir: join(root, 'out'), cacheDir: join(root, 'cache'), maxSamples: '40', maxDev: '20', maxTest: '20', epochs: '4', pplSamples: '4', latentDim: '4', seeds: '1' };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await runProbeText(resolveProbeTextOptions(args));
      const first = JSON.parse(String(out.mock.calls.at(-1)?.[0])) as { hookName: string; datasets: { metrics: Record<string, { auroc: number }> }[] };
      expect(first.hookName).toBe('blocks.0.attn.hook_q');
      expect(Object.keys(first.datasets[0]?.metrics ?? {})).toContain('vae_recon');
      const files = readdirSync(join(root, 'out', 'sms_spam')).sort();
      expect(files).toEqual(['error_histograms.html', 'latent_umap.html', 'roc_pr.html', 'scores.json', 'training_history.html', 'vae', 'vae_sqrtn']);
      const sq = JSON.parse(readFileSync(join(root, 'out', 'sms_spam', 'vae_sqrtn', 'vae_config.json'), 'utf8')) as { metadata: Record<string, unknown> };
      expect(sq.metadata).toMatchObject({ pooling: 'sqrtn', hookName: 'blocks.0.attn.hook_q', score: 'recon', thresholdQuantile: 0.95 });
      expect(typeof sq.metadata['devPick']).toBe('string');
      expect(typeof sq.metadata['threshold']).toBe('number');
      const md = readFileSync(join(root, 'out', 'results.md'), 'utf8');
      expect(md).toMatch(/\| anchor \(distilbert-base, its data\) \| 0\.747 \|/);
      expect(md).toMatch(/\| tfidf_char_knn \| \d\.\d{3} ± \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]/);
      expect(md).toMatch(/## Deduplication/);
      expect(md).toMatch(/hidden_states\[1\]/);
      const cached = readdirSync(join(root, 'cache'));
      expect(cached.length).toBe(5); // train, dev, test, ppl-test, ppl-train
      const logged = (): string => err.mock.calls.map((c) => String(c[0])).join('');
      err.mockClear();
      await runProbeText(resolveProbeTextOptions(args));
      expect(logged()).toMatch(/sms_spam\/train-s0: 40 × 64 features from cache/);
      err.mockClear();
      await runProbeText(resolveProbeTextOptions({ ...args, forceReprocess: true }));
      expect(logged()).toMatch(/sms_spam\/train-s0: 40 × 64 features extracted and cached/);
      expect(readdirSync(join(root, 'cache')).sort()).toEqual([...cached].sort());
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });
});
