/**
 * Semantic shifts of free text, driven by a lexicon (category → words): replace a word by one of
 * another category ("cotton" → "tonight"), exchange two words of different categories, or — given a
 * context and user rules — put a value that contradicts the context ("Leather" in a "vegan" line).
 */
import type { Rng } from '../../utils/rng.js';
import { pick, shuffled, type TextEditResult, type TextSpan } from './types.js';

/** Category name → words of that category (matched whole-word, case-insensitively). @category Data */
export type AnomalyLexicon = Readonly<Record<string, readonly string[]>>;

/**
 * A contradiction rule: in rows whose context is `context`, any of `values` in field `field`
 * contradicts it (`{ context: 'vegan', field: 'material', values: ['Leather', 'Wool'] }`). For free
 * text, `field` is a lexicon category whose word gets replaced; for tabular rows it is a column.
 * @category Data
 */
export interface ContradictionRule {
  /** The context value the rule applies to (compared case-insensitively). */
  readonly context: string;
  /** Lexicon category (text) or column name (tabular rows). */
  readonly field: string;
  /** Values that contradict the context. */
  readonly values: readonly (string | number)[];
}

/**
 * A small general-purpose default lexicon (times, meals, places, people, colours, materials), enough
 * for category swaps on short messages such as SMS.
 * @category Data
 */
