/**
 * Example 2: activation patching and attribution patching, the TransformerLens workflow, on the shipped
 * `induction-2l` (a 2-layer attention-only model trained to copy repeated token sequences).
 * Task: rows `BOS r1 … rL r1 … r(L-1)` of random tokens from the range the model was trained on; by
 * induction the model predicts rL. The corrupted rows replace the first rL by another token x, which the
 * model then copies instead. Metric: logit(rL) − logit(x) at the last position. Every patching preset
 * runs (denoising: clean activations into the corrupted run), attribution patching from one backward
 * pass next to each, with the Pearson correlation between the two (every preset: the attention-only model has no
 * MLP presets, and the [layer, head, dest, src] sweep runs only with --dest-src).
 * `--model <fixture dir>` with a reference.safetensors (tests/fixtures/gpt2-tiny) uses that fixture's
 * prompts and checks the sweeps against the values TransformerLens stored there.
 * Writes <out>/summary.json and heatmaps; `--json` prints the summary as one JSON object on stdout.
 * Run: npx tsx examples/02_activation_patching.ts [--model induction-2l] [--batch 4] [--seg-len 5] [--dest-src]
 *   [--out results/patching] [--json]   (--dest-src adds the [layer, head, dest, src] pattern sweep: n_layers·n_heads·pos² runs)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HookedTransformer, initBackend, NotFoundError, tf } from '../src/index.js';
import { resolveAlias } from '../src/model/aliases.js';
import { checkpointTokenRange } from '../src/circuits/index.js';
import { intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import { readSafetensorsFile, type RawTensor } from '../src/io/index.js';
import { seededRng } from '../src/utils/rng.js';
import {
  attributionPatchMany,
  getActPatchAttnHeadAllPosEvery,
  getActPatchAttnHeadByPosEvery,
  getActPatchAttnOut,
  getActPatchBlockEvery,
  getActPatchResidPre,
  logitDiffMetric,
  metricValue,
  normalizePatchResult,
  pearsonCorrelation,
  getActPatchAttnHeadPatternDestSrcPos,
  getActPatchResidMid,
  PATCH_PRESET_NAMES,
  type PatchPresetName,
} from '../src/patching/index.js';
import { writePatchingHeatmap } from '../src/viz/index.js';

const NAME = 'examples/02_activation_patching';
const OPTIONS = {
  model: { type: 'string', default: 'induction-2l' },
  batch: { type: 'string' },
  'seg-len': { type: 'string' },
  seed: { type: 'string' },
  'dest-src': { type: 'boolean', default: false },
  out: { type: 'string', default: 'results/patching' },
  json: { type: 'boolean', default: false },
} as const;

/** Clean and corrupted prompts, the two answer ids per row, and position labels for the plots. */
interface Prompts {
  readonly clean: number[][];
  readonly corrupted: number[][];
  readonly answer: number[];
  readonly wrong: number[];
  readonly corruptPositions: number[];
  readonly labels: string[];
  readonly description: string;
  /** TransformerLens's stored sweeps (fixture mode only). */
  readonly reference?: Map<string, RawTensor>;
}

/** The induction task on the model's training token range (recorded in its safetensors metadata). */
function inductionPrompts(dir: string, bos: number, batch: number, segLen: number, seed: number): Prompts {
  const range = checkpointTokenRange(dir);
  if (range === undefined) throw new NotFoundError(`${NAME}: ${dir}/model.safetensors records no token_range; pass --model induction-2l or a fixture folder with reference.safetensors`);
  const [lo, hi] = range;
  const rand = seededRng(seed);
  const draw = (): number => lo + Math.floor(rand() * (hi - lo));
  const clean: number[][] = [];
  const corrupted: number[][] = [];
  const answer: number[] = [];
  const wrong: number[] = [];
  for (let b = 0; b < batch; b++) {
    const seg = Array.from({ length: segLen }, draw);
    let x = draw();
    while (seg.includes(x)) x = draw();
    clean.push([bos, ...seg, ...seg.slice(0, -1)]); // the next token is seg[L-1] by induction
    corrupted.push([bos, ...seg.slice(0, -1), x, ...seg.slice(0, -1)]); // ... now x
    answer.push(seg[segLen - 1] as number);
    wrong.push(x);
  }
  const labels = ['BOS', ...Array.from({ length: segLen }, (_, i) => (i === segLen - 1 ? `r${i + 1} (corrupted)` : `r${i + 1}`)), ...Array.from({ length: segLen - 1 }, (_, i) => `r${i + 1}'`)];
  return {
    clean, corrupted, answer, wrong, corruptPositions: [segLen], labels,
    description: `induction: ${batch} rows BOS r1..r${segLen} r1..r${segLen - 1}, r from [${lo}, ${hi}) (the model's training range); corrupted: r${segLen} in the first half replaced by x`,
  };
}

