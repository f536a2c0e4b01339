/**
 * Synthetic anomalies: each generator's edits (typos, format errors, semantic shifts), the dataset
 * builder (determinism per seed, fractions, no anomaly identical to its original, honest skips,
 * typed option errors) on texts, on real SMS Spam messages, and on tabular rows (semantic edits on
 * the fields before textualisation).
 */
import { describe, expect, it } from 'vitest';
import { applySpans, ANOMALY_EDITS } from '../../../src/data/anomalies/types.js';
import { keyboardNeighbours, typo } from '../../../src/data/anomalies/typos.js';
import { changeCase, convertUnit, reorderTokens, swapDelimiter, swapNumberFormat } from '../../../src/data/anomalies/format.js';
import { categorySwap, contradiction, fieldSwap, DEFAULT_ANOMALY_LEXICON } from '../../../src/data/anomalies/semantic.js';
import { makeTabularAnomalyDataset } from '../../../src/data/anomalies/tabular.js';
import { makeAnomalyDataset } from '../../../src/data/synthetic_anomalies.js';
import { loadSmsSpam } from '../../../src/data/corpora.js';
import { loadTabularSchema, parseTabularCsv } from '../../../src/data/tabular.js';
import { textualizeRow } from '../../../src/data/textualize.js';
import { ConfigError, DatasetError } from '../../../src/errors.js';
import { seededRng } from '../../../src/utils/rng.js';

const seeds = Array.from({ length: 40 }, (_, i) => i);

describe('typos', () => {
  it('keyboard neighbours are QWERTY-adjacent keys', () => {
    expect(keyboardNeighbours('o')).toBe('ipkl');
    expect(keyboardNeighbours('S')).toBe('adwezx');
    expect(keyboardNeighbours('1')).toBe('');
  });

  it('insert: length +1, the inserted letter neighbours an adjacent letter, deleting the reported position recovers the original', () => {
    const text = 'Polyester blend';
    for (const s of seeds) {
      const r = typo(text, 'insert', seededRng(s));
      if (r === undefined) throw new Error('insert did not apply');
      expect(r.text.length).toBe(text.length + 1);
      const [sp] = r.spans;
      expect(sp?.start).toBe(sp?.end);
      const at = sp?.start as number;
      expect(r.text.slice(0, at) + r.text.slice(at + 1)).toBe(text);
      const ins = (sp?.after as string).toLowerCase();
      const nearBy = [text[at - 1], text[at]].some((c) => c !== undefined && keyboardNeighbours(c).includes(ins));
      expect(nearBy).toBe(true);
    }
  });

  it('delete: length −1 and re-inserting the deleted letter recovers the original', () => {
    for (const s of seeds) {
      const r = typo('Polyester', 'delete', seededRng(s));
      const sp = r?.spans[0];
      expect(r?.text.length).toBe(8);
      expect(sp?.after).toBe('');
      expect((r?.text.slice(0, sp?.start) ?? '') + sp?.before + (r?.text.slice(sp?.start) ?? '')).toBe('Polyester');
    }
  });

  it('swap: exchanges two adjacent different letters', () => {
    for (const s of seeds) {
      const r = typo('Cotton 100%', 'swap', seededRng(s));
      const sp = r?.spans[0];
      const i = sp?.start as number;
      expect(sp?.end).toBe(i + 2);
      expect(r?.text[i]).toBe('Cotton 100%'[i + 1]);
      expect(r?.text[i + 1]).toBe('Cotton 100%'[i]);
      expect(r?.text).not.toBe('Cotton 100%');
    }
    expect(typo('aa 11', 'swap', seededRng(0))).toBeUndefined(); // no two adjacent different letters
  });

  it('substitute: one letter replaced by a QWERTY neighbour, case kept', () => {
    for (const s of seeds) {
      const r = typo('Leather', 'substitute', seededRng(s));
      const sp = r?.spans[0];
      expect(r?.text.length).toBe(7);
      expect(keyboardNeighbours(sp?.before as string)).toContain((sp?.after as string).toLowerCase());
      expect((sp?.after as string) === (sp?.after as string).toUpperCase()).toBe((sp?.before as string) === 'L');
    }
    expect(typo('123 !', 'substitute', seededRng(0))).toBeUndefined();
  });
});

