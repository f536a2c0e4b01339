/**
 * Hugging Face config.json types (verbatim snake_case, STYLE Convention 15) and the mapping to
 * {@link ModelConfig}. Mirrors TransformerLens `convert_hf_model_config` for GPT2LMHeadModel,
 * LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM and GPTNeoXForCausalLM.
 */
import { ConfigError } from '../errors.js';
import { validateConfig, type ActFn, type ModelConfig, type RopeScaling } from './config.js';

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

/**
 * The fields of a Llama, Mistral or Qwen2 `config.json` (HF `LlamaConfig`, `MistralConfig`,
 * `Qwen2Config`, verbatim) that {@link llamaConfigFromHf} reads.
 * @category Model
 */
export interface HfLlamaConfig {
  /** 'llama', 'mistral' or 'qwen2'. */
  model_type?: string;
  /** Blocks → `nLayers`. */
  num_hidden_layers?: number;
  /** Residual width → `dModel`. */
  hidden_size?: number;
  /** Query heads → `nHeads`. */
  num_attention_heads?: number;
  /** Key/value heads → `nKeyValueHeads` (grouped-query attention when fewer than the query heads). */
  num_key_value_heads?: number | null;
  /** Head width (default hidden_size / num_attention_heads). */
  head_dim?: number | null;
  /** Gated-MLP width → `dMlp`. */
  intermediate_size?: number;
  /** Vocabulary → `dVocab`. */
  vocab_size?: number;
  /** Context → `nCtx`. */
  max_position_embeddings?: number;
  /** 'silu' (default), 'gelu', 'gelu_new', 'gelu_pytorch_tanh' or 'relu'. */
  hidden_act?: string;
  /** RMSNorm epsilon (default 1e-6). */
  rms_norm_eps?: number;
  /** Rotary base (default 10000). */
  rope_theta?: number;
  /** Rotary scaling: only `{rope_type: 'llama3', …}` is supported. */
  rope_scaling?: HfRopeScaling | null;
  /** Mistral's sliding attention window (null: none). */
  sliding_window?: number | null;
  /** Qwen2: whether the sliding window is used (default false). */
  use_sliding_window?: boolean;
  /** BOS id. */
  bos_token_id?: number | number[] | null;
  /** EOS id (a list: the first is used). */
  eos_token_id?: number | number[] | null;
  /** Whether lm_head shares W_E (then `lm_head.weight` may be absent). */
  tie_word_embeddings?: boolean;
  /** Llama: q/k/v/o projections have biases. */
  attention_bias?: boolean;
  /** Llama: MLP projections have biases. */
  mlp_bias?: boolean;
}

/**
 * The fields of a GPT-NeoX (Pythia) `config.json` (HF `GPTNeoXConfig`, verbatim) that
 * {@link neoxConfigFromHf} reads.
 * @category Model
 */
export interface HfNeoxConfig {
  /** 'gpt_neox'. */
  model_type?: string;
  /** Blocks → `nLayers`. */
  num_hidden_layers?: number;
  /** Residual width → `dModel`. */
  hidden_size?: number;
  /** Heads → `nHeads`. */
  num_attention_heads?: number;
  /** MLP width → `dMlp`. */
  intermediate_size?: number;
  /** Vocabulary → `dVocab`. */
  vocab_size?: number;
  /** Context → `nCtx`. */
  max_position_embeddings?: number;
  /** 'gelu' (default), 'gelu_new', 'relu'. */
  hidden_act?: string;
  /** LayerNorm epsilon (default 1e-5). */
  layer_norm_eps?: number;
  /** Fraction of each head rotated (default 0.25); rotaryDim = floor(rotary_pct · d_head) as HF computes it. */
  rotary_pct?: number;
  /** Rotary base (default 10000). */
  rotary_emb_base?: number;
  /** Parallel attention and MLP (default true). */
  use_parallel_residual?: boolean;
  /** BOS id. */
  bos_token_id?: number | null;
  /** EOS id. */
  eos_token_id?: number | null;
  /** Whether `embed_out` shares W_E. */
  tie_word_embeddings?: boolean;
  /** Rotary scaling (unsupported when set). */
  rope_scaling?: unknown;
}

