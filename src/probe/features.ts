/**
 * Probe features from an encoder or a decoder: run `runWithCache` with only the chosen hook cached
 * (and only the layers up to it), mean-pool the activation over the attention mask
 * ({@link maskedMeanPool}) and flatten it to one row per text. For DistilBERT, `blocks.{L}.attn.hook_q`
 * is the output of `transformer.layer[L].attention.q_lin` split into heads, so the pooled row equals
 * the mask-mean of q_lin (the anchor README's feature). Decoders (GPT-2, Llama, Pythia …) are
 * right-padded, so the causal activations of the real tokens are those of the unpadded text. Texts
 * are batched in order of length, so padding costs little; rows come back in input order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DatasetError, ShapeError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import type { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import { maskedMeanPool } from '../model/encoder/pooling.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';
import { requireFamilyHook } from '../analysis/families.js';
import type { FeatureMatrix } from './matrix.js';
import { stopLayerAfterHook } from '../hooks/hook_point.js';
import { closeName } from '../utils/nearest.js';

const ATTN_SHORT = ['q', 'k', 'v', 'z'];
const BLOCK_SHORT = ['resid_pre', 'resid_mid', 'resid_post', 'attn_out', 'mlp_out', 'normalized_resid_post'];

/**
 * The full hook name of a short name at a layer: 'q'/'k'/'v'/'z' → `blocks.{L}.attn.hook_{x}`;
 * 'resid_pre', 'resid_mid', 'resid_post', 'attn_out', 'mlp_out', 'normalized_resid_post' →
 * `blocks.{L}.hook_{x}`; 'mlp_pre'/'mlp_post' → `blocks.{L}.mlp.hook_{pre|post}`; a name containing
 * a dot (or 'hook_full_embed') is returned as is. The anchor's actual feature, HF
 * `hidden_states[L+1]`, is 'normalized_resid_post' at layer L.
 * @param hook Short or full name.
 * @param layer Layer index (0-based).
 * @param nLayers Layers of the model.
 * @returns The full hook name.
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown short name or a layer outside [0, nLayers).
 * @example probeHookName('q', 0, 6)  // 'blocks.0.attn.hook_q'
 * @category Probe
 */
export function probeHookName(hook: string, layer: number, nLayers: number): string {
  if (hook.includes('.') || hook === 'hook_full_embed') return hook;
  if (!(Number.isInteger(layer) && layer >= 0 && layer < nLayers)) throw new ConfigError(`probeHookName: layer must be an integer in [0, ${nLayers}), got ${layer}`);
  const h = hook.replace(/^hook_/, '');
  if (ATTN_SHORT.includes(h)) return `blocks.${layer}.attn.hook_${h}`;
  if (BLOCK_SHORT.includes(h)) return `blocks.${layer}.hook_${h}`;
  if (h === 'mlp_pre' || h === 'mlp_post') return `blocks.${layer}.mlp.hook_${h.slice(4)}`;
  const short = [...ATTN_SHORT, ...BLOCK_SHORT, 'mlp_pre', 'mlp_post'];
  const near = closeName(h, short);
  const hint = near === undefined ? '' : `; did you mean '${near}'?`;
  throw new ConfigError(`probeHookName: unknown hook '${hook}'${hint} — expected one of ${short.join(', ')}, or a full hook name`);
}

/**
 * A model {@link extractPooledFeatures} reads: an encoder (DistilBERT, BERT, RoBERTa) or a decoder
 * (GPT-2, Llama, Mistral, Qwen2, Pythia).
 * @category Probe
 */
export type PoolingModel = HookedEncoder | HookedTransformer;

/** Token ids with their attention mask, e.g. from {@link HookedEncoder.encode}. @category Probe */
export interface TokenBatch {
  /** Token ids [batch, pos] (right-padded). */
  readonly ids: readonly (readonly number[])[];
  /** 1 = real token, 0 = padding [batch, pos]. */
  readonly attentionMask: readonly (readonly number[])[];
}

/**
 * Options of {@link extractPooledFeatures}.
 * @category Probe
 */
export interface ExtractOptions {
  /** Full hook name (see {@link probeHookName}). */
  readonly hookName: string;
  /** Truncate texts to this many tokens including [CLS]/[SEP] (default 128, capped at n_ctx). */
  readonly maxLength?: number;
  /** Texts per forward pass (default 16). */
  readonly batchSize?: number;
  /** Called after every batch with rows done and total. */
  readonly onProgress?: (done: number, total: number) => void;
}

function checkTexts(texts: readonly string[]): void {
  if (texts.length === 0) throw new DatasetError('extractPooledFeatures: no texts — expected at least one');
  texts.forEach((t, i) => {
    if (typeof t !== 'string' || t.trim() === '') throw new DatasetError(`extractPooledFeatures: text ${i} is empty — every row needs text`);
  });
}

function isEncoder(model: PoolingModel): model is HookedEncoder {
  return 'encode' in model;
}

/** Decoder texts: each tokenised alone (BOS as the model's default), cut to maxLength, right-padded. */
function decoderBatch(model: HookedTransformer, texts: readonly string[], maxLength: number): TokenBatch {
  const rows = texts.map((t) => {
    const ids = model.toTokens(t, { truncate: true }); // [1, pos]; cut to maxLength below, by design (no warning)
    try {
      return ((ids.arraySync() as number[][])[0] ?? []).slice(0, maxLength);
    } finally {
      ids.dispose();
    }
  });
  const width = Math.max(...rows.map((r) => r.length), 1);
  const pad = model.cfg.eosTokenId ?? 0;
  return {
    ids: rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(pad)]),
    attentionMask: rows.map((r) => [...r.map(() => 1), ...new Array<number>(width - r.length).fill(0)]),
  };
}

