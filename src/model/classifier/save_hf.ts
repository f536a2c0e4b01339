/**
 * Saving a model as a Hugging Face checkpoint folder (config.json + model.safetensors, as
 * `save_pretrained` writes them), the inverse of the loaders: BERT / DistilBERT / RoBERTa base
 * models and `*ForSequenceClassification`, and unprocessed Llama / Mistral / Qwen2 decoders
 * (`*ForCausalLM` or `*ForSequenceClassification`). `nn.Linear` weights are written [out, in].
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../errors.js';
import { writeSafetensorsFile, type TensorToWrite } from '../../io/safetensors.js';
import { isRms, kvHeads, type ModelConfig } from '../config.js';
import type { EncoderConfig } from '../encoder/encoder_config.js';
import type { EncoderParams } from '../encoder/encoder_params.js';
import type { DecoderParams } from '../params.js';
import { classifierTensorsToHf, type SequenceClassifier } from './head_params.js';
import { labelFieldsToHf } from './labels.js';

/** HF class-name stem per model_type. */
const CLASS: Readonly<Record<string, string>> = { bert: 'Bert', distilbert: 'DistilBert', roberta: 'Roberta', llama: 'Llama', mistral: 'Mistral', qwen2: 'Qwen2' };

/** Collects tensors under HF names. */
class Writer {
  readonly out = new Map<string, TensorToWrite>();
  put(name: string, t: tf.Tensor): void {
    this.out.set(name, { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.dataSync()) });
  }
  /** An [in, out] weight written as nn.Linear's [out, in]. */
  linear(name: string, w: tf.Tensor2D, b?: tf.Tensor1D): void {
    const wt = tf.transpose(w);
    this.put(`${name}.weight`, wt);
    wt.dispose();
    if (b !== undefined) this.put(`${name}.bias`, b);
  }
}

async function writeFolder(dir: string, config: Record<string, unknown>, tensors: Map<string, TensorToWrite>): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeSafetensorsFile(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return dir;
}

function headConfig(modelType: string, clf: SequenceClassifier | undefined, other: string): Record<string, unknown> {
  const stem = CLASS[modelType] ?? modelType;
  if (clf === undefined) return { architectures: [`${stem}${other}`] };
  return { architectures: [`${stem}ForSequenceClassification`], ...labelFieldsToHf(clf.labels) };
}

/**
 * Save a BERT / DistilBERT / RoBERTa encoder as a HF checkpoint folder.
 * @param dir Output folder (created).
 * @param cfg Encoder config.
 * @param p Parameters.
 * @param clf Classification head (then `*ForSequenceClassification` names), or undefined (base model).
 * @returns The folder.
 * @throws {@link "tfjs-lens"!ConfigError} for a model with an MLM head (not written).
 * @category Encoder
 */
