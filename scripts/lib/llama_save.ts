/**
 * Saving a decoder as a Hugging Face Llama checkpoint, the exact inverse of `llamaConfigFromHf` +
 * `llamaParamsFromHf`: config.json + model.safetensors with `LlamaForCausalLM` names
 * (`model.`-prefixed, `lm_head.weight` untied), nn.Linear [out, in] layout, no biases (HF Llama with
 * attention_bias = mlp_bias = false has none, so every bias must be zero) — as `save_pretrained`
 * writes it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../src/errors.js';
import { writeSafetensorsFile, type TensorToWrite } from '../../src/io/safetensors.js';
import { isRotary, kvHeads, type ModelConfig } from '../../src/model/config.js';
import type { HfLlamaConfig } from '../../src/model/hf_config.js';
import type { DecoderParams } from '../../src/model/params.js';

/** Options of {@link saveLlamaCheckpoint}. @category Model */
export interface SaveLlamaOptions {
  /** Stored dtype (default 'F32'); 'F16' halves the size. */
  readonly dtype?: 'F32' | 'F16';
  /** safetensors `__metadata__` (`format: 'pt'` is always set, as transformers requires). */
  readonly metadata?: Record<string, string>;
}

/**
 * The HF Llama config.json of a model config (`llamaConfigFromHf` maps it back to `cfg`).
 * @param cfg An unprocessed Llama-architecture config: RMS norms, rotary on the whole head (no
 *   scaling), gated MLP, sequential blocks, no sliding window.
 * @returns config.json contents.
 * @throws {@link ConfigError} for a config HF Llama cannot express.
 * @category Model
 */
export function llamaHfConfig(cfg: ModelConfig): HfLlamaConfig & Record<string, unknown> {
  const fullRotary = isRotary(cfg) && (cfg.rotaryDim ?? cfg.dHead) === cfg.dHead && cfg.ropeScaling === undefined;
  if (cfg.normalizationType !== 'RMS' || !fullRotary || cfg.gatedMlp !== true || cfg.parallelAttnMlp === true || cfg.windowSize !== undefined) {
    throw new ConfigError(
      'llamaHfConfig: a Llama checkpoint needs unprocessed RMS norms, unscaled rotary on the whole head, a gated MLP, ' +
        `sequential blocks and no sliding window — got normalizationType ${cfg.normalizationType}, rotaryDim ${cfg.rotaryDim}, gatedMlp ${cfg.gatedMlp}`,
    );
  }
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: cfg.dModel, intermediate_size: cfg.dMlp,
    num_hidden_layers: cfg.nLayers, num_attention_heads: cfg.nHeads, num_key_value_heads: kvHeads(cfg), head_dim: cfg.dHead,
    max_position_embeddings: cfg.nCtx, rms_norm_eps: cfg.eps, rope_theta: cfg.rotaryBase ?? 10000, rope_scaling: null,
    hidden_act: cfg.actFn, vocab_size: cfg.dVocab, tie_word_embeddings: false, attention_bias: false, mlp_bias: false,
    bos_token_id: cfg.bosTokenId ?? null, eos_token_id: cfg.eosTokenId ?? null, initializer_range: 0.02,
    pretraining_tp: 1, use_cache: true, torch_dtype: 'float32',
  };
}

/**
 * Checkpoint tensors under HF `LlamaForCausalLM` names.
 * @param p Unprocessed parameters (RMS norm weights present, every bias zero).
 * @param cfg Config (shapes are checked by the reader, `llamaParamsFromHf`).
 * @returns Name → tensor data (F32).
 * @throws {@link ConfigError} for processed params (no norm weights), a block without a gated MLP,
 *   or a non-zero bias.
 * @category Model
 */
