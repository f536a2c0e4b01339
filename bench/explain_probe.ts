/**
 * Benchmark (issue 21, item 4, the β-VAE probe): token explanations of the shipped SMS-spam probe's
 * anomaly score and which SAE features of the probed activation carry it.
 *
 * Texts: a seeded sample of --per-class spam and ham messages (default 100 + 100) from the test split
 * of `loadProbeSplits('sms_spam', { seed: 0 })` — the split the shipped probe was trained with, so none
 * of them was seen in training. The probe (models/distilbert-mini/probe/sms_spam/, the CLI's dev choice
 * `vae_recon_sqrtn`) scores a text by the β-VAE reconstruction MSE of the √n-pooled
 * `blocks.0.attn.hook_q` of distilbert-mini, √n·(mean − μ_tok) (z = μ, no sampling; the pooling is read
 * from the probe's metadata). Per text: gradient × input and integrated gradients (--steps, PAD baseline) at
 * `embed.hook_embed` for that score; the deletion check (drop the top-k attributed tokens vs k random
 * ones, [CLS]/[SEP] kept, k = 1…5). With an SAE on the hook (default the shipped
 * saes/distilbert-mini/blocks.0.attn.hook_q/, or --sae DIR): attribution patching over SAE features
 * (encode per token, then pool), the top --top-k features ablated one at a time, and per text the
 * Spearman correlation of attribution with ablation effect over those features, the shares of the
 * first-order attribution mass (Σ|feature attributions| + |SAE error| + |bias|) carried by the top 5
 * features, all features, the SAE error and the bias, and Σ|ablation effect| of the top 5 over the score.
 * The same agreement for integrated gradients over the features (F → αF, --steps). Deletion is run twice: tokens dropped from the sequence, and replaced by [MASK] (length kept). One example token page with the SAE section is written to
 * results/explain_probe/. Markdown on stdout, or one JSON object with --json.
 * Run: npx tsx bench/explain_probe.ts [--per-class 100] [--steps 16] [--top-k 10] [--sae DIR] [--seed 0] [--json]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { deletionCurve, type DeletionCurve } from '../src/anomaly/deletion.js';
import { gradTimesInput, integratedGradients, tokenizeForExplain, type TokenAttribution } from '../src/anomaly/explain.js';
import { explanationLine } from '../src/anomaly/explain_text.js';
import { probeTarget } from '../src/anomaly/probe_explain.js';
import { explainProbeBySaeFeatures, probeSaeLine, type ProbeSaeExplanation } from '../src/anomaly/probe_explain_sae.js';
import { initBackend } from '../src/backend/backend.js';
import { intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import { HookedEncoder } from '../src/model/encoder/hooked_encoder.js';
import { loadProbeSplits } from '../src/probe/probe_splits.js';
import { rocAuc } from '../src/probe/metrics.js';
import { loadBetaVae } from '../src/probe/vae_io.js';
import { loadSae } from '../src/sae/io.js';
import { packageRoot } from '../src/utils/package_root.js';
import { seededRng } from '../src/utils/rng.js';
import { writeTokenExplanation } from '../src/viz/token_explanation.js';
import { cell, markdownTable, meanStd, progress } from './finetune_common.js';

const NAME = 'bench/explain_probe';
const OPTIONS = {
  'per-class': { type: 'string' }, steps: { type: 'string' }, 'top-k': { type: 'string' }, sae: { type: 'string' },
  seed: { type: 'string' }, json: { type: 'boolean', default: false },
} as const;

/** Spearman rank correlation (average ranks for ties); NaN for fewer than 3 pairs or a constant side. */
function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length < 3) return NaN;
  const ranks = (x: readonly number[]): number[] => {
    const o = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(x.length);
    for (let i = 0; i < o.length;) {
      let j = i;
      while (j + 1 < o.length && (o[j + 1] as readonly [number, number])[0] === (o[i] as readonly [number, number])[0]) j++;
      for (let k = i; k <= j; k++) r[(o[k] as readonly [number, number])[1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const [ra, rb] = [ranks(a), ranks(b)];
  const m = (ra.length - 1) / 2;
  let [num, da, db] = [0, 0, 0];
  ra.forEach((x, i) => {
    const y = rb[i] as number;
    num += (x - m) * (y - m);
    da += (x - m) ** 2;
    db += (y - m) ** 2;
  });
  return da === 0 || db === 0 ? NaN : num / Math.sqrt(da * db);
}

/** Seeded sample of k indices from `pool`. */
function sample(pool: readonly number[], k: number, seed: number): number[] {
  const rand = seededRng(seed);
  const a = [...pool];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a.slice(0, k);
}

/** Agreement of attribution with true ablation over each text's top features. */
function agreement(rs: readonly ProbeSaeExplanation[]): { spearmanPerText: ReturnType<typeof meanStd>; spearmanPooled: number; signAgreement: number; medianRelError: number } {
  const rho = rs.map((r) => spearman(r.features.map((f) => f.attribution), r.features.map((f) => f.ablationEffect)));
  const signAgree = rs.flatMap((r) => r.features.map((f): number => (Math.sign(f.attribution) === Math.sign(f.ablationEffect) ? 1 : 0)));
  const relErr = rs.flatMap((r) => r.features.map((f) => Math.abs(f.attribution - f.ablationEffect) / Math.max(Math.abs(f.ablationEffect), 1e-9))).sort((a, b) => a - b);
  return {
    spearmanPerText: meanStd(rho.filter((x) => Number.isFinite(x))),
    spearmanPooled: spearman(rs.flatMap((r) => r.features.map((f) => f.attribution)), rs.flatMap((r) => r.features.map((f) => f.ablationEffect))),
    signAgreement: signAgree.reduce((a, b) => a + b, 0) / signAgree.length, medianRelError: relErr[Math.floor(relErr.length / 2)] as number,
  };
}

const curveRows = (c: DeletionCurve): string[][] => c.topK.map((t, k) => [String(t.k), cell(t), cell(c.random[k] as DeletionCurve['random'][number]), t.mean > (c.random[k]?.mean ?? Infinity) ? 'yes' : 'no']);

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const perClass = intOption(NAME, v['per-class'], 'per-class', { dflt: 100, min: 2 });
  const steps = intOption(NAME, v.steps, 'steps', { dflt: 16, min: 1 });
  const topK = intOption(NAME, v['top-k'], 'top-k', { dflt: 10, min: 3 });
  const seed = intOption(NAME, v.seed, 'seed', { dflt: 0, min: 0 });
  const root = packageRoot();
  await initBackend(undefined, { quiet: true });
  const t0 = performance.now();
  const enc = await HookedEncoder.fromPretrained('distilbert-mini', { quiet: true });
  const probe = await loadBetaVae(join(root, 'models/distilbert-mini/probe/sms_spam'));
  const saeDir = v.sae ?? join(root, 'saes/distilbert-mini/blocks.0.attn.hook_q');
  const sae = existsSync(join(saeDir, 'cfg.json')) ? await loadSae(saeDir) : undefined;
  if (sae === undefined) progress(NAME, `no SAE at ${saeDir}: the SAE-feature part is skipped`);
  try {
    const sp = await loadProbeSplits('sms_spam', { maxTrain: 1000, maxDev: 300, maxTest: 500, seed: 0 });
    const byClass = (y: 0 | 1): number[] => sp.test.labels.map((l, i) => (l === y ? i : -1)).filter((i) => i >= 0);
    const idx = [...sample(byClass(1), perClass, seed + 1), ...sample(byClass(0), perClass, seed + 2)];
    const texts = idx.map((i) => sp.test.texts[i] as string);
    const labels = idx.map((i) => sp.test.labels[i] as 0 | 1);
    const target = probeTarget(enc, probe);
    const metaLen = probe.metadata['maxLength'];
    const maxLen = typeof metaLen === 'number' ? metaLen : 128;
    const tok = tokenizeForExplain(enc, texts, maxLen);
    const rows = tok.ids.map((r, i) => r.filter((_, j) => tok.mask[i]?.[j] === 1));
    const gx: TokenAttribution[] = [];
    const ig: TokenAttribution[] = [];
    const sae5: ProbeSaeExplanation[] = [];
    const saeIg: ProbeSaeExplanation[] = [];
    rows.forEach((ids, i) => {
      gx.push(gradTimesInput(target, ids));
      ig.push(integratedGradients(target, ids, undefined, { steps }));
      if (sae !== undefined) {
        sae5.push(explainProbeBySaeFeatures(probe, sae, enc, texts[i] as string, { topK, maxLength: maxLen }));
        saeIg.push(explainProbeBySaeFeatures(probe, sae, enc, texts[i] as string, { topK, maxLength: maxLen, method: 'integrated_gradients', steps }));
      }
      if ((i + 1) % 20 === 0 || i + 1 === rows.length) progress(NAME, `explained ${i + 1}/${rows.length} texts (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    });
    const scores = gx.map((a) => a.score);
    const auroc = rocAuc(scores, labels);
    // Deletion: dropped from the sequence (the text gets shorter, and this score is length-sensitive), and
    // replaced by [MASK] (the length is kept).
    const maskId = enc.tokenizer?.maskTokenId ?? 103;
    const curves: Record<string, DeletionCurve> = {};
    for (const [m, attrs] of [['grad_x_input', gx], ['integrated_gradients', ig]] as const) {
      curves[`${m}, drop`] = deletionCurve(target, attrs, { maxK: 5, randomDraws: 5, seed });
      curves[`${m}, replace by [MASK]`] = deletionCurve(target, attrs, { maxK: 5, randomDraws: 5, seed, mode: 'replace', replaceId: maskId });
    }
    const gaps = ig.map((a) => Math.abs(a.completenessGap as number) / Math.max(Math.abs(a.score - (a.baselineScore as number)), 1e-9));
    // SAE-feature agreement, per text.
    const saeStats = sae5.length === 0 ? undefined : (() => {
      // Shares of the first-order attribution mass Σ|feature attributions| + |error| + |bias| (well defined when the signed total is near 0).
      const mass = (r: ProbeSaeExplanation): number => r.featureAbsTotal + Math.abs(r.errorTerm) + Math.abs(r.biasTerm);
      const top5Attr = sae5.map((r) => r.features.slice(0, 5).reduce((s, f) => s + Math.abs(f.attribution), 0) / mass(r));
      const top5Abl = sae5.map((r) => r.features.slice(0, 5).reduce((s, f) => s + Math.abs(f.ablationEffect), 0) / r.score);
      const errShare = sae5.map((r) => Math.abs(r.errorTerm) / mass(r));
      const biasShare = sae5.map((r) => Math.abs(r.biasTerm) / mass(r));
      const featShare = sae5.map((r) => r.featureAbsTotal / mass(r));
      return {
        ...agreement(sae5), integratedGradients: agreement(saeIg),
        top5ShareOfAttributionMass: meanStd(top5Attr), allFeaturesShareOfAttributionMass: meanStd(featShare), errorShareOfAttributionMass: meanStd(errShare), biasShareOfAttributionMass: meanStd(biasShare),
        top5AbsAblationOverScore: meanStd(top5Abl),
        activeFeatures: meanStd(sae5.map((r) => r.activeFeatures)),
      };
    })();
    // One example page: the highest-scoring spam text.
    const out = join(root, 'results', 'explain_probe');
    mkdirSync(out, { recursive: true });
    const ex = scores.map((s, i) => [s, i] as const).filter(([, i]) => labels[i] === 1).sort((a, b) => b[0] - a[0])[0]?.[1] ?? 0;
    const strs = enc.toStrTokens([rows[ex] ?? []]);
    const sx = sae5[ex];
    const page = writeTokenExplanation(join(out, 'example_spam.html'), strs, [
      { method: 'gradient × input', values: (gx[ex] as TokenAttribution).attributions },
      { method: `integrated gradients (${steps} steps, PAD baseline)`, values: (ig[ex] as TokenAttribution).attributions },
    ], {
      title: 'Why does the β-VAE probe score this message?', score: scores[ex] as number, scoreName: target.name,
      summary: explanationLine((ig[ex] as TokenAttribution).attributions.some((x) => x > 0) ? ig[ex] as TokenAttribution : gx[ex] as TokenAttribution, strs),
      ...(sx === undefined ? {} : { saeFeatures: { summary: probeSaeLine(sx), features: sx.features } }),
    });
    const seconds = +((performance.now() - t0) / 1000).toFixed(1);
    const thr = probe.metadata['threshold'];
    const flagged = typeof thr === 'number' ? { threshold: thr, flaggedSpam: scores.filter((x, i) => labels[i] === 1 && x > thr).length / perClass, flaggedHam: scores.filter((x, i) => labels[i] === 0 && x > thr).length / perClass } : null;
    const result = {
      bench: NAME, texts: { spam: perClass, ham: perClass, seed, split: "loadProbeSplits('sms_spam', seed 0).test" }, score: target.name,
      probe: { pooling: probe.metadata['pooling'] ?? 'mean', devPick: probe.metadata['devPick'] ?? null, ...(flagged ?? {}) },
      probeAurocOnSample: auroc, meanScore: { spam: meanStd(scores.filter((_, i) => labels[i] === 1)), ham: meanStd(scores.filter((_, i) => labels[i] === 0)) },
      igSteps: steps, igRelativeGap: meanStd(gaps), deletion: curves, sae: saeStats === undefined ? null : { dir: saeDir, topK, ...saeStats },
      exampleLine: sx === undefined ? null : probeSaeLine(sx), page, seconds,
    };
    const summary = { ...result, page: relative(root, page), sae: result.sae === null ? null : { ...result.sae, dir: relative(root, saeDir) || saeDir }, deletion: Object.fromEntries(Object.entries(curves).map(([k, c]) => [k, { topK: c.topK, random: c.random, topBeatsRandom: c.topBeatsRandom }])) };
    writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
    if (v.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    const flagLine = flagged === null ? '' : ` Above the probe's threshold ${flagged.threshold.toFixed(3)}: ${(100 * flagged.flaggedSpam).toFixed(0)}% of spam, ${(100 * flagged.flaggedHam).toFixed(0)}% of ham.`;
    const lines = [`# β-VAE probe explanations — ${perClass} spam + ${perClass} ham SMS test messages (${seconds} s)`, '', `Score: ${target.name}; AUROC on this sample ${auroc.toFixed(3)}; IG relative completeness gap ${cell(meanStd(gaps))}.${flagLine}`, ''];
    for (const [m, c] of Object.entries(curves)) lines.push(`Deletion (${m}): mean score drop ± std`, '', markdownTable(['k', 'top-k', 'random', 'top > random'], curveRows(c)), '');
    if (saeStats !== undefined) {
      lines.push(`SAE features (${saeDir}, top ${topK} per text, attribution patching vs true ablation):`, '', markdownTable(['figure', 'value'], [
        ['Spearman(attribution, ablation) per text', cell(saeStats.spearmanPerText)], ['Spearman pooled over all top features', saeStats.spearmanPooled.toFixed(3)],
        ['sign agreement', saeStats.signAgreement.toFixed(3)], ['median |attr − abl| / |abl|', saeStats.medianRelError.toFixed(3)],
        [`integrated gradients over features (${steps} steps): Spearman with ablation per text`, cell(saeStats.integratedGradients.spearmanPerText)],
        ['integrated gradients: Spearman pooled / sign agreement', `${saeStats.integratedGradients.spearmanPooled.toFixed(3)} / ${saeStats.integratedGradients.signAgreement.toFixed(3)}`],
        ['top-5 features: share of the attribution mass', cell(saeStats.top5ShareOfAttributionMass)], ['all features: share of the attribution mass', cell(saeStats.allFeaturesShareOfAttributionMass)],
        ['SAE error: share of the attribution mass', cell(saeStats.errorShareOfAttributionMass)], ['decoder bias: share of the attribution mass', cell(saeStats.biasShareOfAttributionMass)],
        ['Σ |ablation effect| of the top 5 / score', cell(saeStats.top5AbsAblationOverScore)],
        ['active features per text', cell(saeStats.activeFeatures)],
      ]), '', `Example: ${result.exampleLine ?? ''}`);
    }
    lines.push('', `Page: ${page}; figures: ${join(out, 'summary.json')}`);
    console.log(lines.join('\n'));
    return 0;
  } finally {
    enc.dispose();
    probe.vae.dispose();
    sae?.dispose();
  }
}

runCliMain(NAME, main);