export const DEFAULT_ANOMALY_LEXICON: AnomalyLexicon = {
  time: ['today', 'tomorrow', 'tonight', 'yesterday', 'night', 'week', 'later', 'morning', 'afternoon', 'evening', 'weekend', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
  meal: ['lunch', 'dinner', 'breakfast', 'pizza', 'coffee', 'tea', 'cake', 'chocolate', 'beer'],
  place: ['home', 'office', 'school', 'college', 'work', 'shop', 'church', 'hospital', 'station', 'class', 'house', 'bed', 'room', 'car'],
  person: ['mum', 'mom', 'dad', 'brother', 'sister', 'wife', 'husband', 'baby', 'friend', 'boss', 'girl', 'boy', 'man'],
  colour: ['red', 'blue', 'green', 'black', 'white', 'yellow', 'pink'],
  material: ['cotton', 'polyester', 'leather', 'wool', 'silk', 'linen', 'denim', 'nylon'],
};

/** A lexicon word found in a text. */
interface Hit { readonly start: number; readonly word: string; readonly category: string }

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Every whole-word lexicon occurrence in a text, in text order. */
export function lexiconHits(text: string, lexicon: AnomalyLexicon): Hit[] {
  const out: Hit[] = [];
  for (const [category, words] of Object.entries(lexicon)) {
    for (const w of words) {
      for (const m of text.matchAll(new RegExp(`(?<![\\p{L}\\p{N}])${escape(w)}(?![\\p{L}\\p{N}])`, 'giu'))) out.push({ start: m.index, word: m[0], category });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** `value` written in the case pattern of `model` (UPPER, Title or lower). */
function likeCase(value: string, model: string): string {
  if (model.length > 1 && model === model.toUpperCase() && model !== model.toLowerCase()) return value.toUpperCase();
  if (model[0] !== undefined && model[0] === model[0].toUpperCase() && model[0] !== model[0].toLowerCase()) return (value[0] ?? '').toUpperCase() + value.slice(1);
  return value;
}

function replaceAt(text: string, spans: TextSpan[], detail: string): TextEditResult {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const s of sorted) {
    out += text.slice(at, s.start) + s.after;
    at = s.end;
  }
  return { text: out + text.slice(at), spans: sorted, detail };
}

/**
 * Replace one lexicon word by a word of another category ("cotton" → "tonight").
 * @param text The text.
 * @param rng Seeded generator.
 * @param lexicon Categories (at least two non-empty).
 * @returns The edit, or undefined when no lexicon word is present.
 * @example categorySwap('see you tomorrow', seededRng(0), DEFAULT_ANOMALY_LEXICON)
 * @category Data
 */
export function categorySwap(text: string, rng: Rng, lexicon: AnomalyLexicon): TextEditResult | undefined {
  const hits = lexiconHits(text, lexicon);
  if (hits.length === 0) return undefined;
  const hit = pick(rng, hits);
  const others = Object.entries(lexicon).filter(([c, ws]) => c !== hit.category && ws.length > 0);
  for (const [category, words] of shuffled(rng, others)) {
    const cands = words.filter((w) => w.toLowerCase() !== hit.word.toLowerCase());
    if (cands.length === 0) continue;
    const after = likeCase(pick(rng, cands), hit.word);
    return replaceAt(text, [{ start: hit.start, end: hit.start + hit.word.length, before: hit.word, after }], `${hit.category} '${hit.word}' → ${category} '${after}'`);
  }
  return undefined;
}

/**
 * Exchange two lexicon words of different categories ("red cotton shirt" → "cotton red shirt").
 * @param text The text.
 * @param rng Seeded generator.
 * @param lexicon Categories.
 * @returns The edit, or undefined without two non-overlapping words of different categories.
 * @example fieldSwap('red cotton shirt', seededRng(0), DEFAULT_ANOMALY_LEXICON).text  // 'cotton red shirt'
 * @category Data
 */
export function fieldSwap(text: string, rng: Rng, lexicon: AnomalyLexicon): TextEditResult | undefined {
  const hits = lexiconHits(text, lexicon);
  const pairs: [Hit, Hit][] = [];
  for (const a of hits) {
    for (const b of hits) {
      if (b.start >= a.start + a.word.length && a.category !== b.category && a.word.toLowerCase() !== b.word.toLowerCase()) pairs.push([a, b]);
    }
  }
  if (pairs.length === 0) return undefined;
  const [a, b] = pick(rng, pairs);
  return replaceAt(text, [
    { start: a.start, end: a.start + a.word.length, before: a.word, after: likeCase(b.word.toLowerCase(), a.word) },
    { start: b.start, end: b.start + b.word.length, before: b.word, after: likeCase(a.word.toLowerCase(), b.word) },
  ], `swapped ${a.category} '${a.word}' ↔ ${b.category} '${b.word}'`);
}

/**
 * Put a value that contradicts the row's context: a rule for this context whose `field` (a lexicon
 * category) has a word in the text gets that word replaced by one of the rule's values.
 * @param text The text.
 * @param context The row's context (e.g. 'vegan'), or undefined (no rule applies).
 * @param rng Seeded generator.
 * @param rules Contradiction rules.
 * @param lexicon Categories the rules' fields name.
 * @returns The edit, or undefined when no rule applies or its field has no word in the text.
 * @example contradiction('Upper: cotton canvas', 'vegan', seededRng(0), [{ context: 'vegan', field: 'material', values: ['Leather'] }], DEFAULT_ANOMALY_LEXICON)
 * @category Data
 */
export function contradiction(text: string, context: string | undefined, rng: Rng, rules: readonly ContradictionRule[], lexicon: AnomalyLexicon): TextEditResult | undefined {
  if (context === undefined) return undefined;
  const ctx = context.toLowerCase();
  const hits = lexiconHits(text, lexicon);
  const options: { rule: ContradictionRule; hit: Hit; value: string }[] = [];
  for (const rule of rules) {
    if (rule.context.toLowerCase() !== ctx) continue;
    for (const hit of hits) {
      if (hit.category !== rule.field) continue;
      for (const v of rule.values) if (String(v).toLowerCase() !== hit.word.toLowerCase()) options.push({ rule, hit, value: String(v) });
    }
  }
  if (options.length === 0) return undefined;
  const { rule, hit, value } = pick(rng, options);
  const after = likeCase(value, hit.word);
  return replaceAt(text, [{ start: hit.start, end: hit.start + hit.word.length, before: hit.word, after }], `'${after}' in ${rule.field} contradicts context '${rule.context}' (was '${hit.word}')`);
}
