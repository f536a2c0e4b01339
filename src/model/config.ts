/**
 * ModelConfig: architecture facts only (STYLE Convention 9), plus the GPT-2 presets.
 * Field names follow TransformerLens's HookedTransformerConfig in camelCase.
 */
import { ConfigError } from '../errors.js';

/**
 * Activation functions the MLPs support. `gelu_new` is GPT-2's tanh approximation; `gelu` is exact erf.
 * @category Model
 */
export type ActFn = 'gelu_new' | 'gelu' | 'relu';

/** LayerNorm flavour: 'LN' has an affine (w, b); 'LNPre' has none (after fold_ln). @category Model */
export type NormalizationType = 'LN' | 'LNPre';

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
  /** Vocabulary size (d_vocab): rows of W_E, columns of W_U. */
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
  if (!cfg.attnOnly) positiveInt(cfg.dMlp, 'dMlp', fn);
  if (!(cfg.eps > 0)) throw new ConfigError(`${fn}: eps must be > 0, got ${cfg.eps}`);
  if (!['gelu_new', 'gelu', 'relu'].includes(cfg.actFn)) {
    throw new ConfigError(`${fn}: actFn must be gelu_new|gelu|relu, got '${cfg.actFn}'`);
  }
  return cfg;
}