function tokenise(model: PoolingModel, input: readonly string[] | TokenBatch, maxLength: number): TokenBatch {
  if (!Array.isArray(input)) {
    const b = input as TokenBatch;
    if (b.ids.length === 0 || b.ids.length !== b.attentionMask.length) throw new ShapeError(`extractPooledFeatures: need as many mask rows as id rows (got ${b.ids.length} and ${b.attentionMask.length})`);
    b.ids.forEach((r, i) => {
      if (r.length !== b.attentionMask[i]?.length) throw new ShapeError(`extractPooledFeatures: row ${i} has ${r.length} ids and ${b.attentionMask[i]?.length} mask values`);
    });
    return b;
  }
  const texts = input as readonly string[];
  checkTexts(texts);
  return isEncoder(model) ? model.encode(texts, maxLength) : decoderBatch(model, texts, maxLength);
}

/** One forward pass with only `hookName` cached; the caller disposes the cache. */
function cacheBatch(model: PoolingModel, ids: number[][], mask: number[][], hookName: string): ActivationCache {
  const stop = stopLayerAfterHook(hookName, model.cfg.nLayers);
  const stopOpt = stop === undefined ? {} : { stopAtLayer: stop };
  if (!isEncoder(model)) return model.runWithCache(ids, { attentionMask: mask, namesFilter: hookName, returnType: 'none', ...stopOpt })[1];
  const headOut = stop === undefined && hookName.startsWith('mlm_head');
  const [out, cache] = model.runWithCache(ids, { attentionMask: mask, namesFilter: hookName, returnType: headOut ? 'logits' : 'none', ...stopOpt });
  out?.dispose();
  return cache;
}

/**
 * Pooled hook activations, one row per text (or token row).
 * @param model Encoder or decoder (text input needs its tokenizer).
 * @param input Texts, or token ids with their attention mask.
 * @param opts Hook, max length, batch size, progress.
 * @returns Features [n, prod(activation dims after pos)] (e.g. [n, d_model] for hook_q).
 * @throws {@link "tfjs-lens"!DatasetError} for no texts or an empty text; {@link "tfjs-lens"!ShapeError} for ragged token
 *   input or a row without a real token; {@link "tfjs-lens"!HookNameError} for an unknown hook; {@link "tfjs-lens"!ConfigError}
 *   for a hook the decoder family lacks (resid_mid with parallel attention and MLP, pos_embed with rotary positions);
 *   {@link "tfjs-lens"!DatasetError} if the activations contain NaN.
 * @example const x = extractPooledFeatures(enc, texts, { hookName: 'blocks.0.attn.hook_q' });
 * @category Probe
 */
export function extractPooledFeatures(model: PoolingModel, input: readonly string[] | TokenBatch, opts: ExtractOptions): FeatureMatrix {
  if (!isEncoder(model)) requireFamilyHook(model.cfg, opts.hookName, 'extractPooledFeatures');
  const maxLength = Math.min(opts.maxLength ?? 128, model.cfg.nCtx);
  const batch = tokenise(model, input, maxLength);
  const n = batch.ids.length;
  const lengths = batch.attentionMask.map((r) => r.reduce((a, v) => a + (v === 0 ? 0 : 1), 0));
  const order = lengths.map((_, i) => i).sort((a, b) => (lengths[a] as number) - (lengths[b] as number));
  const bs = opts.batchSize ?? 16;
  let data: Float32Array | undefined;
  let cols = 0;
  for (let s = 0; s < n; s += bs) {
    const rows = order.slice(s, s + bs);
    // Trim right padding to the longest real row of this batch (all positions when a mask has gaps).
    const width = Math.max(...rows.map((r) => (batch.attentionMask[r] as readonly number[]).lastIndexOf(1) + 1), 1);
    const ids = rows.map((r) => (batch.ids[r] as readonly number[]).slice(0, width));
    const mask = rows.map((r) => (batch.attentionMask[r] as readonly number[]).slice(0, width));
    const cache = cacheBatch(model, ids, mask, opts.hookName);
    try {
      // The tensor leaves the tidy, not its values: tidy walks every element of a returned typed array.
      const pooledT = tf.tidy(() => tf.reshape(maskedMeanPool(cache.get(opts.hookName), mask), [rows.length, -1])); // [batch, features]
      let pooled: Float32Array;
      try {
        pooled = pooledT.dataSync() as Float32Array;
      } finally {
        pooledT.dispose();
      }
      if (data === undefined) {
        cols = pooled.length / rows.length;
        data = new Float32Array(n * cols);
      }
      rows.forEach((r, k) => (data as Float32Array).set(pooled.subarray(k * cols, (k + 1) * cols), r * cols));
    } finally {
      cache.dispose();
    }
    opts.onProgress?.(Math.min(s + bs, n), n);
  }
  const m = { rows: n, cols, data: data as Float32Array };
  const bad = m.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new DatasetError(`extractPooledFeatures: ${opts.hookName} gave ${m.data[bad]} for row ${Math.floor(bad / cols)} — the model produced non-finite activations`);
  return m;
}