describe('format errors', () => {
  it('reorder: "Cotton 100%" → "100% Cotton", punctuation stays in place', () => {
    expect(reorderTokens('Cotton 100%', seededRng(0))?.text).toBe('100% Cotton');
    for (const s of seeds) expect(reorderTokens('Fabric: Cotton 100%', seededRng(s))?.text).toBe('Fabric: 100% Cotton'); // prefers the pair with a number
    expect(reorderTokens('Cotton, 100%', seededRng(0))?.text).toBe('100%, Cotton');
    expect(reorderTokens('word', seededRng(0))).toBeUndefined();
  });

  it('case: one word changes case and nothing else', () => {
    for (const s of seeds) {
      const r = changeCase('100% Cotton blend', seededRng(s));
      const sp = r?.spans[0];
      expect(sp?.after.toLowerCase()).toBe(sp?.before.toLowerCase());
      expect(sp?.after).not.toBe(sp?.before);
      expect(r?.text.toLowerCase()).toBe('100% cotton blend');
    }
  });

  it('number format: 1,000.5 ↔ 1.000,5 round-trips; integers get grouped', () => {
    const a = swapNumberFormat('total 1,000.5 kg', seededRng(0));
    expect(a?.text).toBe('total 1.000,5 kg');
    expect(swapNumberFormat(a?.text ?? '', seededRng(0))?.text).toBe('total 1,000.5 kg');
    expect(swapNumberFormat('pi is 3.14', seededRng(0))?.text).toBe('pi is 3,14');
    expect(swapNumberFormat('pop 25000 people', seededRng(0))?.text).toBe('pop 25,000 people');
    expect(swapNumberFormat('no numbers 12 here', seededRng(0))).toBeUndefined();
  });

  it('unit: conversions are numerically right (bpm → Hz, % → fraction, mg/dL → mmol/L, °C → °F, reverse)', () => {
    const num = (s: string | undefined): number => Number(/-?\d+(\.\d+)?/.exec(s ?? '')?.[0]);
    expect(convertUnit('pulse 80 bpm', seededRng(0))?.text).toBe('pulse 1.33 Hz');
    expect(num(convertUnit('pulse 80 bpm', seededRng(0))?.text)).toBeCloseTo(80 / 60, 2);
    expect(convertUnit('95% cotton', seededRng(0))?.text).toBe('0.95 cotton');
    expect(num(convertUnit('glucose is 148 mg/dL', seededRng(0))?.text)).toBeCloseTo(148 / 18, 2);
    expect(convertUnit('fever 38.5°C', seededRng(0))?.text).toBe('fever 101.3°F');
    expect(num(convertUnit('weighs 11 lb', seededRng(0))?.text)).toBeCloseTo(11 / 2.20462, 2);
    expect(convertUnit('5 minutes', seededRng(0))).toBeUndefined(); // 'min' followed by letters is not a unit
    const custom = convertUnit('speed 10 kn', seededRng(0), [{ from: 'kn', to: 'km/h', factor: 1.852 }]);
    expect(custom?.text).toBe('speed 18.52 km/h');
  });

  it('delimiter: every occurrence of one delimiter swapped, numbers untouched', () => {
    const r = swapDelimiter('red, green, 1,000 apples', seededRng(0));
    expect(r?.spans.length).toBe(2);
    expect(r?.text).toMatch(/^red(;| \||\/) green(;| \||\/) 1,000 apples$/);
    expect(swapDelimiter('glucose: 148 | BMI: 33.6', seededRng(1))?.text).not.toContain(' | ');
    expect(swapDelimiter('plain text', seededRng(0))).toBeUndefined();
  });
});

describe('semantic shifts', () => {
  const lexicon = { material: ['Cotton', 'Polyester', 'Leather'], colour: ['red', 'blue'], animal: ['dog', 'cat'] };

  it('category swap draws from another category', () => {
    for (const s of seeds) {
      const r = categorySwap('Red Cotton shirt', seededRng(s), lexicon);
      const sp = r?.spans[0];
      const catOf = (w: string): string | undefined => Object.entries(lexicon).find(([, ws]) => ws.some((x) => x.toLowerCase() === w.toLowerCase()))?.[0];
      expect(catOf(sp?.after as string)).toBeDefined();
      expect(catOf(sp?.after as string)).not.toBe(catOf(sp?.before as string));
    }
    expect(categorySwap('nothing here', seededRng(0), lexicon)).toBeUndefined();
  });

  it('field swap exchanges two values of different categories', () => {
    expect(fieldSwap('red cotton shirt', seededRng(0), lexicon)?.text).toBe('cotton red shirt');
    expect(fieldSwap('see you Tomorrow at home', seededRng(0), DEFAULT_ANOMALY_LEXICON)?.text).toBe('see you Home at tomorrow');
    expect(fieldSwap('red red shirt', seededRng(0), lexicon)).toBeUndefined(); // one category only
  });

  it('contradiction uses the given rule and only in its context', () => {
    const rules = [{ context: 'vegan', field: 'material', values: ['Leather'] }];
    expect(contradiction('Upper: Cotton canvas', 'vegan', seededRng(0), rules, lexicon)?.text).toBe('Upper: Leather canvas');
    expect(contradiction('Upper: Cotton canvas', 'classic', seededRng(0), rules, lexicon)).toBeUndefined();
    expect(contradiction('Upper: Leather canvas', 'vegan', seededRng(0), rules, lexicon)).toBeUndefined(); // already the value: no identical anomaly
  });
});

