/**
 * Format errors: reorder adjacent tokens ("Cotton 100%" → "100% Cotton"), change a word's case,
 * convert a quantity to another unit from a unit table ("80 bpm" → "1.33 Hz", "95%" → "0.95"),
 * change a number's format ("1,000.5" ↔ "1.000,5", "25000" → "25,000") and swap a delimiter
 * ("a, b, c" → "a; b; c"). Each function returns undefined when the text offers no place for it.
 */
import type { Rng } from '../../utils/rng.js';
import { formatTabularNumber } from '../textualize.js';
import { pick, type TextEditResult, type TextSpan } from './types.js';

/**
 * One unit conversion: `to = from × factor + offset`. The reverse direction is used too unless
 * `reversible` is false (e.g. when `to` is an ambiguous word such as "in").
 * @category Data
 */
export interface UnitConversion {
  /** Unit as written after a number (e.g. 'bpm', 'kg', '%', '°C'). */
  readonly from: string;
  /** Target unit ('' for a bare number, as in 95% → 0.95). */
  readonly to: string;
  /** Multiplier. */
  readonly factor: number;
  /** Added after multiplying (°C → °F: 32); default 0. */
  readonly offset?: number;
  /** Decimal places of the converted number (trailing zeros trimmed); default 2. */
  readonly digits?: number;
  /** Whether `to → from` is used as well; default true (always false when `to` is ''). */
  readonly reversible?: boolean;
}

/** The default unit table of the `unit` edit. @category Data */
export const DEFAULT_UNIT_CONVERSIONS: readonly UnitConversion[] = [
  { from: 'bpm', to: 'Hz', factor: 1 / 60 },
  { from: '%', to: '', factor: 0.01, digits: 4 },
  { from: 'kg', to: 'lb', factor: 2.20462 },
  { from: 'km', to: 'mi', factor: 0.621371 },
  { from: 'cm', to: 'in', factor: 0.393701, reversible: false },
  { from: 'mm', to: 'in', factor: 0.0393701, digits: 3, reversible: false },
  { from: 'm', to: 'ft', factor: 3.28084 },
  { from: 'g', to: 'oz', factor: 0.035274, digits: 3 },
  { from: 'ml', to: 'fl oz', factor: 0.033814, digits: 3 },
  { from: '°C', to: '°F', factor: 1.8, offset: 32, digits: 1 },
  { from: 'h', to: 'min', factor: 60 },
  { from: 'min', to: 's', factor: 60 },
  { from: 'years', to: 'months', factor: 12, digits: 0 },
  { from: 'mg/dL', to: 'mmol/L', factor: 1 / 18 },
  { from: 'mm Hg', to: 'kPa', factor: 0.133322 },
  { from: 'kg/m2', to: 'lb/in2', factor: 0.00142233, digits: 5 },
];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Regex matches of `re` (global) in `text`. */
function matches(text: string, re: RegExp): RegExpExecArray[] {
  return [...text.matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))];
}

const span = (start: number, before: string, after: string): TextSpan => ({ start, end: start + before.length, before, after });

/**
 * Swap two adjacent whitespace-separated tokens (punctuation after a token stays in place),
 * preferring pairs where one token holds a digit: "Cotton 100%" → "100% Cotton".
 * @param text The text.
 * @param rng Seeded generator.
 * @returns The edit, or undefined with fewer than two distinct adjacent tokens.
 * @example reorderTokens('Cotton 100%', seededRng(0)).text  // '100% Cotton'
 * @category Data
 */
