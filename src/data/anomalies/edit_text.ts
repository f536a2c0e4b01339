/**
 * Dispatch of one text edit by name to its generator, with the lexicon, rules and unit table, and
 * the checks of those three options.
 */
import { ConfigError } from '../../errors.js';
import { closeName } from '../../utils/nearest.js';
import type { Rng } from '../../utils/rng.js';
import { changeCase, convertUnit, DEFAULT_UNIT_CONVERSIONS, reorderTokens, swapDelimiter, swapNumberFormat, type UnitConversion } from './format.js';
import { categorySwap, contradiction, DEFAULT_ANOMALY_LEXICON, fieldSwap, type AnomalyLexicon, type ContradictionRule } from './semantic.js';
import type { AnomalyEdit, TextEditResult } from './types.js';
import { typo } from './typos.js';

/** Lexicon, rules and units, checked. */
export interface TextResources {
  readonly lexicon: AnomalyLexicon;
  readonly rules: readonly ContradictionRule[];
  readonly units: readonly UnitConversion[];
}

/**
 * Check lexicon, rules and unit table.
 * @param opts The options holding them.
 * @param where Function name for messages.
 * @param ruleFields Valid rule fields (default: the lexicon's categories).
 * @returns The checked resources with defaults filled in.
 */
export function checkResources(
  opts: { readonly lexicon?: AnomalyLexicon; readonly rules?: readonly ContradictionRule[]; readonly units?: readonly UnitConversion[] },
  where: string,
  ruleFields?: readonly string[],
): TextResources {
  const lexicon = opts.lexicon ?? DEFAULT_ANOMALY_LEXICON;
  if (typeof lexicon !== 'object' || lexicon === null || Array.isArray(lexicon)) throw new ConfigError(`${where}: lexicon must be an object {category: [words…]}, got ${JSON.stringify(lexicon)}`);
  for (const [c, ws] of Object.entries(lexicon)) {
    if (!Array.isArray(ws) || !ws.every((w) => typeof w === 'string' && w.trim() !== '')) throw new ConfigError(`${where}: lexicon.${c} must be a list of non-empty words, got ${JSON.stringify(ws)}`);
  }
  const fields = ruleFields ?? Object.keys(lexicon);
  const rules = opts.rules ?? [];
  rules.forEach((r, i) => {
    if (typeof r.context !== 'string' || typeof r.field !== 'string' || !Array.isArray(r.values) || r.values.length === 0) {
      throw new ConfigError(`${where}: rules[${i}] must be {context: string, field: string, values: [non-empty list]}, got ${JSON.stringify(r)}`);
    }
    if (!fields.includes(r.field)) {
      const near = closeName(r.field, fields);
      throw new ConfigError(`${where}: rules[${i}].field '${r.field}' is not a ${ruleFields === undefined ? 'lexicon category' : 'column'}${near === undefined ? '' : ` — did you mean '${near}'?`} (valid: ${fields.join(', ')})`);
    }
  });
  const units = opts.units ?? DEFAULT_UNIT_CONVERSIONS;
  units.forEach((u, i) => {
    const ok = typeof u.from === 'string' && u.from !== '' && typeof u.to === 'string' && Number.isFinite(u.factor) && u.factor !== 0 && (u.offset === undefined || Number.isFinite(u.offset));
    if (!ok) throw new ConfigError(`${where}: units[${i}] must be {from: non-empty unit, to: unit or '', factor: finite non-zero number, offset?: number}, got ${JSON.stringify(u)}`);
  });
  return { lexicon, rules, units };
}

/**
 * One named edit of a text.
 * @param edit The edit.
 * @param text The text.
 * @param context The row's context (for contradictions), if any.
 * @param rng Seeded generator.
 * @param res Lexicon, rules and units.
 * @returns The edit, or undefined when it does not apply (`implausible_value` never applies to free text).
 */
export function editText(edit: AnomalyEdit, text: string, context: string | undefined, rng: Rng, res: TextResources): TextEditResult | undefined {
  switch (edit) {
    case 'insert':
    case 'delete':
    case 'swap':
    case 'substitute':
      return typo(text, edit, rng);
    case 'reorder':
      return reorderTokens(text, rng);
    case 'case':
      return changeCase(text, rng);
    case 'unit':
      return convertUnit(text, rng, res.units);
    case 'number_format':
      return swapNumberFormat(text, rng);
    case 'delimiter':
      return swapDelimiter(text, rng);
    case 'category_swap':
      return categorySwap(text, rng, res.lexicon);
    case 'field_swap':
      return fieldSwap(text, rng, res.lexicon);
    case 'contradiction':
      return contradiction(text, context, rng, res.rules, res.lexicon);
    case 'implausible_value':
      return undefined;
  }
}
