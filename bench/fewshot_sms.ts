/**
 * Benchmark (issue 21, few-shot): SMS spam with k labelled examples per class (default 8), drawn from
 * the train split with seeds 0..4. Detectors ({@link fitFewShot}):
 * - knn-distilbert: similarity-weighted kNN on distilbert-mini pooled last-layer output;
 * - knn-llama: the same on llama-mini's pooled last-layer residual stream;
 * - prompt-llama: a few-shot prompt of the most similar labelled examples that fit llama-mini's
 *   n_ctx (128), scored by log p(' ham') vs log p(' spam');
 * - contrastive-knn / contrastive-mahalanobis (unless --no-contrastive): distilbert-mini with LoRA
 *   trained by InfoNCE (ham anchors, other hams positive, char-swapped hams + the k spams negative),
 *   then kNN (k + k labelled) or Mahalanobis fit on the k hams only.
 * Test: a fixed stratified random subset of the test split (--test-size, default 500; seed 1234).
 * F1 at threshold 0.5 and at the threshold chosen on leave-one-out scores of the 2k labelled
 * examples (no test labels); AUROC. Mean ± std over seeds. Progress on stderr; markdown on stdout or
 * one JSON object with --json; results/fewshot/<out>.{json,md} (default sms), rewritten after every seed.
 * Run: npx tsx bench/fewshot_sms.ts [--k 8] [--seeds 0,1,2,3,4] [--test-size 500] [--no-contrastive]
 *   [--example-tokens 16] [--only knn-distilbert,prompt-llama] [--out sms] [--json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/backend.js';
import { loadSmsSpam } from '../src/data/corpora.js';
import { HookedEncoder } from '../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../src/model/hooked_transformer.js';
import { fitMahalanobis } from '../src/probe/baselines.js';
import { extractPooledFeatures } from '../src/probe/features.js';
import { binaryReport, maxF1Threshold, rocAuc } from '../src/probe/metrics.js';
import { seededRng } from '../src/utils/rng.js';
import { contrastiveFinetune } from '../src/anomaly/contrastive.js';
import { defaultFewShotHook, drawFewShot, fitFewShot, type FewShotDetector } from '../src/anomaly/fewshot.js';
import { promptText, type FewShotExample } from '../src/anomaly/fewshot_prompt.js';
import { cell, markdownTable, meanStd, progress } from './finetune_common.js';

const NAME = 'bench/fewshot_sms';
const { values: args } = parseArgs({
  options: {
    k: { type: 'string', default: '8' }, seeds: { type: 'string', default: '0,1,2,3,4' }, 'test-size': { type: 'string', default: '500' },
    'no-contrastive': { type: 'boolean', default: false }, 'example-tokens': { type: 'string' }, only: { type: 'string' }, out: { type: 'string', default: 'sms' }, json: { type: 'boolean', default: false },
  },
});
const K = Number(args.k);
const SEEDS = (args.seeds ?? '0,1,2,3,4').split(',').map(Number);
const TEST_SIZE = Number(args['test-size']);
/** --example-tokens N adds 'prompt-llama-cutN': each labelled example cut to N tokens so that more fit. */
const EXAMPLE_TOKENS = args['example-tokens'] === undefined ? undefined : Number(args['example-tokens']);
/** --only a,b: run only these detectors (names as in the table). */
const ONLY = args.only?.split(',');

/** One detector's figures on one seed. */
interface Run { seed: number; auroc: number; f1At05: number; f1AtSupport: number; supportThreshold: number; meanShots?: number; seconds: number }

/** Stratified random subset of `size` rows (class ratio kept), seeded. */
function stratified(rows: readonly FewShotExample[], size: number, seed: number): FewShotExample[] {
  if (size >= rows.length) return [...rows];
  const r = seededRng(seed);
  const out: FewShotExample[] = [];
  for (const cls of [0, 1] as const) {
    const idx = rows.map((x, i) => (x.label === cls ? i : -1)).filter((i) => i >= 0);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    const take = Math.round((idx.length / rows.length) * size);
    out.push(...idx.slice(0, take).map((i) => rows[i] as FewShotExample));
  }
  return out;
}

function figures(seed: number, scores: readonly number[], labels: readonly (0 | 1)[], supportScores: readonly number[], supportLabels: readonly (0 | 1)[], seconds: number, meanShots?: number): Run {
  const ok = supportScores.map((_, i) => i).filter((i) => Number.isFinite(supportScores[i]));
  const thr = maxF1Threshold(ok.map((i) => supportScores[i] as number), ok.map((i) => supportLabels[i] as 0 | 1)).threshold;
  return {
    seed, auroc: rocAuc(scores, labels), f1At05: binaryReport(scores, labels, 0.5).f1, f1AtSupport: binaryReport(scores, labels, thr).f1, supportThreshold: thr, seconds,
    ...(meanShots === undefined ? {} : { meanShots }),
  };
}