export function reorderTokens(text: string, rng: Rng): TextEditResult | undefined {
  const toks = matches(text, /\S+/).map((m) => {
    const core = m[0].replace(/[,.;:!?)]+$/, '');
    return { start: m.index, core };
  }).filter((t) => t.core !== '');
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < toks.length; i++) {
    const a = toks[i] as { start: number; core: string };
    const b = toks[i + 1] as { start: number; core: string };
    if (a.core !== b.core && /^\s+$|^[,.;:!?)]+\s+$/.test(text.slice(a.start + a.core.length, b.start))) pairs.push([i, i + 1]);
  }
  if (pairs.length === 0) return undefined;
  const numeric = pairs.filter(([i, j]) => /\d/.test(toks[i]?.core ?? '') !== /\d/.test(toks[j]?.core ?? ''));
  const [i, j] = pick(rng, numeric.length > 0 ? numeric : pairs);
  const a = toks[i] as { start: number; core: string };
  const b = toks[j] as { start: number; core: string };
  const mid = text.slice(a.start + a.core.length, b.start);
  const s = span(a.start, text.slice(a.start, b.start + b.core.length), b.core + mid + a.core);
  return { text: text.slice(0, s.start) + s.after + text.slice(s.end), spans: [s], detail: `reordered '${a.core}' ↔ '${b.core}'` };
}

/**
 * Change the case of one word (lower → UPPER or Title, Title → lower or UPPER, UPPER → lower or Title).
 * @param text The text.
 * @param rng Seeded generator.
 * @returns The edit, or undefined when no word of two or more letters is present.
 * @example changeCase('100% Cotton', seededRng(0)).text  // e.g. '100% COTTON'
 * @category Data
 */
export function changeCase(text: string, rng: Rng): TextEditResult | undefined {
  const words = matches(text, /[A-Za-z]{2,}/);
  if (words.length === 0) return undefined;
  const m = pick(rng, words);
  const w = m[0];
  const title = (w[0] as string).toUpperCase() + w.slice(1).toLowerCase();
  const modes = [['upper', w.toUpperCase()], ['lower', w.toLowerCase()], ['title', title]].filter(([, v]) => v !== w) as [string, string][];
  const [mode, after] = pick(rng, modes);
  const s = span(m.index, w, after);
  return { text: text.slice(0, s.start) + after + text.slice(s.end), spans: [s], detail: `case '${w}' → '${after}' (${mode})` };
}

/** A conversion usable in one direction. */
interface Directed { readonly from: string; readonly to: string; readonly f: (v: number) => number; readonly digits: number }

function directed(table: readonly UnitConversion[]): Directed[] {
  const out: Directed[] = [];
  for (const u of table) {
    const off = u.offset ?? 0;
    const digits = u.digits ?? 2;
    out.push({ from: u.from, to: u.to, f: (v) => v * u.factor + off, digits });
    if (u.to !== '' && (u.reversible ?? true)) out.push({ from: u.to, to: u.from, f: (v) => (v - off) / u.factor, digits });
  }
  return out;
}

/**
 * Convert one quantity "<number> <unit>" to another unit of the table ("80 bpm" → "1.33 Hz",
 * "95%" → "0.95", "148 mg/dL" → "8.22 mmol/L"). The unit must not be followed by a letter.
 * @param text The text.
 * @param rng Seeded generator.
 * @param table Conversions (default {@link DEFAULT_UNIT_CONVERSIONS}).
 * @returns The edit (detail holds the exact value), or undefined when no quantity with a known unit is present.
 * @example convertUnit('80 bpm', seededRng(0)).text  // '1.33 Hz'
 * @category Data
 */