/** HF `rope_scaling` (verbatim); only Llama 3's kind is supported. @category Model */
export interface HfRopeScaling {
  /** 'llama3' (newer configs). */
  rope_type?: string;
  /** 'llama3' (older configs). */
  type?: string;
  /** Divisor of long-wavelength frequencies. */
  factor?: number;
  /** Low-frequency factor. */
  low_freq_factor?: number;
  /** High-frequency factor. */
  high_freq_factor?: number;
  /** Pre-training context length. */
  original_max_position_embeddings?: number;
}

const FAMILY_ACT: Record<string, ActFn> = { silu: 'silu', swish: 'silu', gelu: 'gelu', gelu_new: 'gelu_new', gelu_pytorch_tanh: 'gelu_new', relu: 'relu' };

function actFrom(name: string, fn: string): ActFn {
  const a = FAMILY_ACT[name];
  if (a === undefined) throw new ConfigError(`${fn}: unsupported hidden_act '${name}' (supported: ${Object.keys(FAMILY_ACT).join(', ')})`);
  return a;
}

function needIn(v: number | undefined | null, field: string, fn: string): number {
  if (typeof v !== 'number') throw new ConfigError(`${fn}: config.json lacks '${field}' (expected a number)`);
  return v;
}

function firstId(v: number | number[] | null | undefined): number | undefined {
  if (Array.isArray(v)) return v[0];
  return v ?? undefined;
}

/**
 * Map a Llama, Mistral or Qwen2 `config.json` to a {@link ModelConfig} (TransformerLens
 * `convert_hf_model_config` for LlamaForCausalLM / MistralForCausalLM / Qwen2ForCausalLM):
 * RMSNorm, rotary positions on the whole head, gated MLP, grouped-query attention when
 * num_key_value_heads < num_attention_heads.
 * @param hf Parsed config.json.
 * @returns The validated config.
 * @throws {@link "tfjs-lens"!ConfigError} on missing fields or unsupported options.
 * @example llamaConfigFromHf(JSON.parse(readFileSync('config.json', 'utf8')))
 * @category Model
 */
export function llamaConfigFromHf(hf: HfLlamaConfig): ModelConfig {
  const fn = 'llamaConfigFromHf';
  const modelType = hf.model_type ?? 'llama';
  const dModel = needIn(hf.hidden_size, 'hidden_size', fn);
  const nHeads = needIn(hf.num_attention_heads, 'num_attention_heads', fn);
  const dHead = hf.head_dim ?? dModel / nHeads;
  if (!Number.isInteger(dHead)) throw new ConfigError(`${fn}: hidden_size (${dModel}) must be divisible by num_attention_heads (${nHeads}) or head_dim given`);
  const nKv = hf.num_key_value_heads ?? nHeads;
  let ropeScaling: RopeScaling | undefined;
  const rs = hf.rope_scaling;
  if (rs !== null && rs !== undefined) {
    const kind = rs.rope_type ?? rs.type;
    if (kind !== 'llama3') throw new ConfigError(`${fn}: rope_scaling type '${String(kind)}' is not supported (only 'llama3')`);
    ropeScaling = {
      factor: needIn(rs.factor, 'rope_scaling.factor', fn),
      lowFreqFactor: needIn(rs.low_freq_factor, 'rope_scaling.low_freq_factor', fn),
      highFreqFactor: needIn(rs.high_freq_factor, 'rope_scaling.high_freq_factor', fn),
      originalMaxPositionEmbeddings: needIn(rs.original_max_position_embeddings, 'rope_scaling.original_max_position_embeddings', fn),
    };
  }
  const nCtx = needIn(hf.max_position_embeddings, 'max_position_embeddings', fn);
  const window = modelType === 'qwen2' && hf.use_sliding_window !== true ? null : hf.sliding_window;
  return validateConfig({
    modelType,
    nLayers: needIn(hf.num_hidden_layers, 'num_hidden_layers', fn),
    dModel,
    nHeads,
    dHead,
    dMlp: needIn(hf.intermediate_size, 'intermediate_size', fn),
    dVocab: needIn(hf.vocab_size, 'vocab_size', fn),
    nCtx,
    actFn: actFrom(hf.hidden_act ?? 'silu', fn),
    eps: hf.rms_norm_eps ?? 1e-6,
    normalizationType: 'RMS',
    attnOnly: false,
    bosTokenId: firstId(hf.bos_token_id),
    eosTokenId: firstId(hf.eos_token_id),
    ...(nKv === nHeads ? {} : { nKeyValueHeads: nKv }),
    positionalEmbeddingType: 'rotary',
    rotaryDim: dHead,
    rotaryBase: hf.rope_theta ?? 10000,
    ...(ropeScaling === undefined ? {} : { ropeScaling }),
    gatedMlp: true,
    parallelAttnMlp: false,
    // TL sets default_prepend_bos = False for Qwen models.
    defaultPrependBos: modelType !== 'qwen2',
    ...(window !== null && window !== undefined && window < nCtx ? { windowSize: window } : {}),
  });
}

