/**
 * Saving an encoder as a Hugging Face `DistilBertForMaskedLM` checkpoint (the inverse of
 * `encoderParamsFromHf` for DistilBERT): config.json + model.safetensors with `distilbert.`-prefixed
 * body names, `nn.Linear` weights as [out, in], the MLM head as `vocab_transform`,
 * `vocab_layer_norm` and `vocab_projector.bias`; the tied `vocab_projector.weight` is omitted, as
 * `save_pretrained` writes it.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../src/errors.js';
import { writeSafetensorsFile, type TensorToWrite } from '../../src/io/safetensors.js';
import type { EncoderConfig, HfDistilBertConfig } from '../../src/model/encoder/encoder_config.js';
import type { EncoderParams } from '../../src/model/encoder/encoder_params.js';

/** Options of {@link saveDistilBertCheckpoint}. @category Model */
export interface SaveDistilBertOptions {
  /** Stored dtype (default 'F32'); 'F16' halves the size. */
  readonly dtype?: 'F32' | 'F16';
  /** Omit `vocab_projector.weight` (W_U must equal W_Eᵀ). Default: omit exactly when it does. */
  readonly tied?: boolean;
  /** Copy the tokenizer files of this folder (tokenizer.json, tokenizer_config.json, vocab.txt, special_tokens_map.json). */
  readonly tokenizerDir?: string;
  /** Extra config.json fields (override the defaults). */
  readonly extraConfig?: Record<string, unknown>;
  /** safetensors `__metadata__`. */
  readonly metadata?: Record<string, string>;
}

/**
 * The HF DistilBERT config.json of an encoder config, with HF's defaults for the fields the
 * architecture does not fix (dropout 0.1, attention_dropout 0.1, initializer_range 0.02, …).
 * @param cfg A DistilBERT encoder config (GELU or ReLU, no token types).
 * @param dtype Stored dtype, recorded as `torch_dtype`.
 * @returns config.json contents.
 * @throws {@link ConfigError} for a BERT config, token types, or an activation DistilBERT lacks.
 * @example writeFileSync('config.json', JSON.stringify(distilBertHfConfig(cfg), null, 2));
 * @category Model
 */
export function distilBertHfConfig(cfg: EncoderConfig, dtype: 'F32' | 'F16' = 'F32'): HfDistilBertConfig & Record<string, unknown> {
  const fn = 'distilBertHfConfig';
  if (cfg.modelType !== 'distilbert' || cfg.typeVocabSize !== 0) {
    throw new ConfigError(`${fn}: expected a DistilBERT config (modelType 'distilbert', no token types), got ${cfg.modelType} with typeVocabSize ${cfg.typeVocabSize}`);
  }
  if (cfg.actFn !== 'gelu' && cfg.actFn !== 'relu') throw new ConfigError(`${fn}: DistilBERT supports activation gelu|relu, got ${cfg.actFn}`);
  return {
    activation: cfg.actFn, architectures: ['DistilBertForMaskedLM'], attention_dropout: 0.1, dim: cfg.dModel, dropout: 0.1,
    hidden_dim: cfg.dMlp, initializer_range: 0.02, max_position_embeddings: cfg.nCtx, model_type: 'distilbert',
    n_heads: cfg.nHeads, n_layers: cfg.nLayers, pad_token_id: cfg.padTokenId, qa_dropout: 0.1, seq_classif_dropout: 0.2,
    sinusoidal_pos_embds: false, tie_weights_: true, torch_dtype: dtype === 'F16' ? 'float16' : 'float32', vocab_size: cfg.dVocab,
  };
}

/** Whether W_U is exactly W_Eᵀ. */
function isTied(p: EncoderParams): boolean {
  const h = p.mlmHead;
  if (h === undefined) return false;
  return tf.tidy(() => tf.util.arraysEqual(h.W_U.shape, [p.W_E.shape[1], p.W_E.shape[0]]) && (tf.max(tf.abs(tf.sub(h.W_U, tf.transpose(p.W_E)))).dataSync()[0] as number) === 0);
}

/**
 * Checkpoint tensors under HF `DistilBertForMaskedLM` names (F32).
 * @param p Parameters of a DistilBERT encoder (with or without an MLM head).
 * @param cfg Config.
 * @param tied Omit `vocab_projector.weight`.
 * @returns Name → tensor data.
 * @throws {@link ConfigError} for BERT params (token types) or parameters that do not match `cfg`.
 * @example const tensors = distilBertTensorsToHf(params, cfg, true);
 * @category Model
 */
