/**
 * The hook contract: one table per model family lists every hook point with its shape, the flag
 * that enables it and the model feature it needs (STYLE Convention 8). The table is the single
 * source of truth: the model registers exactly its rows, the hook-name types are derived from it,
 * the run path sizes caches from its shapes, and docs/hooks.md is generated from it.
 */
import { ConfigError } from '../errors.js';

/** Glossary shapes shared by the hook tables (read as [batch, pos, d_model] …). */
export const SHAPES = {
  BPD: ['batch', 'pos', 'd_model'],
  BPHD: ['batch', 'pos', 'n_heads', 'd_model'],
  BPHE: ['batch', 'pos', 'n_heads', 'd_head'],
  BPKE: ['batch', 'pos', 'n_kv_heads', 'd_head'],
  BPKD: ['batch', 'pos', 'n_kv_heads', 'd_model'],
  BHQK: ['batch', 'n_heads', 'pos_q', 'pos_k'],
  BPM: ['batch', 'pos', 'd_mlp'],
  SCALE: ['batch', 'pos', 1],
  BD: ['batch', 'd_model'],
  BL: ['batch', 'n_labels'],
} as const;

/** Optional hook points that TransformerLens gates behind config flags. @category Hooks */
export interface HookFlags {
  /** `blocks.{l}.attn.hook_result`: per-head output before summing [batch, pos, n_heads, d_model]. */
  readonly useAttnResult?: boolean;
  /** `blocks.{l}.hook_q_input|hook_k_input|hook_v_input`: per-head copies of the attention input. */
  readonly useSplitQkvInput?: boolean;
  /** `blocks.{l}.hook_mlp_in`: the MLP input. */
  readonly useHookMlpIn?: boolean;
  /** `blocks.{l}.hook_attn_in`: attention input repeated per head. */
  readonly useAttnIn?: boolean;
}

/** The flag names, for iteration. @category Hooks */
export const FLAG_NAMES = ['useAttnResult', 'useSplitQkvInput', 'useHookMlpIn', 'useAttnIn'] as const;

/** One of the {@link HookFlags}. @category Hooks */
export type FlagName = (typeof FLAG_NAMES)[number];

/**
 * Model features a hook row can depend on (a row whose feature the model lacks is not registered):
 * `mlp` (not attention-only), `residMid` (an MLP after attention, not in parallel with it),
 * `posEmbed` (learned positions), `rotary` (rotary positions), `gatedMlp` (SwiGLU-style MLP),
 * `tokenTypes` and `mlmHead` (encoders), `classifier` (a sequence-classification head) and
 * `classifierDense` (one with a dense layer before its output projection: BERT, DistilBERT, RoBERTa).
 */
export type HookFeature = 'mlp' | 'residMid' | 'posEmbed' | 'rotary' | 'gatedMlp' | 'tokenTypes' | 'mlmHead' | 'classifier' | 'classifierDense';

/**
 * Head rows of a sequence-classification head (`*ForSequenceClassification`), shared by the
 * encoder and decoder tables: the pooled token, the dense layer and its activation (encoders), the
 * class logits.
 */
export const CLASSIFIER_HEAD_ROWS = [
  {
    name: 'classifier.hook_in', shape: SHAPES.BD, requires: 'classifier',
    description: 'hidden state the head reads: the first token ([CLS], <s>) of the encoder output; the decoder\'s final-norm output at the last non-padding token',
  },
  { name: 'classifier.hook_pre', shape: SHAPES.BD, requires: 'classifierDense', description: 'dense(hook_in): BERT pooler.dense, DistilBERT pre_classifier, RoBERTa classifier.dense' },
  { name: 'classifier.hook_pooled', shape: SHAPES.BD, requires: 'classifierDense', description: 'tanh (BERT pooler output, RoBERTa) or ReLU (DistilBERT) of hook_pre' },
  { name: 'classifier.hook_logits', shape: SHAPES.BL, requires: 'classifier', description: 'class logits (the model output): classifier / out_proj / score' },
] as const satisfies readonly (HookRow & { readonly name: ClassifierHookName })[];

/** A classification-head hook name. @category Hooks */
export type ClassifierHookName = 'classifier.hook_in' | 'classifier.hook_pre' | 'classifier.hook_pooled' | 'classifier.hook_logits';

/** Where a hook sits in the forward pass: before the blocks, in block `layer`, or after the blocks. */
export type HookStage = 'embed' | 'block' | 'head';

/** One row of a hook table (a block row's `name` is the suffix after `blocks.{l}.`). */
export interface HookRow {
  /** Full name (embed/head rows) or suffix after `blocks.{l}.` (block rows). */
  readonly name: string;
  /** Symbolic shape using glossary names. */
  readonly shape: readonly (string | number)[];
  /** What the activation is, in a few words. */
  readonly description: string;
  /** The flag that enables it, if it is optional. */
  readonly flag?: FlagName;
  /** The model feature it needs. */
  readonly requires?: HookFeature;
  /** ln1 of a pre-LN block: with split q/k/v inputs it runs once per input, per head (TL). */
  readonly perHeadWhenSplit?: true;
}

/** A hook table: rows before the blocks, per block, after the blocks. */
export interface HookTable {
  readonly embed: readonly HookRow[];
  readonly block: readonly HookRow[];
  readonly head: readonly HookRow[];
}

