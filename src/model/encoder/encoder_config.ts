/**
 * EncoderConfig: architecture of a BERT / DistilBERT encoder, and the mapping from their Hugging
 * Face config.json files (verbatim snake_case types).
 */
import { ConfigError } from '../../errors.js';
import type { ActFn } from '../config.js';

/**
 * Architecture of a post-LN encoder (BERT, DistilBERT).
 * @category Encoder
 */
export interface EncoderConfig {
  /** 'bert' or 'distilbert'. */
  readonly modelType: 'bert' | 'distilbert';
  /** Number of transformer blocks. */
  readonly nLayers: number;
  /** Residual stream width. */
  readonly dModel: number;
  /** Attention heads per block. */
  readonly nHeads: number;
  /** Width of one head (dModel / nHeads). */
  readonly dHead: number;
  /** MLP hidden width. */
  readonly dMlp: number;
  /** Vocabulary size. */
  readonly dVocab: number;
  /** Number of learned positions. */
  readonly nCtx: number;
  /** Token-type vocabulary (BERT 2; DistilBERT 0 = no token-type embedding). */
  readonly typeVocabSize: number;
  /** MLP and MLM-head activation (exact erf GELU for both families). */
  readonly actFn: ActFn;
  /** LayerNorm epsilon (1e-12). */
  readonly eps: number;
  /** Padding token id. */
  readonly padTokenId: number;
}

/**
 * Fields of a BERT config.json (Hugging Face `BertConfig`, verbatim) that {@link encoderConfigFromHf} reads.
 * @category Encoder
 */
export interface HfBertConfig {
  /** 'bert' selects this mapping. */
  model_type?: string;
  /** Residual width → `dModel` (required). */
  hidden_size?: number;
  /** Number of blocks → `nLayers` (required). */
  num_hidden_layers?: number;
  /** Attention heads → `nHeads` (required; must divide `hidden_size`). */
  num_attention_heads?: number;
  /** MLP width → `dMlp` (required). */
  intermediate_size?: number;
  /** Vocabulary size → `dVocab` (required). */
  vocab_size?: number;
  /** Learned positions → `nCtx` (required). */
  max_position_embeddings?: number;
  /** Token-type vocabulary → `typeVocabSize` (default 2). */
  type_vocab_size?: number;
  /** 'gelu' (default), 'gelu_new' or 'relu' → `actFn`. */
  hidden_act?: string;
  /** LayerNorm epsilon → `eps` (default 1e-12). */
  layer_norm_eps?: number;
  /** Padding id → `padTokenId` (default 0). */
  pad_token_id?: number;
  /** Only 'absolute' (the default) is supported. */
  position_embedding_type?: string;
}

/**
 * Fields of a DistilBERT config.json (Hugging Face `DistilBertConfig`, verbatim) that
 * {@link encoderConfigFromHf} reads.
 * @category Encoder
 */
export interface HfDistilBertConfig {
  /** 'distilbert' selects this mapping. */
  model_type?: string;
  /** Residual width → `dModel` (required). */
  dim?: number;
  /** Number of blocks → `nLayers` (required). */
  n_layers?: number;
  /** Attention heads → `nHeads` (required; must divide `dim`). */
  n_heads?: number;
  /** MLP width → `dMlp` (required). */
  hidden_dim?: number;
  /** Vocabulary size → `dVocab` (required). */
  vocab_size?: number;
  /** Learned positions → `nCtx` (required). */
  max_position_embeddings?: number;
  /** 'gelu' (default), 'gelu_new' or 'relu' → `actFn`. */
  activation?: string;
  /** Padding id → `padTokenId` (default 0). */
  pad_token_id?: number;
  /** Sinusoidal positions; `true` is rejected. */
  sinusoidal_pos_embds?: boolean;
}

function need(v: number | undefined, field: string, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`${fn}: config.json field '${field}' must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function act(name: string | undefined, fn: string): ActFn {
  if (name === undefined || name === 'gelu') return 'gelu';
  if (name === 'relu') return 'relu';
  if (name === 'gelu_new') return 'gelu_new';
  throw new ConfigError(`${fn}: unsupported activation '${name}' (expected gelu|gelu_new|relu)`);
}

/**
 * Map a BERT or DistilBERT config.json to an {@link EncoderConfig}.
 * @param hf Parsed config.json.
 * @returns The config.
 * @throws {@link "tfjs-lens"!ConfigError} for other model types, missing fields or unsupported options.
 * @example encoderConfigFromHf(JSON.parse(readFileSync('config.json', 'utf8')))
 * @category Encoder
 */
export function encoderConfigFromHf(hf: HfBertConfig & HfDistilBertConfig): EncoderConfig {
  const fn = 'encoderConfigFromHf';
  if (hf.model_type === 'distilbert') {
    if (hf.sinusoidal_pos_embds === true) throw new ConfigError(`${fn}: sinusoidal_pos_embds=true is not supported`);
    const dModel = need(hf.dim, 'dim', fn);
    const nHeads = need(hf.n_heads, 'n_heads', fn);
    if (dModel % nHeads !== 0) throw new ConfigError(`${fn}: dim (${dModel}) must be divisible by n_heads (${nHeads})`);
    return {
      modelType: 'distilbert', nLayers: need(hf.n_layers, 'n_layers', fn), dModel, nHeads, dHead: dModel / nHeads,
      dMlp: need(hf.hidden_dim, 'hidden_dim', fn), dVocab: need(hf.vocab_size, 'vocab_size', fn),
      nCtx: need(hf.max_position_embeddings, 'max_position_embeddings', fn), typeVocabSize: 0,
      actFn: act(hf.activation, fn), eps: 1e-12, padTokenId: hf.pad_token_id ?? 0,
    };
  }
  if (hf.model_type === 'bert') {
    if (hf.position_embedding_type !== undefined && hf.position_embedding_type !== 'absolute') {
      throw new ConfigError(`${fn}: position_embedding_type '${hf.position_embedding_type}' is not supported (expected absolute)`);
    }
    const dModel = need(hf.hidden_size, 'hidden_size', fn);
    const nHeads = need(hf.num_attention_heads, 'num_attention_heads', fn);
    if (dModel % nHeads !== 0) throw new ConfigError(`${fn}: hidden_size (${dModel}) must be divisible by num_attention_heads (${nHeads})`);
    return {
      modelType: 'bert', nLayers: need(hf.num_hidden_layers, 'num_hidden_layers', fn), dModel, nHeads, dHead: dModel / nHeads,
      dMlp: need(hf.intermediate_size, 'intermediate_size', fn), dVocab: need(hf.vocab_size, 'vocab_size', fn),
      nCtx: need(hf.max_position_embeddings, 'max_position_embeddings', fn), typeVocabSize: hf.type_vocab_size ?? 2,
      actFn: act(hf.hidden_act, fn), eps: hf.layer_norm_eps ?? 1e-12, padTokenId: hf.pad_token_id ?? 0,
    };
  }
  throw new ConfigError(
    `${fn}: model_type must be 'bert' or 'distilbert', got '${hf.model_type}' (use HookedTransformer for gpt2)`,
  );
}