/** The fixture's prompts and TransformerLens's stored sweeps. */
async function fixturePrompts(dir: string): Promise<Prompts> {
  const refJson = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
    transformer_lens: { patching: { token_a: number; token_b: number; corrupt_positions: number[] } };
  };
  const ref = await readSafetensorsFile(join(dir, 'reference.safetensors'));
  const rows = (name: string): number[][] => {
    const t = ref.tensors.get(name);
    if (t === undefined) throw new NotFoundError(`${NAME}: ${dir}/reference.safetensors has no '${name}'`);
    const [b, p] = t.shape as [number, number];
    return Array.from({ length: b }, (_, i) => Array.from(t.data.subarray(i * p, (i + 1) * p), Number));
  };
  const { token_a: a, token_b: bTok, corrupt_positions: corruptPositions } = refJson.transformer_lens.patching;
  const clean = rows('patching/clean_tokens');
  return {
    clean, corrupted: rows('patching/corrupted_tokens'), answer: clean.map(() => a), wrong: clean.map(() => bTok), corruptPositions,
    labels: (clean[0] ?? []).map((id) => `#${id}`), description: `fixture prompts, tokens ${a} vs ${bTok}`,
    reference: ref.tensors,
  };
}

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const batch = intOption(NAME, v.batch, 'batch', { dflt: 4, min: 1, max: 64 });
  const segLen = intOption(NAME, v['seg-len'], 'seg-len', { dflt: 5, min: 2, max: 30 });
  const seed = intOption(NAME, v.seed, 'seed', { dflt: 0, min: 0 });
  const log = (line: string): void => void (v.json ? process.stderr : process.stdout).write(`${line}\n`);
  const backend = await initBackend(undefined, { quiet: v.json });
  const dir = resolveAlias(v.model);
  const model = await HookedTransformer.fromPretrained(v.model, { quiet: true });
  const real = new Map<PatchPresetName, tf.Tensor>();
  let attr = new Map<PatchPresetName, tf.Tensor>();
  try {
    const fixture = existsSync(join(dir, 'reference.safetensors'));
    const bos = model.cfg.bosTokenId ?? 0;
    const p = fixture ? await fixturePrompts(dir) : inductionPrompts(dir, bos, batch, segLen, seed);
    const metric = logitDiffMetric(p.answer, p.wrong); // mean_b(logits[b, -1, answer_b] - logits[b, -1, wrong_b])
    const [cleanLogits, cleanCache] = model.runWithCache(p.clean);
    const cleanMetric = metricValue(metric(cleanLogits), 'example');
    cleanLogits.dispose();
    const corruptedMetric = tf.tidy(() => metricValue(metric(model.logits(p.corrupted)), 'example'));
    log(`${v.model}: ${p.description}`);
    log(`logit difference: clean ${cleanMetric.toFixed(4)}, corrupted ${corruptedMetric.toFixed(4)}`);

    // 1. Activation patching: the three stacked sweeps cover 13 presets; two more run on their own.
    const t0 = performance.now();
    const split = (stack: tf.Tensor, names: PatchPresetName[], transposeLast = false): void => {
      names.forEach((n, i) => {
        const part = tf.tidy(() => tf.squeeze(tf.gather(stack, [i], 0), [0]));
        real.set(n, transposeLast && i === names.length - 1 ? tf.tidy(() => tf.transpose(part, [0, 2, 1])) : part);
        if (transposeLast && i === names.length - 1) part.dispose();
      });
      stack.dispose();
    };
    if (model.cfg.attnOnly) {
      // An attention-only model has no hook_mlp_out: patch the residual stream and attention output on their own.
      real.set('resid_pre', getActPatchResidPre(model, p.corrupted, cleanCache, metric));
      real.set('attn_out', getActPatchAttnOut(model, p.corrupted, cleanCache, metric));
    } else split(getActPatchBlockEvery(model, p.corrupted, cleanCache, metric), ['resid_pre', 'attn_out', 'mlp_out']);
    const heads = ['out', 'q', 'k', 'v', 'pattern'] as const;
    split(getActPatchAttnHeadAllPosEvery(model, p.corrupted, cleanCache, metric), heads.map((h) => `attn_head_${h}_all_pos` as PatchPresetName));
    // by_pos_every stores pattern as [layer, pos, head]; transpose back to the preset's [layer, head, dest_pos].
    split(getActPatchAttnHeadByPosEvery(model, p.corrupted, cleanCache, metric), heads.map((h) => `attn_head_${h}_by_pos` as PatchPresetName), true);
    if (!model.cfg.attnOnly) real.set('resid_mid', getActPatchResidMid(model, p.corrupted, cleanCache, metric));
    // [layer, head, dest, src]: n_layers · n_heads · pos² runs, so only on request.
    if (v['dest-src']) real.set('attn_head_pattern_dest_src_pos', getActPatchAttnHeadPatternDestSrcPos(model, p.corrupted, cleanCache, metric));
    const patchSeconds = (performance.now() - t0) / 1000;
    const runs = [...real.values()].reduce((a, t) => a + t.size, 0);
    log(`activation patching: ${runs} patched runs in ${patchSeconds.toFixed(2)} s`);

    // 2. Attribution patching: every preset from one forward + one backward pass on the corrupted run.
    const t1 = performance.now();
    const names = PATCH_PRESET_NAMES.filter((n) => real.has(n));
    attr = attributionPatchMany(model, cleanCache, p.corrupted, metric, names);
    cleanCache.dispose();
    const attrSeconds = (performance.now() - t1) / 1000;
    log(`attribution patching: all ${names.length} presets in ${attrSeconds.toFixed(3)} s`);

    // 3. Compare (and, on a fixture, check the sweeps TransformerLens stored).
    const presets: Record<string, { shape: number[]; normalized: unknown; pearson: number; maxAbsDelta: number; tlMaxAbsErr: number | null } & Record<string, unknown>> = {};
    log(`\n${'preset'.padEnd(32)} ${'shape'.padEnd(14)} ${'r'.padStart(7)} ${'r(nonzero)'.padStart(11)} ${'max |Δ|'.padStart(8)} ${'vs TL'.padStart(9)}`);
    for (const name of names) {
      const r = real.get(name) as tf.Tensor;
      const a = attr.get(name) as tf.Tensor;
      const delta = Array.from(r.dataSync(), (x) => x - corruptedMetric);
      const at = Array.from(a.dataSync());
      const keep = delta.map((d, i) => Math.abs(d) > 1e-5 || Math.abs(at[i] as number) > 1e-5);
      const nz = (xs: number[]): number[] => xs.filter((_, i) => keep[i]);
      const pearson = pearsonCorrelation(at, delta);
      const pearsonNonzero = nz(delta).length > 2 ? pearsonCorrelation(nz(at), nz(delta)) : NaN;
      const stored = p.reference?.get(`patching/${name}`);
      const tlMaxAbsErr = stored === undefined ? null : Math.max(...Array.from(r.dataSync(), (x, i) => Math.abs(x - Number(stored.data[i]))));
      const normalized = normalizePatchResult(r, cleanMetric, corruptedMetric);
      const maxAbsDelta = Math.max(...delta.map(Math.abs));
      presets[name] = {
        shape: r.shape, patched: r.arraySync(), normalized: normalized.arraySync(), attribution: a.arraySync(),
        pearson, pearsonNonzero, nonzeroEntries: nz(delta).length, maxAbsDelta, tlMaxAbsErr,
      };
      normalized.dispose();
      log(
        `${name.padEnd(32)} ${`[${r.shape.join(',')}]`.padEnd(14)} ${pearson.toFixed(4).padStart(7)} ${pearsonNonzero.toFixed(4).padStart(11)} ` +
          `${maxAbsDelta.toFixed(3).padStart(8)} ${tlMaxAbsErr === null ? '—'.padStart(9) : tlMaxAbsErr.toExponential(1).padStart(9)}`,
      );
    }

    // Heatmaps of the normalised results ([layer, pos] and [layer, head]).
    mkdirSync(v.out, { recursive: true });
    const files: string[] = [];
    for (const [name, kind] of [['resid_pre', 'layerPos'], ['attn_out', 'layerPos'], ['mlp_out', 'layerPos'], ['attn_head_out_all_pos', 'layerHead']] as const) {
      const entry = presets[name];
      if (entry === undefined) continue;
      files.push(writePatchingHeatmap(join(v.out, `${name}.html`), entry.normalized as number[][], {
        kind, tokens: kind === 'layerPos' ? p.labels : undefined,
        title: `Activation patching of ${name} on ${v.model} (denoising)`,
        description: `${p.description}. Metric: logit difference at the last position, normalised (patched − corrupted) / (clean − corrupted): 0 = corrupted run, 1 = clean run.`,
        zLabel: 'normalised logit difference (0 = corrupted, 1 = clean)',
        range: { signed: 1 }, // the metric's own scale: a 0.3 recovery is never drawn as the full effect
      }));
    }
    const summary = {
      example: '02_activation_patching',
      model: v.model,
      backend: backend.name,
      task: p.description,
      cleanTokens: p.clean,
      corruptedTokens: p.corrupted,
      corruptPositions: p.corruptPositions,
      metric: 'mean over batch of logits[b, -1, answer_b] - logits[b, -1, wrong_b]',
      answerTokens: p.answer,
      wrongTokens: p.wrong,
      cleanMetric,
      corruptedMetric,
      direction: 'denoising: clean activation patched into the corrupted run',
      attributionConvention: '(clean - corrupted) · d metric / d activation on the corrupted run, summed over batch and unindexed axes; estimates patched - corrupted',
      timing: { patchedRuns: runs, activationPatchingSeconds: patchSeconds, attributionPatchingSeconds: attrSeconds },
      presets,
      files,
    };
    writeFileSync(join(v.out, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
    log(`\nwrote ${files.length} heatmaps and summary.json to ${v.out}/`);
    if (v.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    for (const t of [...real.values(), ...attr.values()]) t.dispose();
    model.dispose();
  }
  return 0;
}

await runCliMain(NAME, main);