/** One hook point of a model as it runs under a set of flags. @category Hooks */
export interface HookSpec {
  /** Full hook name, e.g. `blocks.0.hook_resid_pre`. */
  readonly name: string;
  /** Symbolic shape using glossary names, e.g. ['batch', 'pos', 'd_model']. */
  readonly shape: readonly (string | number)[];
  /** The flag that enables it, if it is optional. */
  readonly flag?: FlagName;
  /** What the activation is, in a few words (e.g. 'token embedding W_E[tokens]'). */
  readonly description: string;
  /** Before the blocks, in a block, or after them. */
  readonly stage: HookStage;
  /** Block index for block hooks. */
  readonly layer?: number;
  /** How many times it fires in one forward pass (3 for a pre-LN ln1 with split q/k/v inputs, else 1). */
  readonly fires: number;
}

/** Whether any split-input flag is on (ln1 then runs per head on each of q/k/v inputs). */
function splitInputs(flags: HookFlags): boolean {
  return flags.useSplitQkvInput === true || flags.useAttnIn === true;
}

function spec(row: HookRow, name: string, stage: HookStage, flags: HookFlags, layer?: number): HookSpec {
  const split = row.perHeadWhenSplit === true && splitInputs(flags);
  const shape = split ? [...row.shape.slice(0, 2), 'n_heads', ...row.shape.slice(2)] : row.shape;
  const out: HookSpec = { name, shape, description: row.description, stage, fires: split ? 3 : 1 };
  return {
    ...out,
    ...(row.flag === undefined ? {} : { flag: row.flag }),
    ...(layer === undefined ? {} : { layer }),
  };
}

/**
 * Expand a hook table for a model: every row whose feature the model has, in forward order, with
 * shapes and firing counts under `flags` (flag-gated rows are included and marked).
 * @param table The family's table.
 * @param nLayers Number of blocks.
 * @param features The model's features.
 * @param flags Flags in force (they change ln1's shape and firing count with split inputs).
 * @returns The specs in forward order.
 */
export function expandHookTable(
  table: HookTable,
  nLayers: number,
  features: ReadonlySet<HookFeature>,
  flags: HookFlags = {},
): HookSpec[] {
  const has = (r: HookRow): boolean => r.requires === undefined || features.has(r.requires);
  const out: HookSpec[] = table.embed.filter(has).map((r) => spec(r, r.name, 'embed', flags));
  for (let l = 0; l < nLayers; l++) {
    for (const r of table.block) if (has(r)) out.push(spec(r, `blocks.${l}.${r.name}`, 'block', flags, l));
  }
  for (const r of table.head) if (has(r)) out.push(spec(r, r.name, 'head', flags));
  return out;
}

/** Whether a hook spec fires under the given flags. */
export function isEnabled(spec: Pick<HookSpec, 'flag'>, flags: HookFlags): boolean {
  return spec.flag === undefined || flags[spec.flag] === true;
}

/** The model sizes a symbolic hook shape refers to (a ModelConfig fits). */
export interface HookDimsConfig {
  readonly dModel: number;
  readonly nHeads: number;
  readonly nKeyValueHeads?: number;
  readonly dHead: number;
  readonly dMlp: number;
  readonly dVocab: number;
  /** Class labels of a sequence-classification head (`n_labels`; 0 without one). */
  readonly nLabels?: number;
}

/**
 * Sizes of the glossary dimensions for a model and an input (`pos_q`/`pos_k` = `pos`;
 * `n_kv_heads` = n_heads without grouped-query attention).
 * @param cfg Model sizes.
 * @param batch Batch size (omit for a table without the input's dimensions).
 * @param pos Sequence length.
 * @returns Name → size.
 */
export function hookDims(cfg: HookDimsConfig, batch?: number, pos?: number): Record<string, number> {
  const dims: Record<string, number> = {
    d_model: cfg.dModel, n_heads: cfg.nHeads, n_kv_heads: cfg.nKeyValueHeads ?? cfg.nHeads, d_head: cfg.dHead,
    d_mlp: cfg.dMlp, d_vocab: cfg.dVocab, n_labels: cfg.nLabels ?? 0,
  };
  if (batch !== undefined) dims['batch'] = batch;
  if (pos !== undefined) Object.assign(dims, { pos, pos_q: pos, pos_k: pos });
  return dims;
}

/**
 * A concrete shape from a symbolic one (`pos_q`/`pos_k` default to `pos`).
 * @param shape Symbolic shape of a hook spec.
 * @param dims Sizes ({@link hookDims}).
 * @returns The sizes.
 * @throws {@link "tfjs-lens"!ConfigError} for a symbol `dims` does not give (a table row with an unknown dimension).
 */
export function specShape(shape: readonly (string | number)[], dims: Readonly<Record<string, number>>): number[] {
  return shape.map((d) => {
    const size = typeof d === 'number' ? d : (dims[d] ?? (d === 'pos_q' || d === 'pos_k' ? dims['pos'] : undefined));
    if (size === undefined) throw new ConfigError(`specShape: no size for dimension '${d}' (known: ${Object.keys(dims).join(', ')})`);
    return size;
  });
}

/**
 * Bytes of float32 an activation of this shape holds.
 * @throws {@link "tfjs-lens"!ConfigError} for a symbol `dims` does not give.
 */
export function specBytes(shape: readonly (string | number)[], dims: Readonly<Record<string, number>>): number {
  return specShape(shape, dims).reduce((a, b) => a * b, 4);
}

/** `blocks.{l}` for a layer index, typed as a template literal. */
export function blockPrefix(l: number): `blocks.${number}` {
  return `blocks.${l}`;
}