export async function saveEncoderHf(dir: string, cfg: EncoderConfig, p: EncoderParams, clf: SequenceClassifier | undefined): Promise<string> {
  if (p.mlmHead !== undefined) throw new ConfigError('saveHf: masked-LM heads are not written; save a base or *ForSequenceClassification encoder');
  const bert = cfg.modelType !== 'distilbert';
  const pre = clf === undefined ? '' : `${cfg.modelType}.`;
  const w = new Writer();
  w.put(`${pre}embeddings.word_embeddings.weight`, p.W_E);
  w.put(`${pre}embeddings.position_embeddings.weight`, p.W_pos);
  if (p.W_token_type !== undefined) w.put(`${pre}embeddings.token_type_embeddings.weight`, p.W_token_type);
  w.put(`${pre}embeddings.LayerNorm.weight`, p.embedLn.w);
  w.put(`${pre}embeddings.LayerNorm.bias`, p.embedLn.b);
  const n = bert
    ? { q: 'attention.self.query', k: 'attention.self.key', v: 'attention.self.value', o: 'attention.output.dense', ln1: 'attention.output.LayerNorm', fc1: 'intermediate.dense', fc2: 'output.dense', ln2: 'output.LayerNorm' }
    : { q: 'attention.q_lin', k: 'attention.k_lin', v: 'attention.v_lin', o: 'attention.out_lin', ln1: 'sa_layer_norm', fc1: 'ffn.lin1', fc2: 'ffn.lin2', ln2: 'output_layer_norm' };
  p.blocks.forEach((b, l) => {
    const k = `${pre}${bert ? 'encoder' : 'transformer'}.layer.${l}.`;
    w.linear(`${k}${n.q}`, b.attn.wQ, b.attn.bQ);
    w.linear(`${k}${n.k}`, b.attn.wK, b.attn.bK);
    w.linear(`${k}${n.v}`, b.attn.wV, b.attn.bV);
    w.linear(`${k}${n.o}`, b.attn.wO, b.attn.bO);
    w.put(`${k}${n.ln1}.weight`, b.ln1.w);
    w.put(`${k}${n.ln1}.bias`, b.ln1.b);
    w.linear(`${k}${n.fc1}`, b.mlp.W_in, b.mlp.b_in);
    w.linear(`${k}${n.fc2}`, b.mlp.W_out, b.mlp.b_out);
    w.put(`${k}${n.ln2}.weight`, b.ln2.w);
    w.put(`${k}${n.ln2}.bias`, b.ln2.b);
  });
  if (clf !== undefined) for (const [k, t] of classifierTensorsToHf(clf.params, clf.family)) w.out.set(k, t);
  const arch = bert
    ? {
        model_type: cfg.modelType, hidden_size: cfg.dModel, num_hidden_layers: cfg.nLayers, num_attention_heads: cfg.nHeads,
        intermediate_size: cfg.dMlp, vocab_size: cfg.dVocab, max_position_embeddings: cfg.nCtx, type_vocab_size: cfg.typeVocabSize,
        hidden_act: cfg.actFn, layer_norm_eps: cfg.eps, pad_token_id: cfg.padTokenId, position_embedding_type: 'absolute',
      }
    : {
        model_type: 'distilbert', dim: cfg.dModel, n_layers: cfg.nLayers, n_heads: cfg.nHeads, hidden_dim: cfg.dMlp,
        vocab_size: cfg.dVocab, max_position_embeddings: cfg.nCtx, activation: cfg.actFn, pad_token_id: cfg.padTokenId,
        sinusoidal_pos_embds: false, seq_classif_dropout: 0.2,
      };
  return writeFolder(dir, { ...headConfig(cfg.modelType, clf, 'Model'), ...arch, torch_dtype: 'float32' }, w.out);
}

function allZero(t: tf.Tensor | undefined): boolean {
  return t === undefined || t.dataSync().every((x) => x === 0);
}

/** config.json of an unprocessed Llama-family decoder. */
function decoderConfig(cfg: ModelConfig, attentionBias: boolean, clf: SequenceClassifier | undefined): Record<string, unknown> {
  const rs = cfg.ropeScaling;
  const window = cfg.windowSize ?? null;
  return {
    ...headConfig(cfg.modelType, clf, 'ForCausalLM'), model_type: cfg.modelType, hidden_size: cfg.dModel, intermediate_size: cfg.dMlp,
    num_hidden_layers: cfg.nLayers, num_attention_heads: cfg.nHeads, num_key_value_heads: kvHeads(cfg), head_dim: cfg.dHead,
    max_position_embeddings: cfg.nCtx, rms_norm_eps: cfg.eps, rope_theta: cfg.rotaryBase ?? 10000, hidden_act: cfg.actFn, vocab_size: cfg.dVocab,
    rope_scaling: rs === undefined ? null : {
      rope_type: 'llama3', factor: rs.factor, low_freq_factor: rs.lowFreqFactor, high_freq_factor: rs.highFreqFactor,
      original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
    },
    tie_word_embeddings: false, bos_token_id: cfg.bosTokenId ?? null, eos_token_id: cfg.eosTokenId ?? null, pad_token_id: clf?.padTokenId ?? null,
    ...(cfg.modelType === 'llama' ? { attention_bias: attentionBias, mlp_bias: false } : {}),
    ...(cfg.modelType === 'mistral' ? { sliding_window: window } : {}),
    ...(cfg.modelType === 'qwen2' ? { use_sliding_window: window !== null, sliding_window: window } : {}),
    torch_dtype: 'float32',
  };
}

