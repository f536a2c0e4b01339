/**
 * Benchmark (issue 21, item 4): explanations of a fine-tuned spam classifier and their faithfulness.
 * distilbert-mini gets a new head and a LoRA adapter (r = 8, α = 16, q_lin/v_lin + the head, weighted
 * CE, lr 3e-3 — bench/finetune_sms.ts's LoRA settings) trained on `loadSmsSpam({ split: 'train' })`
 * (every spam message and ham up to --max-train rows, default 1500; every 10th row held out for the threshold); the trained model is saved merged under
 * results/explain/model/ so reruns load it (--retrain trains again). On `loadSmsSpam({ split: 'test' })`
 * every message is explained by gradient × input, integrated gradients (PAD baseline) at
 * `embed.hook_embed`, and attention rollout at [CLS], for the score logit(spam) − logit(ham). The
 * deletion check drops (removes from the sequence; [CLS]/[SEP] kept) the top-k attributed tokens vs k
 * random tokens, k = 1…5, and reports the mean drop of the score ± std over the messages. Also: the IG
 * completeness gap, the direct-logit decomposition (linearised, post-LN) averaged over test spam, and
 * 5 example token pages. Progress on stderr; a markdown table on stdout, or one JSON object with --json;
 * files in results/explain/.
 * Run: npx tsx bench/explain_sms.ts [--max-texts N] [--max-train 1500] [--steps 16] [--epochs 2] [--max-len 64] [--retrain] [--json]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifierTarget, gradTimesInput, integratedGradients, scoresOf, tokenizeForExplain, type ExplainModel, type TokenAttribution } from '../src/anomaly/explain.js';
import { classifierDla } from '../src/anomaly/explain_dla.js';
import { explanationLine } from '../src/anomaly/explain_text.js';
import { deletionCurve, type DeletionCurve } from '../src/anomaly/deletion.js';
import { rolloutAttribution } from '../src/anomaly/rollout.js';
import { initBackend } from '../src/backend/backend.js';
import { intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import { loadClassifier, trainAndEvaluate, type RunSpec } from '../src/cli/commands/finetune_run.js';
import { loadSmsSpam } from '../src/data/corpora.js';
import { packageRoot } from '../src/utils/package_root.js';
import { writeLinePlot } from '../src/viz/charts.js';
import { writeTokenExplanation } from '../src/viz/token_explanation.js';
import { cell, markdownTable, meanStd, progress } from './finetune_common.js';

const NAME = 'bench/explain_sms';
const OPTIONS = {
  'max-texts': { type: 'string' }, steps: { type: 'string' }, epochs: { type: 'string' }, 'max-len': { type: 'string' },
  'random-draws': { type: 'string' }, 'max-train': { type: 'string' }, retrain: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
} as const;
const CLASSES = ['ham', 'spam'];

async function classifier(dir: string, retrain: boolean, epochs: number, maxLen: number, maxTrain: number): Promise<{ model: ExplainModel; training: Record<string, unknown> }> {
  if (!retrain && existsSync(join(dir, 'config.json'))) {
    progress(NAME, `loading the fine-tuned classifier from ${dir}`);
    return { model: await loadClassifier(dir, CLASSES, 0), training: { loadedFrom: dir } };
  }
  // Every spam message of the train split and the first ham ones up to maxTrain rows (split order is seeded).
  const all = await loadSmsSpam({ split: 'train' });
  const nSpam = all.filter((r) => r.label === 'spam').length;
  let ham = 0;
  const rows = all.filter((r) => r.label === 'spam' || ham++ < Math.max(0, maxTrain - nSpam));
  const part = (rs: typeof rows) => ({ texts: rs.map((r) => r.text), labels: rs.map((r) => (r.label === 'spam' ? 1 : 0)) });
  const train = part(rows.filter((_, i) => i % 10 !== 9));
  const val = part(rows.filter((_, i) => i % 10 === 9));
  const test = part(await loadSmsSpam({ split: 'test' }));
  const spec: RunSpec = { mode: 'lora', lora: { r: 8, alpha: 16, dropout: 0.1 }, loss: 'weighted', focalGamma: 2, epochs, batch: 16, lr: 3e-3, maxLen, seed: 0 };
  const model = await loadClassifier('distilbert-mini', CLASSES, 0);
  progress(NAME, `fine-tuning distilbert-mini (LoRA r=8 + head, ${epochs} epochs, ${train.texts.length} rows)`);
  const r = trainAndEvaluate(model, { train, val, test }, spec, CLASSES, { quiet: false });
  progress(NAME, `trained in ${r.seconds.toFixed(0)} s: test F1 ${r.metrics.f1?.toFixed(3)}, ROC-AUC ${r.metrics.rocAuc?.toFixed(3)}`);
  model.mergeAdapter();
  await model.saveHf(dir);
  return { model, training: { spec, trainRows: train.texts.length, seconds: r.seconds, testF1: r.metrics.f1, testRocAuc: r.metrics.rocAuc } };
}

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const maxTexts = intOption(NAME, v['max-texts'], 'max-texts', { dflt: 1_000_000, min: 5 });
  const steps = intOption(NAME, v.steps, 'steps', { dflt: 16, min: 1 });
  const epochs = intOption(NAME, v.epochs, 'epochs', { dflt: 2, min: 1 });
  const maxLen = intOption(NAME, v['max-len'], 'max-len', { dflt: 64, min: 4 });
  const draws = intOption(NAME, v['random-draws'], 'random-draws', { dflt: 5, min: 1 });
  await initBackend(undefined, { quiet: true });
  const out = join(packageRoot(), 'results', 'explain');
  mkdirSync(out, { recursive: true });
  const maxTrain = intOption(NAME, v['max-train'], 'max-train', { dflt: 1500, min: 10 });
  const { model, training } = await classifier(join(out, 'model'), v.retrain, epochs, maxLen, maxTrain);
  const target = classifierTarget(model, 1, 0);
  const test = (await loadSmsSpam({ split: 'test' })).slice(0, maxTexts);
  const tok = tokenizeForExplain(model, test.map((r) => r.text), maxLen);
  const rows = tok.ids.map((r, i) => r.filter((_, j) => tok.mask[i]?.[j] === 1));
  const labels = test.map((r) => (r.label === 'spam' ? 1 : 0));
  const methods: Record<string, TokenAttribution[]> = { grad_x_input: [], integrated_gradients: [], attention_rollout: [] };
  const t0 = performance.now();
  rows.forEach((ids, i) => {
    methods['grad_x_input']?.push(gradTimesInput(target, ids));
    methods['integrated_gradients']?.push(integratedGradients(target, ids, undefined, { steps, baseline: 'pad' }));
    methods['attention_rollout']?.push({ ...rolloutAttribution(model, ids), score: methods['grad_x_input']?.[i]?.score ?? NaN });
    if ((i + 1) % 100 === 0 || i + 1 === rows.length) progress(NAME, `explained ${i + 1} / ${rows.length} messages (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  });
  const explainSeconds = (performance.now() - t0) / 1000;
  const ig = methods['integrated_gradients'] ?? [];
  const gaps = ig.map((a) => Math.abs(a.completenessGap ?? NaN));
  const relGaps = ig.map((a) => Math.abs(a.completenessGap ?? NaN) / Math.max(1e-6, Math.abs(a.score - (a.baselineScore ?? 0))));
  const curves: Record<string, DeletionCurve> = {};
  for (const [m, attrs] of Object.entries(methods)) {
    curves[m] = deletionCurve(target, attrs, { maxK: 5, mode: 'drop', randomDraws: draws, seed: 0 });
    progress(NAME, `${m}: top-k beats random at every k: ${curves[m]?.topBeatsRandom}`);
  }
  // Direct-logit decomposition over the test spam (mean part per component).
  const spamIdx = labels.map((l, i) => (l === 1 ? i : -1)).filter((i) => i >= 0);
  const dlas = spamIdx.map((i) => classifierDla(model, rows[i] as number[]));
  const dlaMean = (dlas[0]?.parts ?? []).map((p, j) => ({ label: p.label, mean: meanStd(dlas.map((d) => d.parts[j]?.value ?? null)) }));
  const dlaRemainder = meanStd(dlas.map((d) => d.remainder));
  const dlaDiff = meanStd(dlas.map((d) => d.logitDiff));
  // Pages: the deletion curves, and 5 example spam messages (highest scores first).
  const tokStr = (ids: readonly number[]): string[] => ids.map((id) => model.tokenizer?.idToToken(id) ?? String(id));
  const series = Object.entries(curves).flatMap(([m, c]) => [
    { name: `${m}: top-k`, x: c.topK.map((p) => p.k), y: c.topK.map((p) => p.mean), text: c.topK.map((p) => `± ${p.std.toFixed(3)} (n ${p.n})`) },
    { name: `${m}: random k`, x: c.random.map((p) => p.k), y: c.random.map((p) => p.mean), text: c.random.map((p) => `± ${p.std.toFixed(3)} (n ${p.n})`) },
  ]);
  const files: string[] = [writeLinePlot(join(out, 'deletion_curve.html'), series, {
    title: `Deletion check on SMS spam test (${rows.length} messages): score drop when deleting tokens`,
    description: `Mean drop of logit(spam) − logit(ham) of the fine-tuned distilbert-mini when the k tokens ranked highest by each attribution are dropped from the message, vs k random tokens (mean over ${draws} draws per message); [CLS]/[SEP] are never dropped. Hover for ± std over messages.`,
    xLabel: 'k (tokens deleted)', yLabel: 'mean score drop (logit difference)',
  })];
  const scores = scoresOf(target, tok.ids, tok.mask);
  const examples = [...spamIdx].sort((a, b) => (scores[b] as number) - (scores[a] as number)).filter((_, j) => j % Math.max(1, Math.floor(spamIdx.length / 5)) === 0).slice(0, 5);
  const lines: string[] = [];
  examples.forEach((i, e) => {
    const ids = rows[i] as number[];
    const tokens = tokStr(ids);
    const igA = methods['integrated_gradients']?.[i] as TokenAttribution;
    const p = 1 / (1 + Math.exp(-igA.score));
    const line = explanationLine(igA, tokens, { shownScore: p });
    lines.push(line);
    const d = dlas[spamIdx.indexOf(i)];
    const topParts = d === undefined ? '' : [...d.parts].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, 4).map((q) => `${q.label} ${q.value.toFixed(2)}`).join(', ');
    files.push(writeTokenExplanation(join(out, `example_${e}.html`), tokens, [
      { method: 'gradient × input at embed.hook_embed', values: methods['grad_x_input']?.[i]?.attributions ?? [] },
      { method: `integrated gradients (${steps} steps, PAD baseline)`, values: igA.attributions },
      { method: 'attention rollout at [CLS] (Abnar & Zuidema 2020)', values: methods['attention_rollout']?.[i]?.attributions ?? [], unit: 'attention flow (≥ 0)' },
    ], {
      title: `Why is this SMS spam? Example ${e + 1}`, score: igA.score, scoreName: 'logit(spam) − logit(ham), fine-tuned distilbert-mini', summary: `P(spam) ${p.toFixed(3)}: ${line}`,
      facts: [['text', test[i]?.text ?? ''], ['IG completeness gap', (igA.completenessGap ?? NaN).toFixed(4)], ['largest DLA parts (linearised)', topParts]],
    }));
  });
  // The same curves restricted to the test spam (the messages whose spam score is explained).
  const spamCurves = Object.fromEntries(Object.entries(curves).map(([m, c]) => {
    const at = (pick: 'top' | 'random', k: number) => meanStd(spamIdx.map((i) => c.perText[i]?.[pick][k] ?? null));
    return [m, { topK: [0, 1, 2, 3, 4].map((k) => ({ k: k + 1, ...at('top', k) })), random: [0, 1, 2, 3, 4].map((k) => ({ k: k + 1, ...at('random', k) })) }];
  }));
  const spamBeats = Object.fromEntries(Object.entries(spamCurves).map(([m, c]) => [m, c.topK.every((p, k) => p.mean > (c.random[k]?.mean ?? Infinity))]));
  const table = Object.entries(curves).flatMap(([m, c]) => c.topK.map((p, k) => [m, String(p.k), cell(p), cell(c.random[k] ?? { mean: NaN, std: NaN, n: 0 }), (p.mean - (c.random[k]?.mean ?? NaN)).toFixed(3)]));
  const md = [
    markdownTable(['method', 'k', 'top-k drop', 'random-k drop', 'difference'], table),
    `\n${rows.length} test messages (${spamIdx.length} spam); deletion = drop tokens ([CLS]/[SEP] kept); drop of logit(spam) − logit(ham), mean ± std over messages.`,
    `Test spam only (${spamIdx.length}): ${Object.entries(spamCurves).map(([m, c]) => `${m} top-k ${c.topK.map((p) => p.mean.toFixed(2)).join('/')} vs random ${c.random.map((p) => p.mean.toFixed(2)).join('/')} (k = 1…5; top beats random at every k: ${spamBeats[m]})`).join('; ')}.`,
    `IG (${steps} steps, PAD baseline) completeness |gap|: mean ${cell(meanStd(gaps))}; relative to |score − baseline score|: ${cell(meanStd(relGaps))}.`,
    `DLA over test spam (linearised grad × activation, post-LN): logit diff ${cell(dlaDiff)}, remainder ${cell(dlaRemainder)}; largest mean parts: ${[...dlaMean].sort((a, b) => Math.abs(b.mean.mean) - Math.abs(a.mean.mean)).slice(0, 5).map((p) => `${p.label} ${p.mean.mean.toFixed(3)}`).join(', ')}.`,
    ...lines.map((l) => `- ${l}`),
  ].join('\n');
  const config = { model: 'distilbert-mini', maxTexts: rows.length, steps, epochs, maxLen, randomDraws: draws, deletion: 'drop', baseline: 'pad', score: target.name };
  const result = {
    benchmark: 'explain_sms', config, training, explainSeconds, completeness: { absGap: meanStd(gaps), relGap: meanStd(relGaps) },
    deletion: Object.fromEntries(Object.entries(curves).map(([m, c]) => [m, { topK: c.topK, random: c.random, topBeatsRandom: c.topBeatsRandom }])),
    deletionSpamOnly: Object.fromEntries(Object.entries(spamCurves).map(([m, c]) => [m, { ...c, topBeatsRandom: spamBeats[m] }])),
    dla: { logitDiff: dlaDiff, remainder: dlaRemainder, parts: dlaMean }, examples: lines, files,
  };
  writeFileSync(join(out, 'explain_sms.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, 'explain_sms.md'), `${md}\n`);
  model.dispose();
  if (v.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else console.log(md);
  return 0;
}

void runCliMain(NAME, main);