/**
 * Map a GPT-NeoX (Pythia) `config.json` to a {@link ModelConfig} (TL `convert_hf_model_config` for
 * GPTNeoXForCausalLM): LayerNorm with bias, rotary on the first rotary_pct of each head, parallel
 * attention and MLP.
 * @param hf Parsed config.json.
 * @returns The validated config.
 * @throws {@link "tfjs-lens"!ConfigError} on missing fields or unsupported options.
 * @example neoxConfigFromHf(JSON.parse(readFileSync('config.json', 'utf8')))
 * @category Model
 */
export function neoxConfigFromHf(hf: HfNeoxConfig): ModelConfig {
  const fn = 'neoxConfigFromHf';
  if (hf.rope_scaling !== null && hf.rope_scaling !== undefined) throw new ConfigError(`${fn}: rope_scaling is not supported for gpt_neox`);
  const dModel = needIn(hf.hidden_size, 'hidden_size', fn);
  const nHeads = needIn(hf.num_attention_heads, 'num_attention_heads', fn);
  if (dModel % nHeads !== 0) throw new ConfigError(`${fn}: hidden_size (${dModel}) must be divisible by num_attention_heads (${nHeads})`);
  const dHead = dModel / nHeads;
  const rotaryDim = Math.floor(dHead * (hf.rotary_pct ?? 0.25));
  return validateConfig({
    modelType: hf.model_type ?? 'gpt_neox',
    nLayers: needIn(hf.num_hidden_layers, 'num_hidden_layers', fn),
    dModel,
    nHeads,
    dHead,
    dMlp: needIn(hf.intermediate_size, 'intermediate_size', fn),
    dVocab: needIn(hf.vocab_size, 'vocab_size', fn),
    nCtx: needIn(hf.max_position_embeddings, 'max_position_embeddings', fn),
    actFn: actFrom(hf.hidden_act ?? 'gelu', fn),
    eps: hf.layer_norm_eps ?? 1e-5,
    normalizationType: 'LN',
    attnOnly: false,
    bosTokenId: hf.bos_token_id ?? undefined,
    eosTokenId: hf.eos_token_id ?? undefined,
    positionalEmbeddingType: 'rotary',
    rotaryDim,
    rotaryBase: hf.rotary_emb_base ?? 10000,
    gatedMlp: false,
    parallelAttnMlp: hf.use_parallel_residual ?? true,
  });
}

/** A decoder `config.json` of any supported family (the fields each mapper reads). @category Model */
export type HfDecoderConfig = HfGpt2Config & HfLlamaConfig & HfNeoxConfig;

/** Decoder `model_type`s the loader supports. @category Model */
export const DECODER_MODEL_TYPES = ['gpt2', 'llama', 'mistral', 'qwen2', 'gpt_neox'] as const;

/**
 * Map any supported decoder `config.json` to a {@link ModelConfig}, by `model_type`.
 * @param hf Parsed config.json.
 * @returns The validated config.
 * @throws {@link "tfjs-lens"!ConfigError} for an unsupported model_type (naming the supported ones) or bad fields.
 * @example decoderConfigFromHf({ model_type: 'llama', … })
 * @category Model
 */
export function decoderConfigFromHf(hf: HfDecoderConfig): ModelConfig {
  const t = hf.model_type ?? 'gpt2';
  if (t === 'gpt2') return gpt2ConfigFromHf(hf);
  if (t === 'llama' || t === 'mistral' || t === 'qwen2') return llamaConfigFromHf(hf);
  if (t === 'gpt_neox') return neoxConfigFromHf(hf);
  const encoder = ['bert', 'distilbert', 'roberta'].includes(t) ? ` ('${t}' is an encoder: use HookedEncoder)` : '';
  throw new ConfigError(`decoderConfigFromHf: model_type '${t}' is not supported${encoder}; supported decoders: ${DECODER_MODEL_TYPES.join(', ')}`);
}