/**
 * Save an unprocessed Llama / Mistral / Qwen2 decoder as a HF checkpoint folder (`score.weight`
 * for a sequence-classification head, else `lm_head.weight`).
 * @param dir Output folder (created).
 * @param cfg Model config.
 * @param p Parameters (norm weights present: load with `fromPretrainedNoProcessing`).
 * @param clf Classification head, or undefined.
 * @returns The folder.
 * @throws {@link "tfjs-lens"!ConfigError} for another family, processed weights, or biases the family cannot store.
 * @category Model
 */
export async function saveDecoderHf(dir: string, cfg: ModelConfig, p: DecoderParams, clf: SequenceClassifier | undefined): Promise<string> {
  const fn = 'saveHf';
  if (!['llama', 'mistral', 'qwen2'].includes(cfg.modelType)) throw new ConfigError(`${fn}: only Llama, Mistral and Qwen2 decoders are written, not '${cfg.modelType}'`);
  if (cfg.normalizationType !== 'RMS' || !isRms(cfg) || p.lnFinal === undefined) {
    throw new ConfigError(`${fn}: the weights were processed (normalizationType ${cfg.normalizationType}); load with fromPretrainedNoProcessing to save a HF checkpoint`);
  }
  const qkvBias = p.blocks.some((b) => !allZero(b.attn.bQ) || !allZero(b.attn.bK) || !allZero(b.attn.bV));
  const oBias = p.blocks.some((b) => !allZero(b.attn.bO));
  if (p.blocks.some((b) => !allZero(b.mlp?.b_in) || !allZero(b.mlp?.b_out)) || !allZero(p.b_U)) throw new ConfigError(`${fn}: MLP / unembed biases cannot be stored in a ${cfg.modelType} checkpoint`);
  if ((cfg.modelType === 'mistral' && (qkvBias || oBias)) || (cfg.modelType === 'qwen2' && oBias)) throw new ConfigError(`${fn}: attention biases this ${cfg.modelType} checkpoint cannot store`);
  const withQkv = cfg.modelType === 'qwen2' || qkvBias || oBias;
  const w = new Writer();
  w.put('model.embed_tokens.weight', p.W_E);
  p.blocks.forEach((b, l) => {
    const k = `model.layers.${l}.`;
    if (b.ln1 === undefined || b.ln2 === undefined || b.mlp?.W_gate === undefined) throw new ConfigError(`${fn}: block ${l} lacks norm weights or a gated MLP`);
    w.put(`${k}input_layernorm.weight`, b.ln1.w);
    w.linear(`${k}self_attn.q_proj`, b.attn.wQ, withQkv ? b.attn.bQ : undefined);
    w.linear(`${k}self_attn.k_proj`, b.attn.wK, withQkv ? b.attn.bK : undefined);
    w.linear(`${k}self_attn.v_proj`, b.attn.wV, withQkv ? b.attn.bV : undefined);
    w.linear(`${k}self_attn.o_proj`, b.attn.wO, cfg.modelType === 'llama' && withQkv ? b.attn.bO : undefined);
    w.put(`${k}post_attention_layernorm.weight`, b.ln2.w);
    w.linear(`${k}mlp.gate_proj`, b.mlp.W_gate);
    w.linear(`${k}mlp.up_proj`, b.mlp.W_in);
    w.linear(`${k}mlp.down_proj`, b.mlp.W_out);
  });
  w.put('model.norm.weight', p.lnFinal.w);
  if (clf !== undefined) for (const [k, t] of classifierTensorsToHf(clf.params, 'decoder')) w.out.set(k, t);
  else w.linear('lm_head', p.W_U);
  return writeFolder(dir, decoderConfig(cfg, withQkv, clf), w.out);
}
