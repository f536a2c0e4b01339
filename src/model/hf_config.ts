/**
 * Hugging Face config.json types (verbatim snake_case, STYLE Convention 15) and the mapping to
 * {@link ModelConfig}. Mirrors TransformerLens `convert_hf_model_config` for GPT2LMHeadModel.
 */
import { ConfigError } from '../errors.js';
import { validateConfig, type ActFn, type ModelConfig } from './config.js';

/**
 * The fields of a GPT-2 `config.json` (Hugging Face `GPT2Config`, verbatim) that
 * {@link gpt2ConfigFromHf} reads.
 * @category Model
 */
export interface HfGpt2Config {
  /** Must be 'gpt2' (the default when absent). */
  model_type?: string;
  /** Model classes, e.g. `['GPT2LMHeadModel']`; not read. */
  architectures?: string[];
  /** Number of blocks → `nLayers` (required). */
  n_layer?: number;
  /** Attention heads → `nHeads` (required; must divide `n_embd`). */
  n_head?: number;
  /** Residual width → `dModel` (required). */
  n_embd?: number;
  /** MLP width → `dMlp` (null or absent: 4 · n_embd). */
  n_inner?: number | null;
  /** Learned positions → `nCtx` (required, or `n_ctx`). */
  n_positions?: number;
  /** Older name of `n_positions`, used when that is absent. */
  n_ctx?: number;
  /** Vocabulary size → `dVocab` (required). */
  vocab_size?: number;
  /** 'gelu_new' (default), 'gelu' or 'relu' → `actFn`. */
  activation_function?: string;
  /** LayerNorm epsilon → `eps` (default 1e-5). */
  layer_norm_epsilon?: number;
  /** BOS id → `bosTokenId` (null: none). */
  bos_token_id?: number | null;
  /** EOS id → `eosTokenId` (null: none). */
  eos_token_id?: number | null;
  /** Scale attention scores by 1/sqrt(d_head); `false` is rejected. */
  scale_attn_weights?: boolean;
  /** Extra 1/(layer+1) score scaling; `true` is rejected. */
  scale_attn_by_inverse_layer_idx?: boolean;
  /** HF mixed-precision attention option; not read. */
  reorder_and_upcast_attn?: boolean;
  /** tfjs-lens extension for attention-only models. */
  attn_only?: boolean;
}

const ACT_FNS: Record<string, ActFn> = { gelu_new: 'gelu_new', gelu: 'gelu', relu: 'relu' };

function need(v: number | undefined | null, field: string): number {
  if (typeof v !== 'number') {
    throw new ConfigError(`gpt2ConfigFromHf: config.json lacks '${field}' (expected a number)`);
  }
  return v;
}

/**
 * Map a GPT-2 `config.json` to a {@link ModelConfig}.
 * @param hf Parsed config.json.
 * @returns The validated config.
 * @throws {@link "tfjs-lens"!ConfigError} on missing fields or unsupported options.
 * @category Model
 */
export function gpt2ConfigFromHf(hf: HfGpt2Config): ModelConfig {
  const modelType = hf.model_type ?? 'gpt2';
  if (modelType !== 'gpt2') {
    throw new ConfigError(
      `gpt2ConfigFromHf: model_type must be 'gpt2', got '${modelType}' (use HookedEncoder for BERT/DistilBERT)`,
    );
  }
  const act = ACT_FNS[hf.activation_function ?? 'gelu_new'];
  if (act === undefined) {
    throw new ConfigError(
      `gpt2ConfigFromHf: unsupported activation_function '${hf.activation_function}' (expected gelu_new|gelu|relu)`,
    );
  }
  if (hf.scale_attn_weights === false || hf.scale_attn_by_inverse_layer_idx === true) {
    throw new ConfigError(
      'gpt2ConfigFromHf: scale_attn_weights=false / scale_attn_by_inverse_layer_idx=true are not supported',
    );
  }
  const dModel = need(hf.n_embd, 'n_embd');
  const nHeads = need(hf.n_head, 'n_head');
  if (dModel % nHeads !== 0) {
    throw new ConfigError(`gpt2ConfigFromHf: n_embd (${dModel}) must be divisible by n_head (${nHeads})`);
  }
  return validateConfig({
    modelType,
    nLayers: need(hf.n_layer, 'n_layer'),
    dModel,
    nHeads,
    dHead: dModel / nHeads,
    dMlp: hf.n_inner ?? 4 * dModel,
    dVocab: need(hf.vocab_size, 'vocab_size'),
    nCtx: need(hf.n_positions ?? hf.n_ctx, 'n_positions'),
    actFn: act,
    eps: hf.layer_norm_epsilon ?? 1e-5,
    normalizationType: 'LN',
    attnOnly: hf.attn_only === true,
    bosTokenId: hf.bos_token_id ?? undefined,
    eosTokenId: hf.eos_token_id ?? undefined,
  });
}
