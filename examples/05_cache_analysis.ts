/**
 * Example 5: analyse an activation cache as in TransformerLens's demos — logit lens, direct logit
 * attribution (per layer and per head), head detection (previous-token, duplicate-token,
 * induction), the induction eval and testPrompt — and write self-contained HTML plots.
 * Run: npx tsx examples/05_cache_analysis.ts [model path or hub id] [--json]
 * Plots go to results/analysis/; `--json` prints one summary object instead of the report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HookedTransformer, tf } from '../src/index.js';
import { directLogitAttribution, logitLens } from '../src/analysis/index.js';
import { detectHead, inductionLoss, inductionScores, testPrompt } from '../src/evals/index.js';
import {
  WHITE_TO_BLUE,
  writeAttentionPatterns,
  writeDlaBarChart,
  writeHeatmap,
  writeLogitLensPlot,
} from '../src/viz/index.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const path = args.find((a) => !a.startsWith('--')) ?? 'tests/fixtures/gpt2-tiny';
const outDir = 'results/analysis';
const log = json ? () => undefined : (...x: unknown[]) => console.log(...x);

const model = await HookedTransformer.fromPretrained(path, { quiet: true });
const { nLayers, nHeads } = model.cfg;

/** The prompt: text with a tokenizer; otherwise the fixture's first input row, or fixed ids. */
function promptTokens(): number[] {
  if (model.tokenizer !== undefined) {
    const t = model.toTokens('When Mary and John went to the store, John gave a drink to');
    const row = t.arraySync()[0] as number[];
    t.dispose();
    return row;
  }
  const ref = join(path, 'reference.json');
  if (existsSync(ref)) return (JSON.parse(readFileSync(ref, 'utf8')) as { inputs: { input_ids: number[][] } }).inputs.input_ids[0] ?? [];
  return Array.from({ length: 12 }, (_, i) => (17 * i + 5) % model.cfg.dVocab);
}

const tokens = promptTokens();
const strTokens = tokens.map((id) => (model.tokenizer === undefined ? String(id) : model.tokenizer.decodeToken(id)));
const [logits, cache] = model.runWithCache([tokens]);
const last = tf.tidy(() => Array.from(tf.slice(logits as tf.Tensor3D, [0, tokens.length - 1, 0], [1, 1, -1]).dataSync()));
(logits as tf.Tensor).dispose();

// Answer vs. distractor: ' Mary' / ' John' with a tokenizer; else the model's top two predictions.
const order = last.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
const [answer, wrong] =
  model.tokenizer !== undefined ? [model.toSingleToken(' Mary'), model.toSingleToken(' John')] : [order[0]?.[1] ?? 0, order[1]?.[1] ?? 1];
const logitDiff = (last[answer] ?? 0) - (last[wrong] ?? 0);
const name = (id: number): string => (model.tokenizer === undefined ? `#${id}` : JSON.stringify(model.tokenizer.decodeToken(id)));
log(`prompt: ${strTokens.join('|')}\nanswer ${name(answer)} vs ${name(wrong)}: logit diff ${logitDiff.toFixed(4)}`);

// Logit lens: the answer's logit and rank at each layer boundary, last position.
const lens = logitLens(cache, model, { targets: [answer, wrong], topK: 5 });
const files: string[] = [];
files.push(
  writeLogitLensPlot(`${outDir}/logit_lens.html`, {
    labels: lens.labels,
    series: [
      { name: `logit ${name(answer)}`, values: lens.values.map((v) => v[0]?.[0] ?? 0) },
      { name: `logit ${name(wrong)}`, values: lens.values.map((v) => v[0]?.[1] ?? 0) },
    ],
  }, { title: 'Logit lens (last position)' }),
);

