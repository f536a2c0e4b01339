/**
 * Our side of bench/compare.ts: the workloads bench/torch_ref.py runs in PyTorch, on tfjs-lens
 * (forward and runWithCache of a random GPT-2-small-shaped model, a resid_pre activation-patching
 * sweep, one SAE training step, DistilBERT probe-feature extraction). Shapes come from
 * bench/workloads.json so both sides run the same work; workload keys are the same on both sides.
 * Imported lazily by compare.ts, after TFJS_LENS_WASM_THREADS is set.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../src/backend/backend.js';
import { HookedTransformer } from '../src/model/hooked_transformer.js';
import { randomDecoderParams } from '../src/model/random_init.js';
import type { EncoderConfig } from '../src/model/encoder/encoder_config.js';
import { HookedEncoder } from '../src/model/encoder/hooked_encoder.js';
import { randomEncoderParams } from '../src/model/encoder/random_encoder.js';
import { logitDiffMetric } from '../src/patching/metrics.js';
import { getActPatchResidPre } from '../src/patching/presets.js';
import { defaultPatchBatch, metricValue } from '../src/patching/generic_patch.js';
import { extractPooledFeatures, probeHookName } from '../src/probe/features.js';
import { saeConfig, type SaeArchitecture } from '../src/sae/config.js';
import { initSae } from '../src/sae/init.js';
import { createAdam } from '../src/ops/optimizer.js';
import { gpt2Config, loadWorkloads, peakRssMb, saeStep, syntheticTokens, timeMedian, type WorkloadConfig } from './common.js';

/** Workload groups, as `--only` names them (same names in torch_ref.py). */
export const GROUPS = ['forward', 'cache', 'patching', 'sae', 'probe'] as const;

/** What one side reports (torch_ref.py prints the same layout). */
export interface SideResult {
  readonly side: string;
  readonly threads: number;
  readonly runs: number;
  readonly small: boolean;
  /** Median seconds per workload key, e.g. `forward_1x128`. */
  readonly workloads: Record<string, number>;
  readonly extra: Record<string, unknown>;
  readonly peak_rss_mb: number;
  readonly [more: string]: unknown;
}

/** Options of {@link runOurs}. */
export interface OursOptions {
  readonly threads: number;
  readonly runs: number;
  readonly small: boolean;
  readonly groups: readonly string[];
}

const log = (s: string): void => {
  process.stderr.write(`ours: ${s}\n`);
};
const round = (x: number, d = 4): number => +x.toFixed(d);

function forwardAndCache(model: HookedTransformer, w: WorkloadConfig, o: OursOptions, out: Record<string, number>, extra: Record<string, unknown>): void {
  for (const [b, p] of w.shapes) {
    const tokens = syntheticTokens(b, p, w.gpt2.dVocab);
    if (o.groups.includes('forward')) {
      out[`forward_${b}x${p}`] = timeMedian(() => {
        const y = model.forward(tokens); // [b, p, d_vocab]
        y.dataSync();
        y.dispose();
      }, o.runs);
      log(`forward ${b}x${p} ${out[`forward_${b}x${p}`]?.toFixed(3)} s`);
    }
    if (o.groups.includes('cache')) {
      let entries = 0;
      let mb = 0;
      out[`cache_${b}x${p}`] = timeMedian(() => {
        const [y, cache] = model.runWithCache(tokens);
        y.dataSync();
        entries = cache.size;
        mb = cache.numBytes / 1e6;
        y.dispose();
        cache.dispose();
      }, o.runs);
      extra[`cache_${b}x${p}_entries`] = entries;
      extra[`cache_${b}x${p}_mb`] = round(mb, 1);
      log(`cache ${b}x${p} ${out[`cache_${b}x${p}`]?.toFixed(3)} s`);
    }
    if (b === w.shapes[0]?.[0] && p === w.shapes[0]?.[1] && (o.groups.includes('forward') || o.groups.includes('cache'))) {
      extra[`peak_rss_mb_after_${b}x${p}`] = round(peakRssMb(), 1);
    }
  }
}

function patching(model: HookedTransformer, w: WorkloadConfig, o: OursOptions, out: Record<string, number>, extra: Record<string, unknown>): void {
  const pc = w.patching;
  const vocab = w.gpt2.dVocab;
  const clean = syntheticTokens(1, pc.pos, vocab);
  const corrupted = clean.map((r) => r.map((t, j) => (j === pc.changedPos ? (t + 1) % vocab : t)));
  const metric = logitDiffMetric(pc.answer, pc.wrong);
  const copies = pc.copies ?? defaultPatchBatch(1, pc.pos);
  const sweep = (batchSize: number): Float32Array => {
    const [y, cache] = model.runWithCache(clean);
    y.dispose();
    try {
      const r = getActPatchResidPre(model, corrupted, cache, metric, { quiet: true, batchSize }); // [n_layers, pos]
      const data = r.dataSync() as Float32Array;
      r.dispose();
      return data;
    } finally {
      cache.dispose();
    }
  };
  let result: Float32Array = new Float32Array(0);
  const key = `patching_resid_pre_1x${pc.pos}`;
  out[key] = timeMedian(() => {
    result = sweep(copies);
  }, o.runs);
  const m = (t: number[][]): number => tf.tidy(() => metricValue(metric(model.forward(t)), 'bench'));
  const check = patchingCheck(result, m(clean), m(corrupted), pc.pos, pc.changedPos, copies);
  if (o.small) {
    const seq = sweep(1);
    check['vs_sequential_max_diff'] = Math.max(...result.map((v, i) => Math.abs(v - (seq[i] as number))));
  }
  extra['patching'] = check;
  log(`${key} ${out[key]?.toFixed(3)} s (${JSON.stringify(check)})`);
}