export function convertUnit(text: string, rng: Rng, table: readonly UnitConversion[] = DEFAULT_UNIT_CONVERSIONS): TextEditResult | undefined {
  const found: { m: RegExpExecArray; d: Directed }[] = [];
  for (const d of directed(table)) {
    const re = new RegExp(`(?<![\\w.,])(-?\\d+(?:\\.\\d+)?)(\\s?)${escape(d.from)}(?![A-Za-z0-9])`, 'g');
    for (const m of text.matchAll(re)) found.push({ m, d });
  }
  // A longer unit wins where two overlap ('mg/dL' over 'g'; 'min' is guarded by the letter check).
  const ok = found.filter(({ m }) => !found.some(({ m: o }) => o !== m && o.index <= m.index && o.index + o[0].length >= m.index + m[0].length && o[0].length > m[0].length));
  if (ok.length === 0) return undefined;
  const { m, d } = pick(rng, ok);
  const value = Number(m[1]);
  const exact = d.f(value);
  const num = formatTabularNumber(exact, d.digits);
  const after = d.to === '' ? num : `${num}${m[2] ?? ''}${d.to}`;
  if (after === m[0]) return undefined;
  const s = span(m.index, m[0], after);
  return { text: text.slice(0, s.start) + after + text.slice(s.end), spans: [s], detail: `${value} ${d.from} → ${exact} ${d.to === '' ? '(fraction)' : d.to}` };
}

/**
 * Swap the decimal and thousands separators of one number ("1,000.5" ↔ "1.000,5", "3.5" ↔ "3,5";
 * the edit is its own inverse), or group a plain integer of 4+ digits ("25000" → "25,000").
 * @param text The text.
 * @param rng Seeded generator.
 * @returns The edit, or undefined when no such number is present.
 * @example swapNumberFormat('1,000.5 kg', seededRng(0)).text  // '1.000,5 kg'
 * @category Data
 */
export function swapNumberFormat(text: string, rng: Rng): TextEditResult | undefined {
  const seps = matches(text, /(?<![\d.,])\d+(?:[.,]\d+)+(?![\d])/).map((m) => ({ m, after: m[0].replace(/[.,]/g, (c) => (c === '.' ? ',' : '.')) }));
  const ints = matches(text, /(?<![\d.,])[1-9]\d{3,}(?![\d]|[.,]\d)/).map((m) => ({ m, after: m[0].replace(/\B(?=(\d{3})+$)/g, ',') }));
  const all = [...seps, ...ints];
  if (all.length === 0) return undefined;
  const { m, after } = pick(rng, all);
  const s = span(m.index, m[0], after);
  return { text: text.slice(0, s.start) + after + text.slice(s.end), spans: [s], detail: `number format '${m[0]}' → '${after}'` };
}

/** Delimiters the `delimiter` edit recognises (never between two digits), and what each may become. */
const DELIMITERS: readonly { readonly name: string; readonly re: RegExp; readonly to: readonly string[] }[] = [
  { name: ' | ', re: / \| /, to: ['; ', ', ', ' / '] },
  { name: ';', re: /;/, to: [',', '|'] },
  { name: ',', re: /,(?!\d)|(?<!\d),/, to: [';', ' |', '/'] },
  { name: '\t', re: /\t/, to: [',', ';'] },
  { name: ' / ', re: / \/ /, to: [' | ', ', '] },
  { name: ' - ', re: / - /, to: [' | ', ', '] },
];

/**
 * Replace every occurrence of one delimiter by another ("a, b, c" → "a; b; c"; " | " → "; ").
 * @param text The text.
 * @param rng Seeded generator.
 * @returns The edit (one span per occurrence), or undefined when no known delimiter is present.
 * @example swapDelimiter('glucose: 148 | BMI: 33.6', seededRng(0)).text  // e.g. 'glucose: 148; BMI: 33.6'
 * @category Data
 */
export function swapDelimiter(text: string, rng: Rng): TextEditResult | undefined {
  const present = DELIMITERS.map((d) => ({ d, ms: matches(text, d.re) })).filter(({ ms }) => ms.length > 0);
  if (present.length === 0) return undefined;
  const { d, ms } = pick(rng, present);
  const to = pick(rng, d.to);
  const spans = ms.map((m) => span(m.index, m[0], to));
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + s.after;
    at = s.end;
  }
  return { text: out + text.slice(at), spans, detail: `delimiter ${JSON.stringify(d.name)} → ${JSON.stringify(to)} (${spans.length}×)` };
}
