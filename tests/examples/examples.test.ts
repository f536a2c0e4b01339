/**
 * Every example runs as a user runs it (`tsx examples/<file>`), with and without `--json`, offline
 * (HF_HUB_OFFLINE=1), on small sizes given by flags, writing into a temporary folder. With `--json`,
 * stdout must be exactly one JSON object whose key fields are sane; without it, the report is on stdout.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const OUT = mkdtempSync(join(tmpdir(), 'tfjs-lens-examples-'));
const run = promisify(execFile);

interface Ran {
  readonly stdout: string;
  readonly stderr: string;
}

/** Run one example; rejects (failing the test with its stderr) on a non-zero exit. */
async function example(file: string, args: readonly string[]): Promise<Ran> {
  const env = { ...process.env, HF_HUB_OFFLINE: '1', TFJS_LENS_DEBUG: '' };
  return run(TSX, [join('examples', file), ...args], { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024, timeout: 170_000 });
}

/** Parse stdout as exactly one JSON object. */
function oneJson(stdout: string): Record<string, unknown> {
  const text = stdout.trim();
  expect(text.split('\n')).toHaveLength(1);
  const parsed: unknown = JSON.parse(text);
  expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true);
  return parsed as Record<string, unknown>;
}

const inUnit = (x: unknown): boolean => typeof x === 'number' && x >= 0 && x <= 1;
const saesBefore = readdirSync(join(ROOT, 'saes')).sort();

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe('examples', () => {
  it('01_run_with_cache: llama-mini on a sentence; the JSON has shapes, a next-token distribution and the residual identity', async () => {
    const plain = await example('01_run_with_cache.ts', []);
    expect(plain.stdout).toMatch(/next token:/);
    const j = oneJson((await example('01_run_with_cache.ts', ['--json'])).stdout) as {
      model: string; strTokens: string[]; shapes: { pattern: number[]; residPost: number[] }; next: { prob: number }[]; identityError: number;
    };
    expect(j.model).toBe('llama-mini');
    const pos = j.strTokens.length;
    expect(j.shapes.pattern).toEqual([1, 4, pos, pos]);
    expect(j.shapes.residPost).toEqual([1, pos, 128]);
    expect(j.next.length).toBe(5);
    for (let i = 1; i < j.next.length; i++) expect(j.next[i]!.prob).toBeLessThanOrEqual(j.next[i - 1]!.prob);
    expect(j.next.every((n) => n.prob > 0 && n.prob <= 1)).toBe(true);
    expect(j.identityError).toBeLessThan(1e-4);
  });

  it('02_activation_patching: induction-2l; clean beats corrupted, patching resid_pre at the corrupted position restores the metric', async () => {
    const args = ['--batch', '2', '--seg-len', '4'];
    const plain = await example('02_activation_patching.ts', [...args, '--out', join(OUT, '02a')]);
    expect(plain.stdout).toMatch(/activation patching: \d+ patched runs/);
    const j = oneJson((await example('02_activation_patching.ts', [...args, '--out', join(OUT, '02b'), '--json'])).stdout) as {
      cleanMetric: number; corruptedMetric: number; corruptPositions: number[];
      presets: Record<string, { shape: number[]; normalized: number[][]; pearson: number }>; files: string[];
    };
    expect(j.cleanMetric).toBeGreaterThan(0);
    expect(j.corruptedMetric).toBeLessThan(0);
    const resid = j.presets['resid_pre']!;
    expect(resid.shape).toEqual([2, 8]);
    // Layer 0, the corrupted position: the clean residual stream restores the clean answer.
    expect(resid.normalized[0]![j.corruptPositions[0]!]).toBeGreaterThan(0.9);
    for (const p of Object.values(j.presets)) expect(Number.isFinite(p.pearson)).toBe(true);
    expect(j.files.length).toBeGreaterThan(0);
    expect(j.files.every((f) => f.startsWith(join(OUT, '02b')) && existsSync(f))).toBe(true);
  });

  it('03_train_sae: consistent dead-latent window, SAE metrics in range, writes only under --out', async () => {
    const args = ['--steps', '40', '--batch-size', '512', '--eval-rows', '16', '--context-size', '32'];
    const plain = await example('03_train_sae.ts', [...args, '--out', join(OUT, '03a')]);
    expect(plain.stdout).toMatch(/CE loss recovered/);
    const j = oneJson((await example('03_train_sae.ts', [...args, '--out', join(OUT, '03b'), '--json'])).stdout) as {
      metrics: Record<string, number | null>; saeDir: string; files: string[];
    };
    const m = j.metrics;
    expect(m['deadWindowTokens']).toBe(m['evalTokens']);
    expect(inUnit(m['deadFractionTraining'])).toBe(true);
    expect(inUnit(m['deadFractionHeldOut'])).toBe(true);
    expect(m['explainedVariance']).toBeLessThanOrEqual(1);
    expect(m['l0']).toBeGreaterThan(0);
    expect(m['ceZeroAblation']).toBeGreaterThan(m['ceClean'] as number); // zeroing the hook hurts on this data, so the score is defined
    expect(inUnit(m['ceLossScore'])).toBe(true);
    expect(j.saeDir.startsWith(join(OUT, '03b'))).toBe(true);
    expect(existsSync(join(j.saeDir, 'cfg.json'))).toBe(true);
    expect(readdirSync(join(ROOT, 'saes')).sort()).toEqual(saesBefore);
  });

  it('07_finetune: LoRA on an SMS subset; one JSON object, figures in range, the saved adapter reloads', async () => {
    const args = ['--rows', '160'];
    const plain = await example('07_finetune.ts', [...args, '--out', join(OUT, '07a')]);
    expect(plain.stdout).toMatch(/trained \d+ of \d+ parameters/);
    const j = oneJson((await example('07_finetune.ts', [...args, '--out', join(OUT, '07b'), '--json'])).stdout) as {
      trainable: number; total: number; metrics: Record<string, number | null>; adapter: string; reloaded: { pSpam: number }[]; files: string[];
    };
    expect(j.trainable / j.total).toBeLessThan(0.05);
    for (const k of ['accuracy', 'f1', 'rocAuc', 'eceBefore', 'eceAfter']) expect(inUnit(j.metrics[k]), k).toBe(true);
    expect(existsSync(join(j.adapter, 'adapter_config.json'))).toBe(true);
    expect(j.reloaded.every((r) => inUnit(r.pSpam))).toBe(true);
    expect(j.files.every((f) => f.startsWith(join(OUT, '07b')) && existsSync(f))).toBe(true);
  });

  it('04_circuit: finds the previous-token and induction heads, and reports each method with its faithfulness', async () => {
    const args = ['--batch', '4', '--seg-len', '6'];
    const plain = await example('04_circuit.ts', [...args, '--out', join(OUT, '04a')]);
    expect(plain.stdout).toMatch(/faithfulness/);
    const j = oneJson((await example('04_circuit.ts', [...args, '--out', join(OUT, '04b'), '--json'])).stdout) as {
      heads: { previousToken: string; induction: string }; results: { method: string; faithfulness: number; html: string }[];
    };
    expect(j.heads.previousToken).toMatch(/^a0\./);
    expect(j.heads.induction).toMatch(/^a1\./);
    expect(j.results.map((r) => r.method)).toEqual(['prune', 'eap', 'acdc']);
    for (const r of j.results) {
      expect(Number.isFinite(r.faithfulness)).toBe(true);
      expect(existsSync(r.html)).toBe(true);
    }
  });

  it('05_cache_analysis: llama-mini by default; on induction-2l the induction loss (its token range) is far below uniform', async () => {
    const plain = await example('05_cache_analysis.ts', ['--out', join(OUT, '05a')]);
    expect(plain.stdout).toMatch(/logit difference/);
    const d = oneJson((await example('05_cache_analysis.ts', ['--out', join(OUT, '05b'), '--json'])).stdout) as {
      model: string; logitDiff: number; dla: { sum: number }; headDetector: Record<string, number[][]>;
    };
    expect(d.model).toBe('llama-mini');
    expect(Math.abs(d.dla.sum - d.logitDiff)).toBeLessThan(1e-2); // DLA decomposes the logit difference
    for (const s of Object.values(d.headDetector)) expect(s.flat().every(inUnit)).toBe(true);
    const j = oneJson((await example('05_cache_analysis.ts', ['--model', 'induction-2l', '--out', join(OUT, '05c'), '--json'])).stdout) as {
      induction: { loss: number; uniformLoss: number; tokenRange: number[]; scores: number[][] };
    };
    expect(j.induction.tokenRange).toEqual([1000, 3000]); // read from the checkpoint, not the whole vocabulary
    expect(j.induction.uniformLoss).toBeCloseTo(Math.log(2000), 6);
    expect(j.induction.loss).toBeLessThan(j.induction.uniformLoss / 4);
    expect(Math.max(...(j.induction.scores[1] ?? []))).toBeGreaterThan(0.5); // layer-1 induction heads
  });

  it('06_probe: distilbert-mini features; AUROCs in [0, 1]', async () => {
    const args = ['--max-train', '60', '--max-test', '40', '--epochs', '5'];
    const plain = await example('06_probe.ts', [...args, '--out', join(OUT, '06a')]);
    expect(plain.stdout).toMatch(/Mahalanobis: AUROC/);
    const j = oneJson((await example('06_probe.ts', [...args, '--out', join(OUT, '06b'), '--json'])).stdout) as {
      vae: { auroc: number; aupr: number }; mahalanobis: { auroc: number }; synthetic: { auroc: number }; files: string[];
    };
    expect([j.vae.auroc, j.vae.aupr, j.mahalanobis.auroc, j.synthetic.auroc].every(inUnit)).toBe(true);
    expect(j.files.every((f) => f.startsWith(join(OUT, '06b')) && existsSync(f))).toBe(true);
  });

  it('08_main_demo: every Main_Demo section runs; ablation hurts, patching restores at layer 0, induction and OV copying scores are sane', async () => {
    const args = ['--batch', '3', '--seq-len', '12', '--max-new-tokens', '5'];
    const plain = await example('08_main_demo.ts', [...args, '--out', join(OUT, '08a')]);
    expect(plain.stdout).toMatch(/Clean logit difference/);
    expect(plain.stdout).toMatch(/Output after intervening on layer2\.hook_scaled -4/);
    type Scores = number[][];
    const j = oneJson((await example('08_main_demo.ts', [...args, '--out', join(OUT, '08b'), '--json'])).stdout) as {
      loadingAndLoss: { loss: number };
      caching: { patternShape: number[]; strTokens: string[]; stopAtLayerKeys: string[]; stopAtLayerEqual: boolean };
      headAblation: { valueShape: number[]; originalLoss: number; ablatedLoss: number };
      ioiPatching: { cleanLogitDiff: number; corruptedLogitDiff: number; changedPositions: number[]; strTokens: string[]; normalized: Scores };
      inductionHeads: { tokenRange: number[]; lossByPosition: number[]; firstHalfLoss: number; secondHalfLoss: number; scores: Scores; bestHead: number[]; singleSequenceStripe: number };
      secondModelInduction: { scores: Scores };
      namesAndShapes: { parameters: { name: string; shape: number[] }[]; numTokens: number; hooks: { name: string; shape: number[] }[] };
      unembedBias: { top: { value: number }[]; otherModelMaxAbsBU: number; johnBias: number; maryBias: number; probRatio: number };
      tokens: { multiTokens: number[][]; theProb: number; detokenizedEqualsText: boolean; tokenPosition: { withBos: number; withoutBos: number; first: number; last: number } };
      prependBos: { shapes: { byDefault: number[]; withBos: number[]; withoutBos: number[] } };
      factoredMatrix: { norms: number[]; dims: Record<string, number>; abcDims: Record<string, number>; denseSingularValues: number[]; factoredSingularValues: number[]; factoredEigenvalues: { real: number[] }; denseEigenvalues: { real: number[] }; allClose: boolean };
      ovCopying: { ovCopyingScore: Scores; fullOvCopyingScore: Scores; fullOvShape: number[] };
      ovCopyingInductionModel: { ovCopyingScore: Scores; fullOvCopyingScore: Scores };
      generate: { prompt: string; text: string; startsWithPrompt: boolean };
      hookPoints: { output: number; cached: Record<string, number>; fired: string[]; intervened: number };
      tensorsLeaked: number;
      files: string[];
    };
    expect(j.loadingAndLoss.loss).toBeGreaterThan(0);
    expect(j.loadingAndLoss.loss).toBeLessThan(Math.log(2048)); // better than uniform over llama-mini's vocabulary
    const n = j.caching.strTokens.length;
    expect(j.caching.patternShape).toEqual([4, n, n]); // batch dimension removed
    expect(j.caching.stopAtLayerKeys).toEqual(['blocks.0.attn.hook_pattern']);
    expect(j.caching.stopAtLayerEqual).toBe(true);
    expect(j.headAblation.valueShape).toEqual([1, n, 2, 32]); // grouped-query attention: 2 value heads
    expect(j.headAblation.ablatedLoss).toBeGreaterThan(j.headAblation.originalLoss);
    // Patching: clean beats corrupted; at layer 0 only the changed position matters, and it restores the clean run.
    const ioi = j.ioiPatching;
    expect(ioi.cleanLogitDiff).toBeGreaterThan(ioi.corruptedLogitDiff);
    expect(ioi.changedPositions).toHaveLength(1);
    expect(ioi.normalized).toHaveLength(4);
    const changed = ioi.changedPositions[0]!;
    ioi.normalized[0]!.forEach((x, p) => expect(Math.abs(x - (p === changed ? 1 : 0)), `layer 0, position ${p}`).toBeLessThan(1e-3));
    expect(ioi.normalized.every((r) => r.length === ioi.strTokens.length)).toBe(true);
    // Induction (induction-2l, its token range): the repeat is predicted, layer-1 heads attend seq_len − 1 back.
    const ind = j.inductionHeads;
    expect(ind.tokenRange).toEqual([1000, 3000]);
    expect(ind.lossByPosition).toHaveLength(2 * 12); // BOS + 2·12 tokens → 24 predictions
    expect(ind.secondHalfLoss).toBeLessThan(ind.firstHalfLoss / 4);
    expect(ind.scores.flat().every(inUnit)).toBe(true);
    expect(ind.bestHead[0]).toBe(1);
    expect(Math.max(...ind.scores[1]!)).toBeGreaterThan(0.5);
    expect(Math.max(...ind.scores[0]!)).toBeLessThan(0.2);
    expect(ind.singleSequenceStripe).toBeGreaterThan(0.5);
    expect(j.secondModelInduction.scores.flat().every(inUnit)).toBe(true);
    // Names and shapes.
    const param = (name: string): number[] | undefined => j.namesAndShapes.parameters.find((p) => p.name === name)?.shape;
    expect(param('blocks.0.attn.W_Q')).toEqual([4, 128, 32]);
    expect(param('embed.W_E')).toEqual([2048, 128]);
    const t = j.namesAndShapes.numTokens;
    const hook = (name: string): number[] | undefined => j.namesAndShapes.hooks.find((h) => h.name === name)?.shape;
    expect(hook('blocks.0.attn.hook_pattern')).toEqual([1, 4, t, t]);
    expect(hook('hook_embed')).toEqual([1, t, 128]);
    expect(j.namesAndShapes.hooks.some((h) => h.name.startsWith('blocks.1.'))).toBe(false);
    // Unembedding bias: sorted, llama-mini has none, the ratio is exp(difference).
    const top = j.unembedBias.top.map((x) => x.value);
    for (let i = 1; i < top.length; i++) expect(top[i]!).toBeLessThanOrEqual(top[i - 1]!);
    expect(j.unembedBias.otherModelMaxAbsBU).toBe(0);
    expect(j.unembedBias.probRatio).toBeCloseTo(Math.exp(j.unembedBias.johnBias - j.unembedBias.maryBias), 6);
    // Tokens and prepend_bos.
    expect(new Set(j.tokens.multiTokens.map((r) => r.length)).size).toBe(1); // padded to one length
    expect(j.tokens.theProb > 0 && j.tokens.theProb < 1).toBe(true);
    expect(j.tokens.detokenizedEqualsText).toBe(true); // to_string inverts to_tokens
    expect(j.tokens.tokenPosition.withBos).toBe(j.tokens.tokenPosition.withoutBos + 1);
    expect(j.tokens.tokenPosition.last).toBeGreaterThan(j.tokens.tokenPosition.first);
    expect(j.prependBos.shapes.byDefault).toEqual(j.prependBos.shapes.withBos);
    expect(j.prependBos.shapes.withoutBos[1]).toBe(j.prependBos.shapes.withBos[1]! - 1);
    // FactoredMatrix: the factored results equal the dense ones.
    const fm = j.factoredMatrix;
    expect(fm.norms[1]!).toBeCloseTo(fm.norms[0]!, 3);
    expect(fm.dims).toEqual({ rdim: 5, ldim: 5, mdim: 2 });
    expect(fm.abcDims).toEqual({ rdim: 300, ldim: 5, mdim: 2 });
    fm.factoredSingularValues.forEach((s, i) => expect(s).toBeCloseTo(fm.denseSingularValues[i]!, 3));
    const nonzero = fm.denseEigenvalues.real.filter((x) => Math.abs(x) > 1e-4).sort((a, b) => a - b);
    expect(nonzero).toHaveLength(2);
    [...fm.factoredEigenvalues.real].sort((a, b) => a - b).forEach((x, i) => expect(x).toBeCloseTo(nonzero[i]!, 3));
    expect(fm.allClose).toBe(true);
    // OV copying scores lie in [-1, 1]; induction-2l's layer-1 heads copy.
    const inRange = (z: Scores): boolean => z.flat().every((x) => x >= -1 - 1e-6 && x <= 1 + 1e-6);
    expect(j.ovCopying.fullOvShape).toEqual([4, 4, 2048, 2048]);
    for (const z of [j.ovCopying.ovCopyingScore, j.ovCopying.fullOvCopyingScore, j.ovCopyingInductionModel.ovCopyingScore, j.ovCopyingInductionModel.fullOvCopyingScore]) expect(inRange(z)).toBe(true);
    expect(Math.min(...j.ovCopyingInductionModel.ovCopyingScore[1]!, ...j.ovCopyingInductionModel.fullOvCopyingScore[1]!)).toBeGreaterThan(0.8);
    // Generation and the custom hooked module.
    expect(j.generate.startsWithPrompt).toBe(true);
    expect(j.generate.text.length).toBeGreaterThan(j.generate.prompt.length);
    expect(j.hookPoints.output).toBe(780); // ((5² + 3)² − 4)
    expect(j.hookPoints.cached).toEqual({ hook_in: 5, 'layer1.hook_square': 25, hook_mid: 28, 'layer2.hook_square': 784, hook_out: 780 });
    expect(j.hookPoints.fired).toEqual(['layer2.hook_square']);
    expect(j.hookPoints.intervened).toBe(-4);
    expect(j.tensorsLeaked).toBe(0); // every section freed its tensors
    expect(j.files.length).toBeGreaterThanOrEqual(12);
    expect(j.files.every((f) => f.startsWith(join(OUT, '08b')) && existsSync(f))).toBe(true);
  }, 400_000);

  it('a misspelt flag is one line on stderr with the nearest flag, exit 2', async () => {
    const err = await example('01_run_with_cache.ts', ['--jsn']).then(() => undefined, (e: unknown) => e as { code: number; stderr: string });
    expect(err?.code).toBe(2);
    expect(err?.stderr.trim().split('\n').filter((l) => !l.startsWith('tfjs-lens: backend'))).toHaveLength(1);
    expect(err?.stderr).toMatch(/--json/);
  });
});
