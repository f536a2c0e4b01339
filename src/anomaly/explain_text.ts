/**
 * The one-line explanation of a detection: the score and the tokens that push it up most
 * ("anomaly score 0.93 — unusual pattern in: 'free', 'txt', 'claim'"). Special tokens ([CLS], [SEP],
 * <s>, padding) and word-piece markers are handled so the line reads as words.
 */
import type { TokenAttribution } from './explain.js';

/** Options of {@link explanationLine}. @category Anomaly */
export interface ExplanationLineOptions {
  /** How many tokens to name (default 3). */
  readonly topK?: number;
  /** Score shown in the line (default the attribution's score; e.g. pass P(anomaly)). */
  readonly shownScore?: number;
  /** Tokens never named (default: [CLS], [SEP], [PAD], <s>, </s>, <pad>, <|endoftext|>). */
  readonly skip?: (token: string) => boolean;
}

const SPECIAL = new Set(['[CLS]', '[SEP]', '[PAD]', '[MASK]', '<s>', '</s>', '<pad>', '<|endoftext|>', '<unk>', '[UNK]']);

/** A token as read: no word-piece "##" prefix, the byte-level "Ġ"/SentencePiece "▁" space marker dropped. @category Anomaly */
export function readableToken(token: string): string {
  return token.replace(/^##/, '').replace(/^[Ġ▁]/, '').trim();
}

/**
 * The positions of the k largest positive attributions, special tokens skipped.
 * @param attr The attribution.
 * @param tokens Token strings of `attr.ids`.
 * @param k How many.
 * @param skip Tokens to skip.
 * @returns Positions, largest first.
 * @category Anomaly
 */
export function topTokenPositions(attr: TokenAttribution, tokens: readonly string[], k: number, skip: (t: string) => boolean = (t) => SPECIAL.has(t)): number[] {
  return attr.attributions
    .map((v, i) => [v, i] as const)
    .filter(([v, i]) => v > 0 && !skip(tokens[i] ?? '') && readableToken(tokens[i] ?? '') !== '')
    .sort((a, b) => b[0] - a[0])
    .slice(0, k)
    .map(([, i]) => i);
}

/**
 * The one-line explanation.
 * @param attr The attribution of the detector's score.
 * @param tokens Token strings of `attr.ids`.
 * @param opts topK, the shown score, tokens to skip.
 * @returns e.g. `anomaly score 0.93 — unusual pattern in: 'free', 'txt', 'claim' (integrated_gradients)`.
 * @example explanationLine(attr, model.toStrTokens(text), { shownScore: pSpam })
 * @category Anomaly
 */
export function explanationLine(attr: TokenAttribution, tokens: readonly string[], opts: ExplanationLineOptions = {}): string {
  const top = topTokenPositions(attr, tokens, opts.topK ?? 3, opts.skip);
  const score = (opts.shownScore ?? attr.score).toFixed(2);
  if (top.length === 0) return `anomaly score ${score} — no token pushes the score up (${attr.method})`;
  return `anomaly score ${score} — unusual pattern in: ${top.map((i) => `'${readableToken(tokens[i] ?? '')}'`).join(', ')} (${attr.method})`;
}
