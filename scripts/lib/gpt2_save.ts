/**
 * Saving a decoder as a Hugging Face GPT-2 checkpoint (the inverse of `gpt2ParamsFromHf`):
 * config.json + model.safetensors with `transformer.`-prefixed names, Conv1D [in, out] layout,
 * `c_attn` columns [q | k | v], `lm_head.weight` omitted when tied — as `save_pretrained` writes it.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../src/errors.js';
import { writeSafetensorsFile, type TensorToWrite } from '../../src/io/safetensors.js';
import type { ModelConfig } from '../../src/model/config.js';
import type { HfGpt2Config } from '../../src/model/hf_config.js';
import type { DecoderParams } from '../../src/model/params.js';

/** Options of {@link saveGpt2Checkpoint}. @category Model */
export interface SaveCheckpointOptions {
  /** Stored dtype (default 'F32'); 'F16' halves the size. */
  readonly dtype?: 'F32' | 'F16';
  /** Omit lm_head.weight (W_U must equal W_Eᵀ; default true when it does). */
  readonly tied?: boolean;
  /** Copy the tokenizer files of this folder next to the weights. */
  readonly tokenizerDir?: string;
  /** Extra config.json fields. */
  readonly extraConfig?: Record<string, unknown>;
  /** safetensors `__metadata__`. */
  readonly metadata?: Record<string, string>;
}

/**
 * The HF GPT-2 config.json of a model config.
 * @param cfg Model config (must be unprocessed: LayerNorm affines present).
 * @returns config.json contents.
 * @category Model
 */
export function gpt2HfConfig(cfg: ModelConfig): HfGpt2Config & Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_layer: cfg.nLayers, n_head: cfg.nHeads, n_embd: cfg.dModel,
    n_inner: cfg.attnOnly ? null : cfg.dMlp, n_positions: cfg.nCtx, n_ctx: cfg.nCtx, vocab_size: cfg.dVocab,
    activation_function: cfg.actFn, layer_norm_epsilon: cfg.eps, bos_token_id: cfg.bosTokenId ?? null,
    eos_token_id: cfg.eosTokenId ?? null, scale_attn_weights: true, torch_dtype: 'float32',
    ...(cfg.attnOnly ? { attn_only: true } : {}),
  };
}

/**
 * Checkpoint tensors under HF GPT-2 names.
 * @param p Unprocessed parameters.
 * @param cfg Config.
 * @param tied Omit lm_head.weight.
 * @returns Name → tensor data (F32).
 * @throws {@link ConfigError} for processed params (no LayerNorm affine).
 * @category Model
 */
export function gpt2TensorsToHf(p: DecoderParams, cfg: ModelConfig, tied: boolean): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  const put = (name: string, t: tf.Tensor): void => {
    out.set(`transformer.${name}`, { dtype: 'F32', shape: t.shape, data: t.dataSync() as Float32Array });
  };
  const needLn = <T>(x: T | undefined, what: string): T => {
    if (x === undefined) throw new ConfigError(`gpt2TensorsToHf: ${what} has no LayerNorm affine (save an unprocessed model)`);
    return x;
  };
  const need = <T>(x: T | undefined, what: string): T => {
    if (x === undefined) throw new ConfigError(`gpt2TensorsToHf: ${what} is missing (a GPT-2 checkpoint needs learned positions and LayerNorm biases)`);
    return x;
  };
  put('wte.weight', p.W_E);
  put('wpe.weight', need(p.W_pos, 'W_pos'));
  p.blocks.forEach((b, l) => {
    const k = `h.${l}.`;
    const ln1 = needLn(b.ln1, `block ${l} ln1`);
    put(`${k}ln_1.weight`, ln1.w);
    put(`${k}ln_1.bias`, need(ln1.b, `block ${l} ln1 bias`));
    tf.tidy(() => {
      put(`${k}attn.c_attn.weight`, tf.concat([b.attn.wQ, b.attn.wK, b.attn.wV], 1)); // [d_model, 3*d_model]
      put(`${k}attn.c_attn.bias`, tf.concat([b.attn.bQ, b.attn.bK, b.attn.bV], 0)); // [3*d_model]
    });
    put(`${k}attn.c_proj.weight`, b.attn.wO);
    put(`${k}attn.c_proj.bias`, b.attn.bO);
    if (b.mlp !== undefined) {
      const ln2 = needLn(b.ln2, `block ${l} ln2`);
      put(`${k}ln_2.weight`, ln2.w);
      put(`${k}ln_2.bias`, need(ln2.b, `block ${l} ln2 bias`));
      put(`${k}mlp.c_fc.weight`, b.mlp.W_in);
      put(`${k}mlp.c_fc.bias`, b.mlp.b_in);
      put(`${k}mlp.c_proj.weight`, b.mlp.W_out);
      put(`${k}mlp.c_proj.bias`, b.mlp.b_out);
    }
  });
  const lnf = needLn(p.lnFinal, 'ln_final');
  put('ln_f.weight', lnf.w);
  put('ln_f.bias', need(lnf.b, 'ln_final bias'));
  if (!tied) {
    const lm = tf.transpose(p.W_U);
    out.set('lm_head.weight', { dtype: 'F32', shape: lm.shape, data: lm.dataSync() as Float32Array });
    lm.dispose();
  }
  void cfg;
  return out;
}

/**
 * Save a decoder as a HF GPT-2 checkpoint folder.
 * @param dir Output folder (created).
 * @param p Unprocessed parameters.
 * @param cfg Config.
 * @param opts dtype, tying, tokenizer files, extra config fields.
 * @returns The folder.
 * @example await saveGpt2Checkpoint('models/induction-2l', params, cfg, { dtype: 'F16', tokenizerDir: shippedTokenizerDir('gpt2') });
 * @category Model
 */
export async function saveGpt2Checkpoint(dir: string, p: DecoderParams, cfg: ModelConfig, opts: SaveCheckpointOptions = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const tied = opts.tied ?? true;
  const tensors = gpt2TensorsToHf(p, cfg, tied);
  if (opts.dtype === 'F16') for (const t of tensors.values()) t.dtype = 'F16';
  await writeSafetensorsFile(join(dir, 'model.safetensors'), tensors, { format: 'pt', ...(opts.metadata ?? {}) });
  const config = { ...gpt2HfConfig(cfg), tie_word_embeddings: tied, ...(opts.extraConfig ?? {}) };
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  if (opts.tokenizerDir !== undefined) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.json', 'merges.txt', 'special_tokens_map.json']) {
      if (existsSync(join(opts.tokenizerDir, f))) copyFileSync(join(opts.tokenizerDir, f), join(dir, f));
    }
  }
  return dir;
}
