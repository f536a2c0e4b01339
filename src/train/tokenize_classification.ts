/**
 * Tokenising texts for a sequence classifier (node-free: the browser bundle's explanations use it
 * too; re-exported from finetune.ts).
 */
import { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';

/** Token ids and attention mask of texts, right-padded to the longest row. */
export interface TokenRows {
  /** Ids [rows, pos]. */
  readonly ids: number[][];
  /** 1 = real token [rows, pos]. */
  readonly mask: number[][];
}

/**
 * Tokenise texts for a sequence classifier, as `tfjs-lens finetune` / `classify` and
 * {@link finetuneClassifier} (texts) do. Encoders: `model.encode` (`[CLS] … [SEP]`), truncated to
 * min(maxLen, n_ctx). Decoders: no BOS, the head's pad id removed from each row (a causal LM pads
 * with EOS, so an EOS in the text would otherwise end the row early), truncated to
 * min(maxLen, n_ctx); a row left empty becomes [0]. Rows are right-padded with the pad id.
 * @param model The classifier.
 * @param texts Texts.
 * @param maxLen Most tokens per row (default: the encoder's longest row / the decoder's n_ctx).
 * @returns Ids and mask (plain arrays; no tensor is left behind).
 */
export function tokenizeForClassification(model: HookedEncoder | HookedTransformer, texts: readonly string[], maxLen?: number): TokenRows {
  if (model instanceof HookedEncoder) {
    const b = maxLen === undefined ? model.encode(texts) : model.encode(texts, Math.min(maxLen, model.cfg.nCtx));
    return { ids: b.ids, mask: b.attentionMask };
  }
  const pad = model.classifierHead?.padTokenId ?? 0;
  const most = Math.min(maxLen ?? model.cfg.nCtx, model.cfg.nCtx);
  const rows = texts.map((t) => {
    const ids = model.toTokens(t, { prependBos: false });
    try {
      const r = Array.from(ids.dataSync()).filter((id) => id !== pad).slice(0, most);
      return r.length === 0 ? [0] : r;
    } finally {
      ids.dispose();
    }
  });
  let len = 0;
  for (const r of rows) len = Math.max(len, r.length);
  return {
    ids: rows.map((r) => [...r, ...new Array<number>(len - r.length).fill(pad)]),
    mask: rows.map((r) => Array.from({ length: len }, (_, i) => (i < r.length ? 1 : 0))),
  };
}