const TEXTS = ['Cotton 100%, red, 80 bpm', 'Polyester 65%, blue, 1,000.5 g', 'Leather belt, black, 120 cm', 'Silk scarf, pink; 25000 units', 'Wool coat, white, 38.5°C wash'];
const many = Array.from({ length: 60 }, (_, i) => TEXTS[i % TEXTS.length] as string);

describe('makeAnomalyDataset', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = makeAnomalyDataset(many, { seed: 7, fraction: 0.5 });
    expect(makeAnomalyDataset(many, { seed: 7, fraction: 0.5 })).toEqual(a);
    expect(makeAnomalyDataset(many, { seed: 8, fraction: 0.5 }).texts).not.toEqual(a.texts);
  });

  it('normal rows are untouched, anomalies never equal their original, spans reproduce the text', () => {
    const ds = makeAnomalyDataset(many, { seed: 1, fraction: 0.7 });
    for (const r of ds.rows) {
      expect(r.text === r.original).toBe(r.label === 0);
      expect(applySpans(r.original, r.spans)).toBe(r.text);
      if (r.label === 1) expect(ANOMALY_EDITS[r.type as 'typo']).toContain(r.edit);
    }
    expect(ds.texts).toEqual(ds.rows.map((r) => r.text));
    expect(ds.labels).toEqual(ds.rows.map((r) => r.label));
  });

  it('fractions are respected (split and paired), skips counted honestly', () => {
    for (const fraction of [0, 0.25, 0.5, 1]) {
      const ds = makeAnomalyDataset(many, { seed: 2, fraction, types: ['typo'] });
      expect(ds.counts.anomalous).toBe(Math.round(fraction * many.length));
      expect(ds.counts.normal).toBe(many.length - ds.counts.anomalous);
      expect(ds.skipped.total).toBe(0);
    }
    const paired = makeAnomalyDataset(many, { seed: 2, fraction: 0.5, paired: true, types: ['format'] });
    expect(paired.counts.normal).toBe(many.length);
    expect(paired.counts.anomalous).toBe(30);
    // Contradictions without matching rules never apply: every chosen row is skipped and counted.
    const sk = makeAnomalyDataset(['plain words only', 'more plain words'], { fraction: 1, types: ['semantic'], edits: ['contradiction'] });
    expect(sk.rows).toEqual([]);
    expect(sk.skipped).toEqual({ total: 2, byType: { typo: 0, format: 0, semantic: 2 } });
  });

  it('types are balanced round-robin and edits restricted as asked', () => {
    const ds = makeAnomalyDataset(many, { seed: 3, fraction: 0.6, types: ['typo', 'format'], edits: ['swap', 'insert', 'reorder'] });
    expect(ds.counts.byType).toEqual({ typo: 18, format: 18, semantic: 0 });
    expect(Object.keys(ds.counts.byEdit).sort()).toEqual(['insert', 'reorder', 'swap']);
  });

  it('contradictions from user rules on a context', () => {
    const items = [{ text: 'Vegan sneaker, Cotton upper', context: 'vegan' }, { text: 'Classic boot, Cotton lining', context: 'classic' }];
    const ds = makeAnomalyDataset(items, { fraction: 1, types: ['semantic'], edits: ['contradiction'], lexicon: { material: ['Cotton', 'Leather'] }, rules: [{ context: 'vegan', field: 'material', values: ['Leather'] }] });
    expect(ds.rows.map((r) => r.text)).toEqual(['Vegan sneaker, Leather upper']);
    expect(ds.skipped.byType.semantic).toBe(1);
  });

  it('typed errors name the bad option and the valid values', () => {
    expect(() => makeAnomalyDataset(many, { types: ['typos' as 'typo'] })).toThrow(ConfigError);
    expect(() => makeAnomalyDataset(many, { types: ['typos' as 'typo'] })).toThrow(/did you mean 'typo'.*valid: typo, format, semantic/);
    expect(() => makeAnomalyDataset(many, { edits: ['substitue' as 'substitute'] })).toThrow(/did you mean 'substitute'/);
    expect(() => makeAnomalyDataset(many, { edits: ['implausible_value'] })).toThrow(/does not apply/);
    expect(() => makeAnomalyDataset(many, { types: ['typo'], edits: ['reorder'] })).toThrow(/'format' edit/);
    expect(() => makeAnomalyDataset(many, { fraction: 1.5 })).toThrow(/fraction must be a number in \[0, 1\]/);
    expect(() => makeAnomalyDataset(many, { rules: [{ context: 'vegan', field: 'materal', values: ['x'] }] })).toThrow(/did you mean 'material'/);
    expect(() => makeAnomalyDataset([])).toThrow(DatasetError);
  });
});

