/**
 * Helpers shared by the benchmarks (forward.ts, sae.ts, compare.ts): argument parsing, timing
 * (one warm-up, then the median), the GPT-2-small-shaped random model, synthetic token ids, one SAE
 * training step as trainSae takes it, and the workload shapes shared with bench/torch_ref.py
 * (bench/workloads.json).
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { validateConfig, type ModelConfig } from '../src/model/config.js';
import type { initSae } from '../src/sae/init.js';
import { saeLossAndGrads } from '../src/sae/grads.js';
import { clipAndApply } from '../src/sae/train_state.js';
import type { createAdam } from '../src/ops/optimizer.js';
import { callsPerRun } from './timing.js';

/** Command-line reader: `opt('runs', '5')` reads `--runs N`, `flag('json')` tests `--json`. */
export interface Args {
  opt(name: string, dflt: string): string;
  flag(name: string): boolean;
}

/**
 * @param argv Arguments after the script name.
 * @returns A reader for `--name value` options and `--name` flags.
 */
export function parseArgs(argv: readonly string[]): Args {
  return {
    opt: (name, dflt) => {
      const i = argv.indexOf(`--${name}`);
      return i >= 0 ? (argv[i + 1] ?? dflt) : dflt;
    },
    flag: (name) => argv.includes(`--${name}`),
  };
}

/** Upper median (the middle element of the sorted values; torch_ref.py uses the same rule). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/**
 * Seconds per call: one warm-up call, then the median of `runs` timed runs, each of
 * `callsPerRun` calls (bench/timing.ts: one call for workloads of at least `MIN_SAMPLE_S`, 1 s).
 * @param fn The workload (synchronous).
 * @param runs Timed runs.
 * @param after Called after each timed run (e.g. to sample RSS); not timed.
 */
export function timeMedian(fn: () => void, runs: number, after: () => void = () => undefined): number {
  const w0 = performance.now();
  fn();
  const calls = callsPerRun((performance.now() - w0) / 1000);
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) fn();
    ts.push((performance.now() - t0) / 1000 / calls);
    after();
  }
  return median(ts);
}

/** Decoder shape as in bench/workloads.json. */
export interface DecoderShape {
  readonly nLayers: number;
  readonly dModel: number;
  readonly nHeads: number;
  readonly dMlp: number;
  readonly dVocab: number;
  readonly nCtx: number;
}

/** GPT-2 small: 12 layers, d_model 768, 12 heads, d_mlp 3072, vocab 50257. */
export const GPT2_SMALL_SHAPE: DecoderShape = { nLayers: 12, dModel: 768, nHeads: 12, dMlp: 3072, dVocab: 50257, nCtx: 1024 };

/**
 * A GPT-2-style config (gelu_new, LayerNorm eps 1e-5) of the given shape.
 * @param s Shape; default GPT-2 small.
 */
export function gpt2Config(s: DecoderShape = GPT2_SMALL_SHAPE): ModelConfig {
  return validateConfig({
    modelType: 'gpt2', nLayers: s.nLayers, dModel: s.dModel, nHeads: s.nHeads, dHead: s.dModel / s.nHeads, dMlp: s.dMlp,
    dVocab: s.dVocab, nCtx: s.nCtx, actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN', attnOnly: false,
    bosTokenId: s.dVocab - 1, eosTokenId: s.dVocab - 1,
  });
}

/** Deterministic token ids [b, p]: (i·7919 + j·104729) mod vocab (same rule in torch_ref.py). */
export function syntheticTokens(b: number, p: number, vocab: number): number[][] {
  return Array.from({ length: b }, (_, i) => Array.from({ length: p }, (_, j) => (i * 7919 + j * 104729) % vocab));
}

/**
 * One SAE training step as trainSae takes it: hand-written loss and gradients, global-norm clipping
 * at 1, Adam update, step statistics read back.
 * @returns Milliseconds taken.
 */
export function saeStep(
  sae: ReturnType<typeof initSae>,
  x: tf.Tensor2D,
  adam: ReturnType<typeof createAdam>,
  opts: { l1?: number; dead?: tf.Tensor1D; nDead?: number } = {},
): number {
  const t0 = performance.now();
  const p = sae.params;
  const { grads, stats } = saeLossAndGrads(sae.cfg, p, x, {
    sparsityCoefficient: opts.l1 ?? 5, ...(opts.dead ? { deadMask: opts.dead } : {}), nDead: opts.nDead ?? 0,
  });
  stats.dataSync();
  stats.dispose();
  const pairs: [tf.Variable, tf.Tensor][] = [[p.W_enc, grads.W_enc], [p.b_enc, grads.b_enc], [p.W_dec, grads.W_dec], [p.b_dec, grads.b_dec]];
  if (grads.threshold !== undefined) grads.threshold.dispose();
  clipAndApply(adam, pairs, 1);
  return performance.now() - t0;
}

/** One set of workload shapes from bench/workloads.json ('full' or 'small'). */
export interface WorkloadConfig {
  readonly gpt2: DecoderShape;
  readonly shapes: readonly (readonly [number, number])[];
  readonly patching: { readonly pos: number; readonly changedPos: number; readonly answer: number; readonly wrong: number; readonly copies?: number };
  readonly sae: { readonly dIn: number; readonly dSae: number; readonly batch: number; readonly k: number; readonly l1: number; readonly lr: number };
  readonly encoder: DecoderShape;
  readonly probe: { readonly texts: number; readonly maxLength: number; readonly batchSize: number; readonly layers: readonly number[] };
}

/**
 * @param small The smoke-test shapes instead of the full ones.
 * @returns The shapes both sides of bench/compare.ts run.
 */
export function loadWorkloads(small: boolean): WorkloadConfig {
  const all = JSON.parse(readFileSync(new URL('./workloads.json', import.meta.url), 'utf8')) as Record<string, WorkloadConfig>;
  return all[small ? 'small' : 'full'] as WorkloadConfig;
}

/** Process peak RSS in MB (getrusage ru_maxrss, as torch_ref.py reads it). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
