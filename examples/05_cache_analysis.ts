/**
 * Example 5: analyse an activation cache as in TransformerLens's demos — logit lens, direct logit
 * attribution (per layer and per head), head detection (previous-token, duplicate-token, induction),
 * the induction eval and testPrompt — and write Plotly pages.
 * Default model: the shipped `llama-mini` on a real sentence (answer ' seen' vs ' made' after
 * "… one of the best films I have ever"). A model trained on a token range (`--model induction-2l`,
 * range in its safetensors metadata) gets a repeated sequence from that range instead, and its
 * induction eval draws from that range too (ids outside it were never trained).
 * Run: npx tsx examples/05_cache_analysis.ts [--model llama-mini] [--prompt "…" --answer " seen" --wrong " made"]
 *   [--induction-len 20] [--out results/analysis] [--json]
 * `--model gpt2` needs the Hugging Face hub (network) or a copy in the HF cache.
 */
import { join } from 'node:path';
import { HookedTransformer, tf } from '../src/index.js';
import { directLogitAttribution, logitLens } from '../src/analysis/index.js';
import { checkpointTokenRange } from '../src/circuits/index.js';
import { intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import { detectHead, inductionLoss, inductionScores, testPrompt } from '../src/evals/index.js';
import { resolveAlias } from '../src/model/aliases.js';
import { seededRng } from '../src/utils/rng.js';
import { writeAttentionPatterns, writeDlaBarChart, writeHeatmap, writeLogitLensPlot } from '../src/viz/index.js';

const NAME = 'examples/05_cache_analysis';
const OPTIONS = {
  model: { type: 'string', default: 'llama-mini' },
  prompt: { type: 'string', default: 'I loved this movie. It was one of the best films I have ever' },
  answer: { type: 'string', default: ' seen' },
  wrong: { type: 'string', default: ' made' },
  'induction-len': { type: 'string' },
  out: { type: 'string', default: 'results/analysis' },
  json: { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parseCliArgs<typeof OPTIONS>>['values'];

/** The prompt and the answer/distractor pair: text for a language model; a repeated in-range sequence otherwise. */
function promptAndAnswers(model: HookedTransformer, v: Values, range: [number, number] | undefined): { tokens: number[]; answer: number; wrong: number; text: string } {
  if (range === undefined && model.tokenizer !== undefined) {
    const t = model.toTokens(v.prompt);
    const tokens = (t.arraySync() as number[][])[0] as number[];
    t.dispose();
    return { tokens, answer: model.toSingleToken(v.answer), wrong: model.toSingleToken(v.wrong), text: v.prompt };
  }
  // BOS r1 … r8 r1 … r7: by induction the next token is r8; the distractor is another in-range token.
  const [lo, hi] = range ?? [0, model.cfg.dVocab];
  const rand = seededRng(0);
  const seg = Array.from({ length: 8 }, () => lo + Math.floor(rand() * (hi - lo)));
  const wrong = seg[0] === lo ? lo + 1 : lo;
  const bos = model.cfg.bosTokenId === undefined ? [] : [model.cfg.bosTokenId];
  return { tokens: [...bos, ...seg, ...seg.slice(0, -1)], answer: seg[7] as number, wrong, text: `repeated random tokens from [${lo}, ${hi})` };
}

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const log = (line: string): void => void (v.json ? process.stderr : process.stdout).write(`${line}\n`);
  const model = await HookedTransformer.fromPretrained(v.model, { quiet: true });
  try {
    const { nLayers, nHeads, nCtx, dVocab } = model.cfg;
    const inductionLen = intOption(NAME, v['induction-len'], 'induction-len', { dflt: Math.min(20, Math.floor(nCtx / 2)), min: 2, max: Math.floor(nCtx / 2) });
    const range = checkpointTokenRange(resolveAlias(v.model)); // the ids the model was trained on, when recorded
    const { tokens, answer, wrong, text } = promptAndAnswers(model, v, range);
    const tok = model.tokenizer;
    const name = (id: number): string => (tok === undefined ? `#${id}` : JSON.stringify(tok.decodeToken(id)));
    const strTokens = tokens.map((id) => (tok === undefined ? String(id) : tok.decodeToken(id)));
    const [logits, cache] = model.runWithCache([tokens]);
    const last = tf.tidy(() => Array.from(tf.slice(logits, [0, tokens.length - 1, 0], [1, 1, -1]).dataSync()));
    logits.dispose();
    const logitDiff = (last[answer] ?? 0) - (last[wrong] ?? 0);
    log(`${v.model} on ${text}\nprompt: ${strTokens.join('|')}\nanswer ${name(answer)} vs ${name(wrong)}: logit difference ${logitDiff.toFixed(4)}`);

    const files: string[] = [];
    const page = (file: string): string => join(v.out, file);
    // Logit lens: the two logits at each layer boundary, last position.
    const lens = logitLens(cache, model, { targets: [answer, wrong], topK: 5 });
    files.push(writeLogitLensPlot(page('logit_lens.html'), {
      labels: lens.labels,
      series: [
        { name: `logit ${name(answer)}`, values: lens.values.map((x) => x[0]?.[0] ?? 0) },
        { name: `logit ${name(wrong)}`, values: lens.values.map((x) => x[0]?.[1] ?? 0) },
      ],
    }, { title: `Logit lens on ${v.model}: ${name(answer)} vs ${name(wrong)} at the last position`, xLabel: 'residual stream (k_pre: before layer k; final_post: after the last layer)', yLabel: 'logit (final norm + unembedding)' }));

    // Direct logit attribution of the logit difference, per layer and per head.
    const dlaLayer = directLogitAttribution(cache, model, { tokens: answer, incorrectTokens: wrong, granularity: 'layer' });
    const dlaHead = directLogitAttribution(cache, model, { tokens: answer, incorrectTokens: wrong, granularity: 'head' });
    const dlaTitle = (per: string): string => `Direct logit attribution of logit(${name(answer)}) − logit(${name(wrong)}), per ${per}`;
    files.push(writeDlaBarChart(page('dla_layers.html'), dlaLayer.labels, dlaLayer.mean, { title: dlaTitle('layer'), yLabel: 'contribution to the logit difference' }));
    files.push(writeDlaBarChart(page('dla_heads.html'), dlaHead.labels, dlaHead.mean, { title: dlaTitle('head') }));
    const dlaSum = dlaHead.mean.reduce((a, x) => a + x, 0) + (dlaHead.unembedBias[0] ?? 0);
    log(`DLA: Σ components + b_U term = ${dlaSum.toFixed(4)} (model logit difference ${logitDiff.toFixed(4)})`);

    // Attention patterns of every head, with string tokens.
    const patterns = Array.from({ length: nLayers }, (_, l) => (cache.get('pattern', l).arraySync() as number[][][][])[0] as number[][][]);
    cache.dispose();
    files.push(writeAttentionPatterns(page('attention.html'), patterns, { tokens: strTokens, title: `Attention patterns of ${v.model} (every layer and head)` }));
    files.push(writeAttentionPatterns(page('attention_grid_L0.html'), patterns[0] ?? [], { tokens: strTokens, layer: 0, mode: 'grid', title: `Attention patterns of ${v.model}, layer 0` }));

    // Head detector on a repeated sequence; the induction eval on repeated random tokens from the model's range.
    const half = tokens.slice(1, Math.min(tokens.length, 9));
    const repeated = [tokens[0] ?? 0, ...half, ...half];
    const heads = ['previous_token_head', 'duplicate_token_head', 'induction_head'] as const;
    const detected = Object.fromEntries(heads.map((h) => [h, detectHead(model, repeated, h)])) as Record<(typeof heads)[number], number[][]>;
    const headLabels = Array.from({ length: nHeads }, (_, h) => `H${h}`);
    const layerLabels = Array.from({ length: nLayers }, (_, l) => `L${l}`);
    for (const h of heads) {
      files.push(writeHeatmap(page(`head_detector_${h}.html`), detected[h], {
        title: `Head detector on ${v.model}: ${h.replace(/_/g, ' ')} score`, xLabels: headLabels, yLabels: layerLabels, xLabel: 'head', yLabel: 'layer',
        zLabel: `${h.replace(/_/g, ' ')} score (0–1)`, range: 'unit',
      }));
    }
    const [low, high] = range ?? [Math.min(100, Math.floor(dVocab / 10)), Math.min(20000, dVocab)]; // TL's default range otherwise
    const induction = inductionScores(model, { seed: 0, low, high, seqLen: inductionLen });
    const loss = inductionLoss(model, { seed: 0, low, high, subseqLen: inductionLen });
    const uniformLoss = Math.log(high - low);
    files.push(writeHeatmap(page('induction_scores.html'), induction.scores, {
      title: `Induction score per head on ${v.model} (tokens from [${low}, ${high}), length ${inductionLen} repeated)`,
      xLabels: headLabels, yLabels: layerLabels, xLabel: 'head', yLabel: 'layer', zLabel: 'induction score (0–1)', range: 'unit',
    }));
    const verdict = loss < uniformLoss
      ? 'below uniform: the model copies the repeated half'
      : 'not below uniform: this model does not copy repeated random tokens (no working induction heads; try --model induction-2l)';
    log(`induction loss on the repeated half of random tokens from [${low}, ${high}): ${loss.toFixed(4)} nats (uniform over the range: ln ${high - low} = ${uniformLoss.toFixed(4)}; ${verdict})`);

    // testPrompt: TL's report for the answer token.
    const prompt = testPrompt(model, tokens, [answer], { print: (l) => log(l), topK: 5 });
    if (v.json) {
      process.stdout.write(`${JSON.stringify({
        example: '05_cache_analysis', model: v.model, text, tokens, strTokens, answer, incorrect: wrong, logitDiff,
        logitLens: { labels: lens.labels, answerRank: lens.ranks.map((r) => r[0]?.[0]), answerLogit: lens.values.map((x) => x[0]?.[0]) },
        dla: { layers: { labels: dlaLayer.labels, mean: dlaLayer.mean }, heads: { labels: dlaHead.labels, mean: dlaHead.mean }, unembedBias: dlaHead.unembedBias[0], sum: dlaSum },
        headDetector: detected,
        induction: { loss, uniformLoss, belowUniform: loss < uniformLoss, tokenRange: [low, high], seqLen: inductionLen, scores: induction.scores },
        testPrompt: { rank: prompt.ranks[0]?.[1], prob: prompt.positions[0]?.answers[0]?.prob },
        files,
      })}\n`);
    } else for (const f of files) log(`wrote ${f}`);
  } finally {
    model.dispose();
  }
  return 0;
}

await runCliMain(NAME, main);