/**
 * Texts cut (token-wise, from the end) so that the query alone fits llama-mini's prompt budget: the
 * API never truncates a query and throws instead, so the benchmark clips the few over-long SMS
 * messages for the prompt method only, and reports how many.
 */
function clipForPrompt(model: HookedTransformer, texts: readonly string[], words: readonly [string, string]): { texts: string[]; clipped: number } {
  const tok = model.tokenizer;
  if (tok === undefined) throw new Error('llama-mini has no tokenizer');
  const label = Math.max(...words.map((w) => tok.encode(` ${w}`).length));
  const room = model.cfg.nCtx - label - 1;
  let clipped = 0;
  const out = texts.map((t) => {
    let ids = tok.encode(t.replace(/\s+/g, ' ').trim());
    if (tok.encode(promptText(t, [], words)).length <= room) return t;
    clipped++;
    let cut = t;
    while (tok.encode(promptText(cut, [], words)).length > room) {
      ids = ids.slice(0, ids.length - 4);
      cut = tok.decode(ids);
    }
    return cut;
  });
  return { texts: out, clipped };
}

function runDetector(det: FewShotDetector, texts: readonly string[], labels: readonly (0 | 1)[], support: readonly FewShotExample[], seed: number, t0: number): Run {
  const d = det.scoreDetailed(texts);
  const shots = det.method === 'prompt' ? d.reduce((a, s) => a + s.shots, 0) / d.length : undefined;
  return figures(seed, d.map((s) => s.score), labels, det.supportScores, support.map((e) => e.label), (Date.now() - t0) / 1000, shots);
}

