/**
 * EncoderConfig: architecture of a BERT / DistilBERT / RoBERTa encoder, and the mapping from their
 * Hugging Face config.json files (verbatim snake_case types). RoBERTa (Liu et al. 2019; HF
 * `modeling_roberta.py`) is BERT with padding-aware position ids (`position_ids.ts`).
 */
import { ConfigError } from '../../errors.js';
import type { ActFn } from '../config.js';

/** The HF `model_type` values {@link encoderConfigFromHf} maps, as its errors list them. */
const ENCODER_MODEL_TYPES = ['bert', 'distilbert', 'roberta'] as const;

/**
 * Architecture of a post-LN encoder (BERT, DistilBERT, RoBERTa).
 * @category Encoder
 */
export interface EncoderConfig {
  /** 'bert', 'distilbert' or 'roberta' (RoBERTa: position ids count real tokens from padTokenId + 1; padding takes padTokenId). */
  readonly modelType: 'bert' | 'distilbert' | 'roberta';
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
  /**
   * Number of learned positions (rows of W_pos, HF `max_position_embeddings`). BERT/DistilBERT
   * read up to nCtx tokens; RoBERTa's first padTokenId + 1 rows are its padding offset, so it reads
   * up to nCtx − padTokenId − 1 real tokens.
   */
  readonly nCtx: number;
  /** Token-type vocabulary (BERT 2; RoBERTa 1; DistilBERT 0 = no token-type embedding). */
  readonly typeVocabSize: number;
  /** MLP and MLM-head activation (exact erf GELU for both families). */
  readonly actFn: ActFn;
  /** LayerNorm epsilon (1e-12 for the HF checkpoints; RoBERTa's config.json may say 1e-5). */
  readonly eps: number;
  /** Padding token id (RoBERTa: also the position id of padding). */
  readonly padTokenId: number;
}

/**
 * Fields of a BERT or RoBERTa config.json (Hugging Face `BertConfig` / `RobertaConfig`, verbatim)
 * that {@link encoderConfigFromHf} reads.
 * @category Encoder
 */
export interface HfBertConfig {
  /** 'bert' or 'roberta' selects this mapping. */
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
  /** Token-type vocabulary → `typeVocabSize` (default 2, as both HF classes; RoBERTa checkpoints say 1). */
  type_vocab_size?: number;
  /** 'gelu' (default), 'gelu_new' or 'relu' → `actFn`. */
  hidden_act?: string;
  /** LayerNorm epsilon → `eps` (default 1e-12). */
  layer_norm_eps?: number;
  /** Padding id → `padTokenId` (default 0 for BERT, 1 for RoBERTa, as the HF classes). */
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

/** BERT and RoBERTa share config.json fields; RoBERTa's defaults are its HF class defaults. */
function bertLikeConfig(hf: HfBertConfig, modelType: 'bert' | 'roberta', fn: string): EncoderConfig {
  if (hf.position_embedding_type !== undefined && hf.position_embedding_type !== 'absolute') {
    throw new ConfigError(`${fn}: position_embedding_type '${hf.position_embedding_type}' is not supported (expected absolute)`);
  }
  const dModel = need(hf.hidden_size, 'hidden_size', fn);
  const nHeads = need(hf.num_attention_heads, 'num_attention_heads', fn);
  if (dModel % nHeads !== 0) throw new ConfigError(`${fn}: hidden_size (${dModel}) must be divisible by num_attention_heads (${nHeads})`);
  const nCtx = need(hf.max_position_embeddings, 'max_position_embeddings', fn);
  const padTokenId = hf.pad_token_id ?? (modelType === 'roberta' ? 1 : 0);
  if (modelType === 'roberta' && (!Number.isInteger(padTokenId) || padTokenId < 0 || padTokenId + 1 >= nCtx)) {
    throw new ConfigError(
      `${fn}: RoBERTa positions start at pad_token_id + 1, so pad_token_id must be an integer in [0, max_position_embeddings − 2] — got pad_token_id ${padTokenId}, max_position_embeddings ${nCtx}`,
    );
  }
  return {
    modelType, nLayers: need(hf.num_hidden_layers, 'num_hidden_layers', fn), dModel, nHeads, dHead: dModel / nHeads,
    dMlp: need(hf.intermediate_size, 'intermediate_size', fn), dVocab: need(hf.vocab_size, 'vocab_size', fn),
    nCtx, typeVocabSize: hf.type_vocab_size ?? 2, actFn: act(hf.hidden_act, fn), eps: hf.layer_norm_eps ?? 1e-12, padTokenId,
  };
}

/**
 * Map a BERT, DistilBERT or RoBERTa config.json to an {@link EncoderConfig}.
 * @param hf Parsed config.json.
 * @returns The config.
 * @throws {@link "tfjs-lens"!ConfigError} for other model types (the message lists the supported
 *   ones), missing fields or unsupported options.
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
  if (hf.model_type === 'bert' || hf.model_type === 'roberta') return bertLikeConfig(hf, hf.model_type, fn);
  throw new ConfigError(
    `${fn}: unsupported model_type '${String(hf.model_type)}' — expected one of ${ENCODER_MODEL_TYPES.join(', ')} (use HookedTransformer for decoders such as gpt2)`,
  );
}