export function distilBertTensorsToHf(p: EncoderParams, cfg: EncoderConfig, tied: boolean): Map<string, TensorToWrite> {
  const fn = 'distilBertTensorsToHf';
  if (p.W_token_type !== undefined) throw new ConfigError(`${fn}: DistilBERT has no token-type embedding`);
  if (p.blocks.length !== cfg.nLayers || !tf.util.arraysEqual(p.W_E.shape, [cfg.dVocab, cfg.dModel])) {
    throw new ConfigError(`${fn}: parameters (${p.blocks.length} layers, W_E [${p.W_E.shape.join(', ')}]) do not match the config (${cfg.nLayers} layers, [${cfg.dVocab}, ${cfg.dModel}])`);
  }
  const out = new Map<string, TensorToWrite>();
  const put = (name: string, t: tf.Tensor): void => {
    out.set(name, { dtype: 'F32', shape: t.shape, data: t.dataSync() as Float32Array });
  };
  const lin = (name: string, w: tf.Tensor, b: tf.Tensor): void => {
    tf.tidy(() => put(`${name}.weight`, tf.transpose(w))); // [in, out] → nn.Linear [out, in]
    put(`${name}.bias`, b);
  };
  const ln = (name: string, x: { w: tf.Tensor; b: tf.Tensor }): void => {
    put(`${name}.weight`, x.w);
    put(`${name}.bias`, x.b);
  };
  put('distilbert.embeddings.word_embeddings.weight', p.W_E);
  put('distilbert.embeddings.position_embeddings.weight', p.W_pos);
  ln('distilbert.embeddings.LayerNorm', p.embedLn);
  p.blocks.forEach((b, l) => {
    const k = `distilbert.transformer.layer.${l}.`;
    lin(`${k}attention.q_lin`, b.attn.wQ, b.attn.bQ);
    lin(`${k}attention.k_lin`, b.attn.wK, b.attn.bK);
    lin(`${k}attention.v_lin`, b.attn.wV, b.attn.bV);
    lin(`${k}attention.out_lin`, b.attn.wO, b.attn.bO);
    ln(`${k}sa_layer_norm`, b.ln1);
    lin(`${k}ffn.lin1`, b.mlp.W_in, b.mlp.b_in);
    lin(`${k}ffn.lin2`, b.mlp.W_out, b.mlp.b_out);
    ln(`${k}output_layer_norm`, b.ln2);
  });
  const h = p.mlmHead;
  if (h !== undefined) {
    lin('vocab_transform', h.W, h.b);
    ln('vocab_layer_norm', h.ln);
    put('vocab_projector.bias', h.b_U);
    if (!tied) tf.tidy(() => put('vocab_projector.weight', tf.transpose(h.W_U))); // [d_vocab, d_model]
  }
  return out;
}

/**
 * Save an encoder as a HF `DistilBertForMaskedLM` checkpoint folder, loadable with
 * `HookedEncoder.fromPretrained(dir)` and with Hugging Face `transformers`.
 * @param dir Output folder (created).
 * @param p Parameters (a snapshot, not variables being trained).
 * @param cfg DistilBERT config.
 * @param opts dtype, tying, tokenizer files, extra config fields, metadata.
 * @returns The folder.
 * @throws {@link ConfigError} when `tied: true` is asked but W_U ≠ W_Eᵀ, or the config/params are not DistilBERT.
 * @example await saveDistilBertCheckpoint('models/distilbert-mini', params, cfg, { dtype: 'F16', tokenizerDir: shippedTokenizerDir('distilbert-base-uncased') });
 * @category Model
 */
export async function saveDistilBertCheckpoint(dir: string, p: EncoderParams, cfg: EncoderConfig, opts: SaveDistilBertOptions = {}): Promise<string> {
  const exactlyTied = isTied(p);
  if (opts.tied === true && !exactlyTied) throw new ConfigError('saveDistilBertCheckpoint: tied=true but the MLM head W_U is not W_Eᵀ');
  const tied = opts.tied ?? exactlyTied;
  const config = {
    ...distilBertHfConfig(cfg, opts.dtype),
    ...(p.mlmHead === undefined ? { architectures: ['DistilBertModel'] } : {}),
    ...(p.mlmHead !== undefined && !tied ? { tie_word_embeddings: false } : {}), // HF ties by default
    ...(opts.extraConfig ?? {}),
  };
  const tensors = distilBertTensorsToHf(p, cfg, tied);
  if (opts.dtype === 'F16') for (const t of tensors.values()) t.dtype = 'F16';
  mkdirSync(dir, { recursive: true });
  await writeSafetensorsFile(join(dir, 'model.safetensors'), tensors, { format: 'pt', ...(opts.metadata ?? {}) });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  if (opts.tokenizerDir !== undefined) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json']) {
      if (existsSync(join(opts.tokenizerDir, f))) copyFileSync(join(opts.tokenizerDir, f), join(dir, f));
    }
  }
  return dir;
}