async function main(): Promise<void> {
  await initBackend(undefined, { quiet: true });
  const toRows = (xs: { text: string; label: 'ham' | 'spam' }[]): FewShotExample[] => xs.map((x) => ({ text: x.text, label: x.label === 'spam' ? 1 : 0 }));
  const train = toRows(await loadSmsSpam({ split: 'train' }));
  const fullTest = toRows(await loadSmsSpam({ split: 'test' }));
  const test = stratified(fullTest, TEST_SIZE, 1234);
  const texts = test.map((x) => x.text);
  const labels = test.map((x) => x.label);
  progress(NAME, `train ${train.length}, test ${fullTest.length} → subset ${test.length} (${labels.filter((y) => y === 1).length} spam), k = ${K}, seeds ${SEEDS.join(',')}`);
  const bert = await HookedEncoder.fromPretrained('models/distilbert-mini', { quiet: true });
  const llama = await HookedTransformer.fromPretrained('models/llama-mini');
  const promptTexts = clipForPrompt(llama, texts, ['ham', 'spam']);
  progress(NAME, `prompt: ${promptTexts.clipped} of ${texts.length} test messages clipped so that the query alone fits n_ctx ${llama.cfg.nCtx}`);
  const runs: Record<string, Run[]> = { 'knn-distilbert': [], 'knn-llama': [], 'prompt-llama': [] };
  if (args['no-contrastive'] !== true) Object.assign(runs, { 'mahalanobis-distilbert': [], 'contrastive-knn': [], 'contrastive-mahalanobis': [] });
  if (EXAMPLE_TOKENS !== undefined) runs[`prompt-llama-cut${EXAMPLE_TOKENS}`] = [];
  if (ONLY !== undefined) for (const k of Object.keys(runs)) if (!ONLY.includes(k)) delete runs[k];
  const report = (done: readonly number[]): { result: unknown; md: string } => {
    const summary = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, {
      auroc: meanStd(v.map((r) => r.auroc)), f1At05: meanStd(v.map((r) => r.f1At05)), f1AtSupport: meanStd(v.map((r) => r.f1AtSupport)),
      ...(v[0]?.meanShots === undefined ? {} : { meanShots: meanStd(v.map((r) => r.meanShots ?? NaN)) }), seconds: meanStd(v.map((r) => r.seconds)),
    }]));
    const result = {
      benchmark: 'fewshot_sms', k: K, seeds: done, seedsPlanned: SEEDS, testSubset: { size: test.length, spam: labels.filter((y) => y === 1).length, of: fullTest.length, seed: 1234, stratified: true },
      knn: { weights: 'softmax(cos/0.1) over all 2k labelled examples, cosine after centring on their mean', hookDistilbert: defaultFewShotHook(bert), hookLlama: defaultFewShotHook(llama) },
      prompt: { model: 'models/llama-mini', nCtx: llama.cfg.nCtx, labelWords: ['ham', 'spam'], similarity: 'llama-mini pooled features', queriesClipped: promptTexts.clipped },
      contrastive: { loss: 'InfoNCE τ 0.1: ham anchors, another ham positive, typo-augmented hams + the k spams negative', augment: 'typoAugment (2 keyboard typos, src/data/anomalies)', lora: 'r 8, alpha 16, dropout 0.1, q_lin/v_lin', epochs: 30, batchSize: 8, lr: 3e-3 },
      thresholds: 'f1At05: score > 0.5; f1AtSupport: F1-maximising threshold on leave-one-out scores of the 2k labelled examples',
      summary, runs,
    };
    const rows = Object.entries(summary).map(([k, s]) => [k, cell(s.auroc), cell(s.f1At05), cell(s.f1AtSupport), s.meanShots === undefined ? '–' : cell(s.meanShots), cell(s.seconds)]);
    const md = markdownTable(['detector', 'AUROC', 'F1 @0.5', 'F1 @support thr', 'shots in prompt', 'seconds'], rows);
    const dir = join(process.cwd(), 'results', 'fewshot');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${args.out ?? 'sms'}.json`), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(dir, `${args.out ?? 'sms'}.md`), `${md}\n`);
    return { result, md };
  };
  const done: number[] = [];
  let last = report(done);
  for (const seed of SEEDS) {
    const { examples } = drawFewShot(train, K, seed);
    let t0 = Date.now();
    runs['knn-distilbert']?.push(runDetector(fitFewShot(bert, examples, { method: 'knn' }), texts, labels, examples, seed, t0));
    t0 = Date.now();
    runs['knn-llama']?.push(runDetector(fitFewShot(llama, examples, { method: 'knn' }), texts, labels, examples, seed, t0));
    t0 = Date.now();
    runs['prompt-llama']?.push(runDetector(fitFewShot(llama, examples, { method: 'prompt', labelWords: ['ham', 'spam'] }), promptTexts.texts, labels, examples, seed, t0));
    if (EXAMPLE_TOKENS !== undefined) {
      t0 = Date.now();
      runs[`prompt-llama-cut${EXAMPLE_TOKENS}`]?.push(runDetector(fitFewShot(llama, examples, { method: 'prompt', labelWords: ['ham', 'spam'], exampleMaxTokens: EXAMPLE_TOKENS }), promptTexts.texts, labels, examples, seed, t0));
    }
    if (runs['contrastive-knn'] !== undefined) {
      const hook = defaultFewShotHook(bert);
      const hams = examples.filter((e) => e.label === 0).map((e) => e.text);
      const maha = (): number[] => {
        const det = fitMahalanobis(extractPooledFeatures(bert, hams, { hookName: hook }));
        return det.score(extractPooledFeatures(bert, texts, { hookName: hook }));
      };
      t0 = Date.now();
      // Mahalanobis fit on the k hams only (no spam label used): AUROC only, no labelled threshold for F1.
      const mahaScores = maha();
      runs['mahalanobis-distilbert']?.push({ seed, auroc: rocAuc(mahaScores, labels), f1At05: NaN, f1AtSupport: NaN, supportThreshold: NaN, seconds: (Date.now() - t0) / 1000 });
      t0 = Date.now();
      const c = contrastiveFinetune(bert, { normal: hams, anomalous: examples.filter((e) => e.label === 1).map((e) => e.text) }, { epochs: 30, batchSize: 8, lr: 3e-3, seed, quiet: true });
      progress(NAME, `seed ${seed}: contrastive loss ${c.lossBefore.toFixed(3)} → ${c.lossAfter.toFixed(3)} (${c.stepsRun} steps, ${c.trainable} trainable)`);
      runs['contrastive-knn']?.push(runDetector(fitFewShot(bert, examples, { method: 'knn' }), texts, labels, examples, seed, t0));
      const cm = maha();
      runs['contrastive-mahalanobis']?.push({ seed, auroc: rocAuc(cm, labels), f1At05: NaN, f1AtSupport: NaN, supportThreshold: NaN, seconds: (Date.now() - t0) / 1000 });
      bert.adapters.remove();
    }
    done.push(seed);
    last = report(done); // results files rewritten after every seed
    progress(NAME, `seed ${seed}: ${Object.entries(runs).map(([k, v]) => `${k} AUROC ${v.at(-1)?.auroc.toFixed(3)}`).join(', ')}`);
  }
  bert.dispose();
  llama.dispose();
  process.stdout.write(args.json === true ? `${JSON.stringify(last.result)}\n` : `${last.md}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${NAME}: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