/** Layer 0: patching the changed position restores the clean metric, any other keeps the corrupted one. */
function patchingCheck(r: Float32Array, cleanM: number, corrM: number, pos: number, changed: number, copies: number): Record<string, unknown> {
  let err = 0;
  for (let p = 0; p < pos; p++) {
    const norm = ((r[p] as number) - corrM) / (cleanM - corrM);
    err = Math.max(err, Math.abs(norm - (p === changed ? 1 : 0)));
  }
  return {
    shape: [r.length / pos, pos], forwards: Math.ceil(r.length / copies), copies_per_forward: copies,
    layer0_max_err: round(err, 6), ok: err < 1e-2,
  };
}

function sae(w: WorkloadConfig, o: OursOptions, out: Record<string, number>): void {
  const c = w.sae;
  const x = tf.randomNormal([c.batch, c.dIn], 0, 1, 'float32', 1) as tf.Tensor2D;
  for (const arch of ['standard', 'topk'] as SaeArchitecture[]) {
    const model = initSae(saeConfig({ architecture: arch, dIn: c.dIn, dSae: c.dSae, k: c.k }), { seed: 0 });
    const adam = createAdam(c.lr);
    out[`sae_${arch}`] = timeMedian(() => saeStep(model, x, adam, { l1: c.l1 }), o.runs);
    log(`sae ${arch} ${out[`sae_${arch}`]?.toFixed(3)} s/step`);
    adam.dispose();
    model.dispose();
  }
  x.dispose();
}

/** [CLS] … [SEP] rows of varying length, right-padded with 0 (same rule in torch_ref.py). */
function probeBatch(texts: number, maxLength: number, vocab: number): { ids: number[][]; attentionMask: number[][] } {
  const lengths = Array.from({ length: texts }, (_, i) => Math.max(3, maxLength - ((i * 37) % Math.floor(maxLength / 2))));
  const ids = lengths.map((len, i) =>
    Array.from({ length: maxLength }, (_, j) =>
      j === 0 ? 101 : j === len - 1 ? 102 : j < len ? 103 + ((i * 7919 + j * 104729) % (vocab - 103)) : 0),
  );
  return { ids, attentionMask: lengths.map((len) => Array.from({ length: maxLength }, (_, j) => (j < len ? 1 : 0))) };
}

function probe(w: WorkloadConfig, o: OursOptions, out: Record<string, number>): void {
  const e = w.encoder;
  const cfg: EncoderConfig = {
    modelType: 'distilbert', nLayers: e.nLayers, dModel: e.dModel, nHeads: e.nHeads, dHead: e.dModel / e.nHeads, dMlp: e.dMlp,
    dVocab: e.dVocab, nCtx: e.nCtx, typeVocabSize: 0, actFn: 'gelu', eps: 1e-12, padTokenId: 0,
  };
  const enc = new HookedEncoder(cfg, randomEncoderParams(cfg, { seed: 0, mlmHead: false }));
  const pc = w.probe;
  const batch = probeBatch(pc.texts, pc.maxLength, e.dVocab);
  for (const layer of pc.layers) {
    const key = `probe_l${layer}_${pc.texts}x${pc.maxLength}`;
    const hookName = probeHookName('q', layer, cfg.nLayers);
    out[key] = timeMedian(() => {
      extractPooledFeatures(enc, batch, { hookName, maxLength: pc.maxLength, batchSize: pc.batchSize });
    }, o.runs);
    log(`${key} ${out[key]?.toFixed(3)} s`);
  }
  enc.dispose();
}

/**
 * Run our workloads in this process (the backend follows TFJS_LENS_BACKEND / TFJS_LENS_WASM_THREADS).
 * @param o Thread count (reported), runs, shapes, groups.
 * @returns Median seconds per workload, backend details and checks.
 */
export async function runOurs(o: OursOptions): Promise<SideResult> {
  const info = await initBackend(undefined, { quiet: true });
  const w = loadWorkloads(o.small);
  const out: Record<string, number> = {};
  const extra: Record<string, unknown> = {};
  const backend: Record<string, unknown> = { ...info, tf_backend: tf.getBackend() };
  if (tf.getBackend() === 'wasm') backend['wasm_threads_count'] = getThreadsCount();
  log(`backend ${JSON.stringify(backend)}, requested threads ${o.threads}`);
  if (o.groups.some((g) => g === 'forward' || g === 'cache' || g === 'patching')) {
    const cfg = gpt2Config(w.gpt2);
    const model = new HookedTransformer(cfg, randomDecoderParams(cfg, { seed: 0 }));
    forwardAndCache(model, w, o, out, extra);
    if (o.groups.includes('patching')) patching(model, w, o, out, extra);
    model.dispose();
  }
  if (o.groups.includes('sae')) sae(w, o, out);
  if (o.groups.includes('probe')) probe(w, o, out);
  const workloads = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, round(v)]));
  return {
    side: 'ours', backend, threads: o.threads, env_wasm_threads: process.env['TFJS_LENS_WASM_THREADS'] ?? null,
    runs: o.runs, small: o.small, workloads, extra, peak_rss_mb: round(peakRssMb(), 1),
  };
}
