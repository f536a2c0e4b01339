/**
 * ModelConfig: architecture facts only (STYLE Convention 9). Field names follow TransformerLens's
 * HookedTransformerConfig in camelCase. The fields after `eosTokenId` are optional and default to
 * GPT-2's architecture (learned positions, LayerNorm, ungated MLP, sequential blocks, no GQA), so
 * one config type describes GPT-2, Llama, Mistral, Qwen2 and Pythia (GPT-NeoX).
 */
import { ConfigError } from '../errors.js';

/**
 * Activation functions the MLPs support. `gelu_new` is GPT-2's tanh approximation; `gelu` is exact erf.
 * @category Model
 */
export type ActFn = 'gelu_new' | 'gelu' | 'relu' | 'silu';

/**
 * Normalisation flavour (TL `normalization_type`): 'LN' is LayerNorm with an affine (w, b); 'LNPre'
 * has none (after fold_ln); 'RMS' is RMSNorm (no centring, weight only, Llama family); 'RMSPre' is
 * RMSNorm with its weight folded away.
 * @category Model
 */
export type NormalizationType = 'LN' | 'LNPre' | 'RMS' | 'RMSPre';

/** Positions: learned embedding added to the residual ('standard', GPT-2) or rotary on q and k. @category Model */
export type PositionalEmbeddingType = 'standard' | 'rotary';

/**
 * Architecture of a decoder (GPT-2 family) model.
 * @category Model
 */
export interface ModelConfig {
  /** Hugging Face `model_type`, e.g. 'gpt2'. */
  readonly modelType: string;
  /** Number of transformer blocks (n_layers). */
  readonly nLayers: number;
  /** Residual stream width (d_model). */
  readonly dModel: number;
  /** Attention heads per block (n_heads). */
  readonly nHeads: number;
  /** Width of one head (d_head = dModel / nHeads for GPT-2). */
  readonly dHead: number;
  /** MLP hidden width (d_mlp; GPT-2: 4 · dModel); unused when `attnOnly`. */
  readonly dMlp: number;
  /** Vocabulary size (d_vocab): rows of W_E (and columns of W_U unless `dVocabOut` says otherwise). */
  readonly dVocab: number;
  /** Maximum context (number of learned positions). */
  readonly nCtx: number;
  /** MLP activation function. */
  readonly actFn: ActFn;
  /** LayerNorm epsilon. */
  readonly eps: number;
  /** 'LN' (LayerNorms with w, b) or 'LNPre' (affines folded away by `foldLn`). */
  readonly normalizationType: NormalizationType;
  /** Attention-only models have no MLP (and no resid_mid / ln2 hooks). */
  readonly attnOnly: boolean;
  /** Beginning-of-sequence token id, if any (GPT-2: 50256, the same token as EOS). */
  readonly bosTokenId: number | undefined;
  /** End-of-sequence token id, if any (GPT-2: 50256); {@link HookedTransformer.generate}'s default stop token. */
  readonly eosTokenId: number | undefined;
  /** Key/value heads for grouped-query attention (TL `n_key_value_heads`; default: nHeads, plain multi-head). */
  readonly nKeyValueHeads?: number;
  /** 'standard' (learned W_pos, default) or 'rotary' (no W_pos; q and k rotated). */
  readonly positionalEmbeddingType?: PositionalEmbeddingType;
  /** Rotated dimensions of each head (TL `rotary_dim`; default dHead; Pythia: a quarter). Even. */
  readonly rotaryDim?: number;
  /** Rotary base θ (TL `rotary_base`; default 10000). */
  readonly rotaryBase?: number;
  /** Llama 3 rotary frequency scaling (TL `use_NTK_by_parts_rope`); none by default. */
  readonly ropeScaling?: RopeScaling;
  /** Gated MLP (SwiGLU): post = act(x·W_gate) ⊙ (x·W_in) + b_in (TL `gated_mlp`; default false). */
  readonly gatedMlp?: boolean;
  /** Parallel attention and MLP, both reading resid_pre (GPT-NeoX/Pythia; TL `parallel_attn_mlp`; default false). */
  readonly parallelAttnMlp?: boolean;
  /** Whether string inputs get BOS prepended by default (TL `default_prepend_bos`; default true). */
  readonly defaultPrependBos?: boolean;
  /** Sliding attention window (Mistral): query q attends keys k with q − window < k ≤ q; none by default. */
  readonly windowSize?: number;
  /** Output vocabulary (TL `d_vocab_out`): columns of W_U, the logits' width; default dVocab. */
  readonly dVocabOut?: number;
}

/**
 * A config whose `dVocab` may be left out, to be inferred from a tokenizer (TL `d_vocab = -1`):
 * what {@link HookedTransformer.fromConfig} takes.
 * @category Model
 */
export type ModelConfigInput = Omit<ModelConfig, 'dVocab'> & {
  /** Vocabulary size; default: the tokenizer's (largest id + 1). */
  readonly dVocab?: number;
};

