/**
 * Example 2: activation patching and attribution patching, the TransformerLens workflow.
 * Clean vs corrupted prompts (token ids from the fixture's `patching/` section), the logit-difference
 * metric, every patching preset (denoising: clean activations into the corrupted run), attribution
 * patching from one backward pass next to each, with the Pearson correlation between the two.
 * Writes results/patching/summary.json; `--json` prints the same summary as one JSON object.
 * Run: npx tsx examples/02_activation_patching.ts [fixture dir] [--json]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writePatchingHeatmap } from '../src/viz/index.js';
import { join } from 'node:path';
import { HookedTransformer, initBackend, NotFoundError, tf } from '../src/index.js';
import { readSafetensorsFile } from '../src/io/index.js';
import {
  attributionPatchMany,
  getActPatchAttnHeadAllPosEvery,
  getActPatchAttnHeadByPosEvery,
  getActPatchBlockEvery,
  logitDiffMetric,
  metricValue,
  normalizePatchResult,
  pearsonCorrelation,
  getActPatchAttnHeadPatternDestSrcPos,
  getActPatchResidMid,
  PATCH_PRESET_NAMES,
  type PatchPresetName,
} from '../src/patching/index.js';

const args = process.argv.slice(2);
const asJson = args.includes('--json');
const dir = args.find((a) => !a.startsWith('--')) ?? 'tests/fixtures/gpt2-tiny';
const log = (...xs: unknown[]): void => {
  if (!asJson) console.log(...xs);
};

const backend = await initBackend(undefined, { quiet: asJson });
const refJson = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
  transformer_lens: { patching: { token_a: number; token_b: number; corrupt_positions: number[] } };
};
const ref = await readSafetensorsFile(join(dir, 'reference.safetensors'));
const rows = (name: string): number[][] => {
  const t = ref.tensors.get(name);
  if (t === undefined) throw new NotFoundError(`example 02: ${dir}/reference.safetensors has no '${name}'`);
  const [b, p] = t.shape as [number, number];
  return Array.from({ length: b }, (_, i) => Array.from(t.data.subarray(i * p, (i + 1) * p)));
};
const { token_a: tokenA, token_b: tokenB, corrupt_positions: corruptPositions } = refJson.transformer_lens.patching;
const clean = rows('patching/clean_tokens');
const corrupted = rows('patching/corrupted_tokens');
const metric = logitDiffMetric(tokenA, tokenB); // mean_b(logits[b, -1, A] - logits[b, -1, B])

const model = await HookedTransformer.fromPretrained(dir);
const [cleanLogits, cleanCache] = model.runWithCache(clean);
const cleanMetric = metricValue(metric(cleanLogits as tf.Tensor3D), 'example');
(cleanLogits as tf.Tensor).dispose();
const corruptedMetric = tf.tidy(() => metricValue(metric(model.logits(corrupted)), 'example'));
log(`clean metric ${cleanMetric.toFixed(4)}, corrupted metric ${corruptedMetric.toFixed(4)} (tokens ${tokenA} vs ${tokenB})`);

// 1. Activation patching: the three stacked sweeps cover 13 presets; two more run on their own.
const t0 = performance.now();
const real = new Map<PatchPresetName, tf.Tensor>();
const split = (stack: tf.Tensor, names: PatchPresetName[], transposeLast = false): void => {
  names.forEach((n, i) => {
    const part = tf.tidy(() => tf.squeeze(tf.gather(stack, [i], 0), [0]));
    real.set(n, transposeLast && i === names.length - 1 ? tf.tidy(() => tf.transpose(part, [0, 2, 1])) : part);
    if (transposeLast && i === names.length - 1) part.dispose();
  });
  stack.dispose();
};
split(getActPatchBlockEvery(model, corrupted, cleanCache, metric), ['resid_pre', 'attn_out', 'mlp_out']);
const heads = ['out', 'q', 'k', 'v', 'pattern'] as const;
split(getActPatchAttnHeadAllPosEvery(model, corrupted, cleanCache, metric), heads.map((h) => `attn_head_${h}_all_pos` as PatchPresetName));
// by_pos_every stores pattern as [layer, pos, head]; transpose back to the preset's [layer, head, dest_pos].
split(getActPatchAttnHeadByPosEvery(model, corrupted, cleanCache, metric), heads.map((h) => `attn_head_${h}_by_pos` as PatchPresetName), true);
real.set('resid_mid', getActPatchResidMid(model, corrupted, cleanCache, metric));
real.set('attn_head_pattern_dest_src_pos', getActPatchAttnHeadPatternDestSrcPos(model, corrupted, cleanCache, metric));
const patchSeconds = (performance.now() - t0) / 1000;
const runs = [...real.values()].reduce((a, t) => a + t.size, 0);
log(`activation patching: ${runs} patched runs in ${patchSeconds.toFixed(2)} s`);

// 2. Attribution patching: every preset from one forward + one backward pass on the corrupted run.
const t1 = performance.now();
const attr = attributionPatchMany(model, cleanCache, corrupted, metric, PATCH_PRESET_NAMES);
const attrSeconds = (performance.now() - t1) / 1000;
log(`attribution patching: all ${PATCH_PRESET_NAMES.length} presets in ${attrSeconds.toFixed(3)} s`);

// 3. Compare, and check the six sweeps the fixture stores from TransformerLens.
const presets: Record<string, unknown> = {};
log(`\n${'preset'.padEnd(32)} ${'shape'.padEnd(14)} ${'r'.padStart(7)} ${'r(nonzero)'.padStart(11)} ${'max |Δ|'.padStart(8)} ${'vs TL'.padStart(9)}`);
for (const name of PATCH_PRESET_NAMES) {
  const r = real.get(name) as tf.Tensor;
  const a = attr.get(name) as tf.Tensor;
  const delta = Array.from(r.dataSync(), (v) => v - corruptedMetric);
  const at = Array.from(a.dataSync());
  const keep = delta.map((d, i) => Math.abs(d) > 1e-5 || Math.abs(at[i] as number) > 1e-5);
  const nz = (xs: number[]): number[] => xs.filter((_, i) => keep[i]);
  const pearson = pearsonCorrelation(at, delta);
  const pearsonNonzero = nz(delta).length > 2 ? pearsonCorrelation(nz(at), nz(delta)) : NaN;
  const stored = ref.tensors.get(`patching/${name}`);
  const tlMaxAbsErr = stored === undefined ? null : Math.max(...Array.from(r.dataSync(), (v, i) => Math.abs(v - (stored.data[i] as number))));
  const normalized = normalizePatchResult(r, cleanMetric, corruptedMetric);
  presets[name] = {
    shape: r.shape,
    patched: r.arraySync(),
    normalized: normalized.arraySync(),
    attribution: a.arraySync(),
    pearson,
    pearsonNonzero,
    nonzeroEntries: nz(delta).length,
    maxAbsDelta: Math.max(...delta.map(Math.abs)),
    tlMaxAbsErr,
  };
  normalized.dispose();
  log(
    `${name.padEnd(32)} ${`[${r.shape.join(',')}]`.padEnd(14)} ${pearson.toFixed(4).padStart(7)} ${pearsonNonzero.toFixed(4).padStart(11)} ` +
      `${Math.max(...delta.map(Math.abs)).toFixed(3).padStart(8)} ${tlMaxAbsErr === null ? '—'.padStart(9) : tlMaxAbsErr.toExponential(1).padStart(9)}`,
  );
}

const summary = {
  model: dir,
  backend: backend.name,
  cleanTokens: clean,
  corruptedTokens: corrupted,
  corruptPositions,
  metric: `mean over batch of logits[:, -1, ${tokenA}] - logits[:, -1, ${tokenB}]`,
  cleanMetric,
  corruptedMetric,
  direction: 'denoising: clean activation patched into the corrupted run',
  attributionConvention: '(clean - corrupted) · d metric / d activation on the corrupted run, summed over batch and unindexed axes; estimates patched - corrupted',
  timing: { patchedRuns: runs, activationPatchingSeconds: patchSeconds, attributionPatchingSeconds: attrSeconds },
  presets,
};
mkdirSync('results/patching', { recursive: true });
writeFileSync('results/patching/summary.json', `${JSON.stringify(summary, null, 1)}\n`);
// Heatmaps of the normalised patching results ([layer, pos] and [layer, head]), self-contained Plotly pages.
const plots: string[] = [];
for (const [name, kind] of [['resid_pre', 'layerPos'], ['attn_out', 'layerPos'], ['mlp_out', 'layerPos'], ['attn_head_out_all_pos', 'layerHead']] as const) {
  const p = presets[name] as { normalized: number[][] };
  plots.push(writePatchingHeatmap(`results/patching/${name}.html`, p.normalized, { kind, title: `${name} (normalised: 0 = corrupted, 1 = clean)`, zLabel: 'normalised metric' }));
}
log(`wrote ${plots.length} heatmaps to results/patching/`);
log('\nwrote results/patching/summary.json');
if (asJson) process.stdout.write(`${JSON.stringify(summary)}\n`);

for (const t of [...real.values(), ...attr.values()]) t.dispose();
cleanCache.dispose();
model.dispose();