export function llamaTensorsToHf(p: DecoderParams, cfg: ModelConfig): Map<string, TensorToWrite> {
  const fn = 'llamaTensorsToHf';
  const out = new Map<string, TensorToWrite>();
  const put = (name: string, t: tf.Tensor): void => {
    out.set(name, { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.dataSync()) });
  };
  const putLinear = (name: string, w: tf.Tensor2D): void => {
    const wt = tf.transpose(w); // [out, in]: nn.Linear stores W as y = x·Wᵀ
    put(name, wt);
    wt.dispose();
  };
  const zero = (t: tf.Tensor | undefined, what: string): void => {
    if (t !== undefined && t.dataSync().some((x) => x !== 0)) {
      throw new ConfigError(`${fn}: ${what} is not zero — HF Llama without attention_bias/mlp_bias stores no biases`);
    }
  };
  put('model.embed_tokens.weight', p.W_E); // [d_vocab, d_model]
  p.blocks.forEach((b, l) => {
    const k = `model.layers.${l}.`;
    if (b.ln1 === undefined || b.ln2 === undefined || b.mlp?.W_gate === undefined) {
      throw new ConfigError(`${fn}: block ${l} lacks RMS norm weights or a gated MLP (save an unprocessed Llama model)`);
    }
    for (const [t, what] of [[b.ln1.b, 'ln1 bias'], [b.ln2.b, 'ln2 bias'], [b.attn.bQ, 'b_Q'], [b.attn.bK, 'b_K'], [b.attn.bV, 'b_V'],
      [b.attn.bO, 'b_O'], [b.mlp.b_in, 'b_in'], [b.mlp.b_out, 'b_out']] as const) zero(t, `block ${l} ${what}`);
    put(`${k}input_layernorm.weight`, b.ln1.w);
    putLinear(`${k}self_attn.q_proj.weight`, b.attn.wQ); // [n_heads*d_head, d_model]
    putLinear(`${k}self_attn.k_proj.weight`, b.attn.wK); // [n_kv_heads*d_head, d_model]
    putLinear(`${k}self_attn.v_proj.weight`, b.attn.wV); // [n_kv_heads*d_head, d_model]
    putLinear(`${k}self_attn.o_proj.weight`, b.attn.wO); // [d_model, n_heads*d_head]
    put(`${k}post_attention_layernorm.weight`, b.ln2.w);
    putLinear(`${k}mlp.gate_proj.weight`, b.mlp.W_gate); // [d_mlp, d_model]
    putLinear(`${k}mlp.up_proj.weight`, b.mlp.W_in); // [d_mlp, d_model]
    putLinear(`${k}mlp.down_proj.weight`, b.mlp.W_out); // [d_model, d_mlp]
  });
  if (p.lnFinal === undefined) throw new ConfigError(`${fn}: no final norm weight (save an unprocessed Llama model)`);
  zero(p.lnFinal.b, 'ln_final bias');
  zero(p.b_U, 'b_U');
  put('model.norm.weight', p.lnFinal.w);
  putLinear('lm_head.weight', p.W_U); // [d_vocab, d_model]
  void cfg;
  return out;
}

/**
 * Save a decoder as a HF Llama checkpoint folder (config.json + model.safetensors; tokenizer files
 * are the caller's).
 * @param dir Output folder (created).
 * @param p Unprocessed parameters.
 * @param cfg Config.
 * @param opts dtype and safetensors metadata.
 * @returns The folder.
 * @throws {@link ConfigError} as {@link llamaHfConfig} and {@link llamaTensorsToHf}.
 * @example await saveLlamaCheckpoint('models/llama-mini', params, cfg, { metadata: { trained_by: 'me' } });
 * @category Model
 */
export async function saveLlamaCheckpoint(dir: string, p: DecoderParams, cfg: ModelConfig, opts: SaveLlamaOptions = {}): Promise<string> {
  const config = llamaHfConfig(cfg);
  const tensors = llamaTensorsToHf(p, cfg);
  if (opts.dtype === 'F16') for (const t of tensors.values()) t.dtype = 'F16';
  mkdirSync(dir, { recursive: true });
  await writeSafetensorsFile(join(dir, 'model.safetensors'), tensors, { format: 'pt', ...(opts.metadata ?? {}) });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return dir;
}
