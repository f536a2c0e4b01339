/**
 * A hand-built 2-layer model with a planted circuit, to test discovery methods against a known
 * answer. Residual subspaces: token one-hots T (dims 0–7), A (8–15), M (16–23), B (24–31) and two
 * constant dims (±25, from W_pos) that keep LayerNorm's scale nearly fixed. Only one path carries
 * the token: input → a0.0 (value: copies T into A) → m0 (ReLU: A into M) → a1.1 (value: M into B)
 * → logits (W_U reads B). Every other head and MLP writes nothing (W_O, W_out = 0), and no query or
 * key reads anything (W_Q = W_K = 0: uniform attention), so every other edge is inert.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { validateConfig, type ModelConfig } from '../model/config.js';
import { HookedTransformer } from '../model/hooked_transformer.js';
import type { BlockParams, DecoderParams } from '../model/params.js';
import type { CircuitTask } from './task.js';

/** What {@link plantedCircuitModel} returns. @category Circuits */
export interface PlantedCircuit {
  /** The model (caller disposes). */
  readonly model: HookedTransformer;
  /** Prompts of one repeated token; corrupted prompts repeat another; the answer is the token. */
  readonly task: CircuitTask;
  /** The planted circuit: node ids and edge ids. */
  readonly path: {
    /** Node ids on the path: input, a0.0, m0, a1.1, logits. */
    readonly nodes: readonly string[];
    /** Edge ids on the path, input to logits. */
    readonly edges: readonly string[];
  };
}

/** Architecture of the planted model. @category Circuits */
const PLANTED_CONFIG: ModelConfig = validateConfig({
  modelType: 'gpt2', nLayers: 2, dModel: 48, nHeads: 2, dHead: 8, dMlp: 16, dVocab: 8, nCtx: 16,
  actFn: 'relu', eps: 1e-5, normalizationType: 'LN', attnOnly: false, bosTokenId: undefined, eosTokenId: undefined,
});

const [T, A, M, B, CONST] = [0, 8, 16, 24, 32];
/** Constant ±K dims dominate the residual norm, so LayerNorm is nearly linear in the path's content. */
const K = 25;
const GAIN = 5;
const UNEMBED_GAIN = 50;

/** A [rows, cols] matrix with `value` at (rowStart + i, colStart + i) for i < n. */
function diag(rows: number, cols: number, rowStart: number, colStart: number, n: number, value: number): tf.Tensor2D {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < n; i++) data[(rowStart + i) * cols + colStart + i] = value;
  return tf.tensor2d(data, [rows, cols]);
}

function block(cfg: ModelConfig, v: [number, number], o: [number, number], mlp: { in: number; out: number | undefined }): BlockParams {
  const { dModel: d, dHead: e, dMlp: m } = cfg;
  const he = cfg.nHeads * e;
  const ln = (): { w: tf.Tensor1D; b: tf.Tensor1D } => ({ w: tf.ones([d]), b: tf.zeros([d]) });
  // Head 0 reads dims v[0].., head 1 reads v[1].. (value weights [d_model, n_heads*d_head]).
  const wV = tf.tidy(() => tf.add<tf.Tensor2D>(diag(d, he, v[0], 0, e, 1), diag(d, he, v[1], e, e, 1)));
  return {
    ln1: ln(),
    attn: {
      wQ: tf.zeros([d, he]), bQ: tf.zeros([he]), wK: tf.zeros([d, he]), bK: tf.zeros([he]),
      wV, bV: tf.zeros([he]),
      wO: diag(he, d, o[0] * e, o[1], e, GAIN), // only head o[0] writes, into dims o[1]..
      bO: tf.zeros([d]),
    },
    ln2: ln(),
    mlp: {
      W_in: diag(d, m, mlp.in, 0, 8, 1), b_in: tf.zeros([m]),
      W_out: mlp.out === undefined ? tf.zeros([m, d]) : diag(m, d, 0, mlp.out, 8, GAIN), b_out: tf.zeros([d]),
    },
  };
}

/**
 * Build the planted-circuit model and its task.
 * @param opts.batch Prompts (default 8: one per token); opts.length tokens per prompt (default 6).
 * @returns The model, the task and the planted path.
 * @throws {@link "tfjs-lens"!ConfigError} if length exceeds n_ctx (16).
 * @example
 * const { model, task, path } = plantedCircuitModel();
 * path.edges  // ['input->a0.0<v>', 'a0.0->m0', 'm0->a1.1<v>', 'a1.1->logits']
 * model.dispose();
 * @category Circuits
 */
export function plantedCircuitModel(opts: { batch?: number; length?: number } = {}): PlantedCircuit {
  const cfg = PLANTED_CONFIG;
  const batch = opts.batch ?? 8;
  const len = opts.length ?? 6;
  if (!(Number.isInteger(len) && len >= 1 && len <= cfg.nCtx && Number.isInteger(batch) && batch >= 1)) {
    throw new ConfigError(`plantedCircuitModel: need a positive batch and 1 <= length <= ${cfg.nCtx}, got ${batch}, ${len}`);
  }
  const posData = new Float32Array(cfg.nCtx * cfg.dModel);
  for (let p = 0; p < cfg.nCtx; p++) {
    posData[p * cfg.dModel + CONST] = K;
    posData[p * cfg.dModel + CONST + 1] = -K;
  }
  const params: DecoderParams = {
    W_E: diag(cfg.dVocab, cfg.dModel, 0, T, 8, 1),
    W_pos: tf.tensor2d(posData, [cfg.nCtx, cfg.dModel]),
    blocks: [
      block(cfg, [T, T], [0, A], { in: A, out: M }), // a0.0: T → A; m0: A → M
      block(cfg, [M, M], [1, B], { in: A, out: undefined }), // a1.1: M → B; m1 writes nothing
    ],
    lnFinal: { w: tf.ones([cfg.dModel]), b: tf.zeros([cfg.dModel]) },
    W_U: diag(cfg.dModel, cfg.dVocab, B, 0, 8, UNEMBED_GAIN),
    b_U: tf.zeros([cfg.dVocab]),
  };
  const model = new HookedTransformer(cfg, params);
  const tok = (b: number, shift: number): number => (b + shift) % cfg.dVocab;
  const prompts = Array.from({ length: batch }, (_, b) => new Array<number>(len).fill(tok(b, 0)));
  const corrupted = Array.from({ length: batch }, (_, b) => new Array<number>(len).fill(tok(b, 3)));
  const task: CircuitTask = {
    name: 'planted',
    prompts,
    corrupted,
    answerPositions: [len - 1],
    answerTokens: prompts.map((r) => [r[0] as number]),
    wrongTokens: corrupted.map((r) => [r[0] as number]),
  };
  const path = {
    nodes: ['input', 'a0.0', 'm0', 'a1.1', 'logits'],
    edges: ['input->a0.0<v>', 'a0.0->m0', 'm0->a1.1<v>', 'a1.1->logits'],
  };
  return { model, task, path };
}