/** The unembedding width (TL `d_vocab_out`): `dVocabOut`, else `dVocab`. @category Model */
export function dVocabOut(cfg: Pick<ModelConfig, 'dVocab' | 'dVocabOut'>): number {
  return cfg.dVocabOut ?? cfg.dVocab;
}

/**
 * Llama 3 rotary frequency scaling (HF `rope_scaling` with `rope_type: 'llama3'`).
 * @category Model
 */
export interface RopeScaling {
  /** Divisor of long-wavelength frequencies. */
  readonly factor: number;
  /** Wavelengths above originalMaxPositionEmbeddings / lowFreqFactor are scaled fully. */
  readonly lowFreqFactor: number;
  /** Wavelengths below originalMaxPositionEmbeddings / highFreqFactor are kept. */
  readonly highFreqFactor: number;
  /** Context length the model was pre-trained with. */
  readonly originalMaxPositionEmbeddings: number;
}

/** Key/value heads (nKeyValueHeads, or nHeads without grouped-query attention). @category Model */
export function kvHeads(cfg: Pick<ModelConfig, 'nHeads' | 'nKeyValueHeads'>): number {
  return cfg.nKeyValueHeads ?? cfg.nHeads;
}

/** Whether the model uses rotary positions (and has no W_pos). @category Model */
export function isRotary(cfg: Pick<ModelConfig, 'positionalEmbeddingType'>): boolean {
  return cfg.positionalEmbeddingType === 'rotary';
}

/** Whether the normalisation is RMSNorm ('RMS' or 'RMSPre'). @category Model */
export function isRms(cfg: Pick<ModelConfig, 'normalizationType'>): boolean {
  return cfg.normalizationType === 'RMS' || cfg.normalizationType === 'RMSPre';
}

/** Whether the norms carry weights ('LN' or 'RMS'; false once folded). @category Model */
export function hasNormWeights(cfg: Pick<ModelConfig, 'normalizationType'>): boolean {
  return cfg.normalizationType === 'LN' || cfg.normalizationType === 'RMS';
}

function positiveInt(v: unknown, field: string, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`${fn}: ${field} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Check a config for internal consistency.
 * @param cfg The config to check.
 * @returns The same config.
 * @throws {@link "tfjs-lens"!ConfigError} naming the bad field.
 * @category Model
 */
export function validateConfig(cfg: ModelConfig): ModelConfig {
  const fn = 'validateConfig';
  for (const f of ['nLayers', 'dModel', 'nHeads', 'dHead', 'dVocab', 'nCtx'] as const) {
    positiveInt(cfg[f], f, fn);
  }
  if (cfg.dVocabOut !== undefined) positiveInt(cfg.dVocabOut, 'dVocabOut', fn);
  if (!cfg.attnOnly) positiveInt(cfg.dMlp, 'dMlp', fn);
  if (!(cfg.eps > 0)) throw new ConfigError(`${fn}: eps must be > 0, got ${cfg.eps}`);
  if (!['gelu_new', 'gelu', 'relu', 'silu'].includes(cfg.actFn)) {
    throw new ConfigError(`${fn}: actFn must be gelu_new|gelu|relu|silu, got '${cfg.actFn}'`);
  }
  if (!['LN', 'LNPre', 'RMS', 'RMSPre'].includes(cfg.normalizationType)) {
    throw new ConfigError(`${fn}: normalizationType must be LN|LNPre|RMS|RMSPre, got '${cfg.normalizationType}'`);
  }
  const kv = kvHeads(cfg);
  positiveInt(kv, 'nKeyValueHeads', fn);
  if (cfg.nHeads % kv !== 0) {
    throw new ConfigError(`${fn}: nHeads (${cfg.nHeads}) must be a multiple of nKeyValueHeads (${kv}) for grouped-query attention`);
  }
  if (isRotary(cfg)) {
    const r = cfg.rotaryDim ?? cfg.dHead;
    if (!Number.isInteger(r) || r <= 0 || r % 2 !== 0 || r > cfg.dHead) {
      throw new ConfigError(`${fn}: rotaryDim must be an even integer in [2, dHead=${cfg.dHead}], got ${r}`);
    }
    if (!((cfg.rotaryBase ?? 10000) > 0)) throw new ConfigError(`${fn}: rotaryBase must be > 0, got ${cfg.rotaryBase}`);
  } else if (cfg.positionalEmbeddingType !== undefined && cfg.positionalEmbeddingType !== 'standard') {
    throw new ConfigError(`${fn}: positionalEmbeddingType must be 'standard' or 'rotary', got '${String(cfg.positionalEmbeddingType)}'`);
  }
  if (cfg.parallelAttnMlp === true && cfg.attnOnly) {
    throw new ConfigError(`${fn}: parallelAttnMlp needs an MLP (attnOnly is true)`);
  }
  return cfg;
}