describe('on real data', () => {
  it('SMS Spam ham messages: every type produces output', async () => {
    const ham = (await loadSmsSpam()).filter((r) => r.label === 'ham').slice(0, 300).map((r) => r.text);
    const ds = makeAnomalyDataset(ham, { seed: 0, fraction: 0.6 });
    for (const t of ['typo', 'format', 'semantic'] as const) expect(ds.counts.byType[t]).toBeGreaterThan(10);
    expect(ds.counts.anomalous + ds.skipped.total).toBe(180);
    for (const r of ds.rows) if (r.label === 1) expect(r.text).not.toBe(r.original);
  });

  it('tabular rows: semantic edits act on the fields before textualisation', async () => {
    const schema = await loadTabularSchema('pima');
    const csv = ['"pregnant","glucose","pressure","triceps","insulin","mass","pedigree","age","diabetes"', '3,141,70,20,80,31.25,0.4567,45,"pos"', '0,97,64,22,88,24.04,0.2,27,"neg"', '5,120,72,30,120,28.1,1.0004,61,"neg"', '1,89,66,23,94,28.1,0.167,21,"neg"'].join('\n');
    const data = parseTabularCsv(csv, 'pima.csv', schema);
    const ds = makeTabularAnomalyDataset(data, { fraction: 1, types: ['semantic'], seed: 4, textualize: { digits: 1 } });
    expect(ds.counts.anomalous).toBe(4);
    for (const r of ds.rows) {
      expect(r.text).toBe(textualizeRow({ ...(data.rows[r.source] as (typeof data.rows)[number]), values: r.values }, schema, { digits: 1 }));
      expect(r.text).not.toBe(r.original);
      if (r.edit === 'implausible_value') {
        const col = Object.keys(r.values).find((k) => r.values[k] !== data.rows[r.source]?.values[k]) as string;
        const seen = data.rows.map((x) => x.values[col] as number);
        const v = r.values[col] as number;
        expect(v > Math.max(...seen) || v < Math.min(...seen)).toBe(true);
      }
    }
    const ctx = makeTabularAnomalyDataset(data, { fraction: 1, types: ['semantic'], edits: ['contradiction'], contextColumn: 'age', rules: [{ context: '21', field: 'pregnant', values: [9] }] });
    expect(ctx.rows.map((r) => r.values['pregnant'])).toEqual([9]);
    expect(() => makeTabularAnomalyDataset(data, { contextColumn: 'agee' })).toThrow(/did you mean 'age'/);
    const typos = makeTabularAnomalyDataset(data, { fraction: 1, types: ['typo', 'format'], seed: 1 });
    expect(typos.counts.anomalous).toBe(4);
    for (const r of typos.rows) expect(r.values).toEqual(data.rows[r.source]?.values); // typos and format errors act on the text only
    const units = makeTabularAnomalyDataset(data, { fraction: 1, types: ['format'], edits: ['unit'], seed: 1 });
    expect(units.counts.anomalous).toBe(4);
    for (const r of units.rows) expect(r.spans[0]?.after).toMatch(/ (mmol\/L|kPa|in|lb\/in2|months)$/); // 'glucose is 148 mg/dL' → '… 8.22 mmol/L'
  });
});
