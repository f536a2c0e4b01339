/**
 * A hand-built 2-layer attention-only induction circuit (Olsson et al. 2022), for testing that
 * circuit discovery finds K-composition. Residual dims: token one-hots T (0–7), position one-hots
 * P (8–23), S (24–31), O (32–39), two constant dims (±3). a0.0 is a previous-token head (query and
 * key read positions: position p attends to p − 1) copying the token into S; a1.1 is an induction
 * head (query reads the token, key reads S, so it attends to the token after an earlier occurrence)
 * copying that token into O, which W_U reads. a0.1 and a1.0 write nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CircuitTask } from '../../src/circuits/task.js';
import { validateConfig, type ModelConfig } from '../../src/model/config.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import type { DecoderParams } from '../../src/model/params.js';
import { seededRng } from '../../src/utils/rng.js';

export const INDUCTION_PLANTED_CONFIG: ModelConfig = validateConfig({
  modelType: 'gpt2', nLayers: 2, dModel: 48, nHeads: 2, dHead: 16, dMlp: 4, dVocab: 8, nCtx: 16,
  actFn: 'relu', eps: 1e-5, normalizationType: 'LN', attnOnly: true, bosTokenId: undefined, eosTokenId: undefined,
});

const [T, P, S, O, C] = [0, 8, 24, 32, 40];

/** [rows, cols] zeros with entries (r, c) = v. */
function mat(rows: number, cols: number, entries: readonly [number, number, number][]): tf.Tensor2D {
  const data = new Float32Array(rows * cols);
  for (const [r, c, v] of entries) data[r * cols + c] = v;
  return tf.tensor2d(data, [rows, cols]);
}
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export interface PlantedInduction {
  readonly model: HookedTransformer;
  readonly task: CircuitTask;
}

/**
 * @param opts.gains Query/key gain of the two heads and the output gains.
 * @returns The model and a task: BOS (token 7) + a permutation of 6 of tokens 0–6, repeated; 8 prompts;
 *   corrupted prompts use other permutations.
 */
export function plantedInductionModel(opts: { qk0?: number; qk1?: number; out?: number; unembed?: number } = {}): PlantedInduction {
  const cfg = INDUCTION_PLANTED_CONFIG;
  const { dModel: d, nCtx } = cfg;
  const he = 32; // n_heads * d_head
  const [qk0, qk1, g, gu] = [opts.qk0 ?? 4, opts.qk1 ?? 4, opts.out ?? 3, opts.unembed ?? 10];
  const pos = mat(nCtx, d, range(nCtx).flatMap((p) => [[p, P + p, 1], [p, C, 3], [p, C + 1, -3]] as [number, number, number][]));
  const zeros = (n: number): tf.Tensor1D => tf.zeros([n]);
  const ln = (): { w: tf.Tensor1D; b: tf.Tensor1D } => ({ w: tf.ones([d]), b: tf.zeros([d]) });
  const layer0 = {
    wQ: mat(d, he, range(16).map((p) => [P + p, p, qk0])), // query: own position p
    wK: mat(d, he, range(15).map((j) => [P + j, j + 1, qk0])), // key: position j, matched by query j + 1
    wV: mat(d, he, range(8).flatMap((t) => [[T + t, t, 1], [T + t, 16 + t, 1]] as [number, number, number][])),
    wO: mat(he, d, range(8).map((t) => [t, S + t, g])), // head 0 writes the previous token into S
  };
  const layer1 = {
    wQ: mat(d, he, range(8).map((t) => [T + t, 16 + t, qk1])), // head 1 query: current token
    wK: mat(d, he, range(8).map((t) => [S + t, 16 + t, qk1])), // head 1 key: the token before the key position
    wV: mat(d, he, range(8).flatMap((t) => [[T + t, t, 1], [T + t, 16 + t, 1]] as [number, number, number][])),
    wO: mat(he, d, range(8).map((t) => [16 + t, O + t, g])), // head 1 writes the attended token into O
  };
  const attn = (w: typeof layer0) => ({ ...w, bQ: zeros(he), bK: zeros(he), bV: zeros(he), bO: zeros(d) });
  const params: DecoderParams = {
    W_E: mat(8, d, range(8).map((t) => [t, T + t, 1])),
    W_pos: pos,
    blocks: [
      { ln1: ln(), attn: attn(layer0), ln2: undefined, mlp: undefined },
      { ln1: ln(), attn: attn(layer1), ln2: undefined, mlp: undefined },
    ],
    lnFinal: ln(),
    W_U: mat(d, 8, range(8).map((t) => [O + t, t, gu])),
    b_U: zeros(8),
  };
  const model = new HookedTransformer(cfg, params);
  const rand = seededRng(1);
  const perm = (): number[] => {
    const xs = range(7); // token 7 is the BOS
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [xs[i], xs[j]] = [xs[j] as number, xs[i] as number];
    }
    return xs.slice(0, 6);
  };
  const rows = (n: number): number[][] => range(n).map(() => { const s = perm(); return [7, ...s, ...s]; });
  const prompts = rows(8);
  const corrupted = rows(8);
  const answerPositions = [7, 8, 9, 10, 11]; // second repeat: the next token appeared before
  const next = (rs: number[][]): number[][] => rs.map((r) => answerPositions.map((p) => r[p + 1] as number));
  return { model, task: { name: 'planted_induction', prompts, corrupted, answerPositions, answerTokens: next(prompts), wrongTokens: next(corrupted) } };
}
