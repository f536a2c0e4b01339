/**
 * Character-level typos: insert a key next to the intended one, delete a letter, swap two adjacent
 * letters, or substitute a letter by a QWERTY neighbour ("Polyester" → "Plyester", "Cotton" →
 * "Cotyon"). Only letters are edited; case is kept.
 */
import type { Rng } from '../../utils/rng.js';
import { pick, randInt, type TextEditResult, type TypoEdit } from './types.js';

const ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

/** Letters next to each letter on a QWERTY keyboard (same row ±1, row above and below by stagger). */
function buildNeighbours(): ReadonlyMap<string, string> {
  const pos = new Map<string, [number, number]>();
  ROWS.forEach((row, r) => [...row].forEach((ch, c) => pos.set(ch, [r, c])));
  const out = new Map<string, string>();
  for (const [ch, [r, c]] of pos) {
    // Rows are staggered by about half a key: row r+1 key c sits under keys c and c+1 of row r.
    const cands: [number, number][] = [[r, c - 1], [r, c + 1], [r - 1, c], [r - 1, c + 1], [r + 1, c - 1], [r + 1, c]];
    const near = cands.map(([rr, cc]) => ROWS[rr]?.[cc]).filter((x): x is string => x !== undefined);
    out.set(ch, near.join(''));
  }
  return out;
}

const NEIGHBOURS = buildNeighbours();

/**
 * The QWERTY neighbours of a letter (lower case), e.g. `o` → `ipkl`; '' for non-letters.
 * @param ch One character (either case).
 * @returns The neighbouring letters, lower case.
 * @example keyboardNeighbours('s')  // 'adwezx'
 * @category Data
 */
export function keyboardNeighbours(ch: string): string {
  return NEIGHBOURS.get(ch.toLowerCase()) ?? '';
}

const isLetter = (c: string | undefined): boolean => c !== undefined && NEIGHBOURS.has(c.toLowerCase());
const withCaseOf = (c: string, model: string): string => (model === model.toUpperCase() && model !== model.toLowerCase() ? c.toUpperCase() : c);

/** Offsets of letters (a–z, either case) in a text. */
function letterOffsets(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) if (isLetter(text[i])) out.push(i);
  return out;
}

/**
 * One character-level typo of a text.
 * @param text The text.
 * @param edit 'insert' | 'delete' | 'swap' | 'substitute'.
 * @param rng Seeded generator.
 * @returns The typo, or undefined when the text has no place for it (no letters; no two adjacent different letters for 'swap').
 * @throws never.
 * @example typo('Polyester', 'delete', seededRng(0))
 * @category Data
 */
export function typo(text: string, edit: TypoEdit, rng: Rng): TextEditResult | undefined {
  const letters = letterOffsets(text);
  if (letters.length === 0) return undefined;
  if (edit === 'swap') {
    const pairs = letters.filter((i) => isLetter(text[i + 1]) && text[i] !== text[i + 1]);
    if (pairs.length === 0) return undefined;
    const i = pick(rng, pairs);
    const a = text[i] as string;
    const b = text[i + 1] as string;
    return { text: text.slice(0, i) + b + a + text.slice(i + 2), spans: [{ start: i, end: i + 2, before: a + b, after: b + a }], detail: `swapped '${a}${b}' → '${b}${a}' at ${i}` };
  }
  if (edit === 'delete') {
    // Deleting one of a doubled letter or a word's only letter still changes the text; fine.
    const i = pick(rng, letters);
    const a = text[i] as string;
    return { text: text.slice(0, i) + text.slice(i + 1), spans: [{ start: i, end: i + 1, before: a, after: '' }], detail: `deleted '${a}' at ${i}` };
  }
  const i = pick(rng, letters);
  const a = text[i] as string;
  const near = keyboardNeighbours(a);
  const c = withCaseOf(near[randInt(rng, near.length)] as string, a);
  if (edit === 'substitute') {
    return { text: text.slice(0, i) + c + text.slice(i + 1), spans: [{ start: i, end: i + 1, before: a, after: c }], detail: `'${a}' → '${c}' (QWERTY neighbour) at ${i}` };
  }
  // insert: a neighbour of the letter, typed just before or after it.
  const at = rng() < 0.5 ? i : i + 1;
  return { text: text.slice(0, at) + c + text.slice(at), spans: [{ start: at, end: at, before: '', after: c }], detail: `inserted '${c}' (QWERTY neighbour of '${a}') at ${at}` };
}