// Direct logit attribution of the logit difference, per layer and per head.
const dlaLayer = directLogitAttribution(cache, model, { tokens: answer, incorrectTokens: wrong, granularity: 'layer' });
const dlaHead = directLogitAttribution(cache, model, { tokens: answer, incorrectTokens: wrong, granularity: 'head' });
files.push(writeDlaBarChart(`${outDir}/dla_layers.html`, dlaLayer.labels, dlaLayer.mean, { title: 'DLA of the logit difference, per layer' }));
files.push(writeDlaBarChart(`${outDir}/dla_heads.html`, dlaHead.labels, dlaHead.mean, { title: 'DLA of the logit difference, per head' }));
const dlaSum = dlaHead.mean.reduce((a, v) => a + v, 0) + (dlaHead.unembedBias[0] ?? 0);
log(`DLA: Σ components + b_U term = ${dlaSum.toFixed(4)} (model logit diff ${logitDiff.toFixed(4)})`);

// Attention patterns of every head, with string tokens.
const patterns = Array.from({ length: nLayers }, (_, l) => (cache.get('pattern', l).arraySync() as number[][][][])[0] as number[][][]);
files.push(writeAttentionPatterns(`${outDir}/attention.html`, patterns, { tokens: strTokens, title: 'Attention patterns' }));
files.push(writeAttentionPatterns(`${outDir}/attention_grid_L0.html`, patterns[0] ?? [], { tokens: strTokens, layer: 0, mode: 'grid' }));
cache.dispose();

// Head detector on a repeated sequence, and the induction eval on repeated random tokens.
const half = tokens.slice(1, Math.min(tokens.length, 9));
const repeated = [tokens[0] ?? 0, ...half, ...half];
const heads = ['previous_token_head', 'duplicate_token_head', 'induction_head'] as const;
const detected = Object.fromEntries(heads.map((h) => [h, detectHead(model, repeated, h)])) as Record<(typeof heads)[number], number[][]>;
const headLabels = Array.from({ length: nHeads }, (_, h) => `H${h}`);
const layerLabels = Array.from({ length: nLayers }, (_, l) => `L${l}`);
for (const h of heads) {
  files.push(writeHeatmap(`${outDir}/head_detector_${h}.html`, detected[h], {
    title: `Head detector: ${h}`, xLabels: headLabels, yLabels: layerLabels, xLabel: 'head', yLabel: 'layer', zmid: null, colorscale: WHITE_TO_BLUE,
  }));
}
const induction = inductionScores(model, { seed: 0 });
const loss = inductionLoss(model, { seed: 0 });
files.push(writeHeatmap(`${outDir}/induction_scores.html`, induction.scores, {
  title: 'Induction score per head', xLabels: headLabels, yLabels: layerLabels, xLabel: 'head', yLabel: 'layer', zmid: null, colorscale: WHITE_TO_BLUE,
}));
log(`induction loss on repeated random tokens: ${loss.toFixed(4)} (ln d_vocab = ${Math.log(model.cfg.dVocab).toFixed(4)})`);

// testPrompt: TL's report for the answer token.
const prompt = testPrompt(model, tokens, [answer], { print: json ? () => undefined : (l) => console.log(l), topK: 5 });

if (json) {
  console.log(JSON.stringify({
    model: path,
    tokens,
    answer,
    incorrect: wrong,
    logitDiff,
    logitLens: { labels: lens.labels, answerRank: lens.ranks.map((r) => r[0]?.[0]), answerLogit: lens.values.map((v) => v[0]?.[0]) },
    dla: { layers: { labels: dlaLayer.labels, mean: dlaLayer.mean }, heads: { labels: dlaHead.labels, mean: dlaHead.mean }, unembedBias: dlaHead.unembedBias[0], sum: dlaSum },
    headDetector: detected,
    induction: { loss, scores: induction.scores },
    testPrompt: { rank: prompt.ranks[0]?.[1], prob: prompt.positions[0]?.answers[0]?.prob },
    files,
  }));
} else {
  for (const f of files) console.log(`wrote ${f}`);
}
model.dispose();
