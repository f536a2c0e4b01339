/**
 * Tabular → text: the shipped schemas (Pima, Breast Cancer Wisconsin), strict CSV reading under a
 * schema (Pima's zeros and NA → unknown; typed errors naming file and line), and sentence /
 * key-value text with rounding, bins and column subsets. The rows below are synthetic (made up in
 * the files' layouts); the real files in ../shared/data/tabular are checked only when present.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTabularSchema, parseTabularCsv, parseTabularSchema, readTabularCsv, type TabularRow, type TabularSchema } from '../../../src/data/tabular.js';
import { formatTabularNumber, quantileBins, textualizeRow, textualizeRows } from '../../../src/data/textualize.js';
import { ConfigError, DatasetError, NotFoundError } from '../../../src/errors.js';

const SHARED = join('..', 'shared', 'data', 'tabular');

/** Synthetic rows in the layout of pima_indians_diabetes.csv (mlbench export). */
const PIMA_CSV = [
  '"pregnant","glucose","pressure","triceps","insulin","mass","pedigree","age","diabetes"',
  '3,141,70,0,0,31.25,0.4567,45,"pos"',
  '0,97,64,22,88,24.04,0.2,27,"neg"',
  '5,0,0,30,120,0,1.0004,61,"neg"',
  '',
].join('\n');

/** Synthetic rows in the layout of breast_cancer_wisconsin.csv. */
const BC_CSV = [
  '"Id","Cl.thickness","Cell.size","Cell.shape","Marg.adhesion","Epith.c.size","Bare.nuclei","Bl.cromatin","Normal.nucleoli","Mitoses","Class"',
  '"1000001","4","1","2","1","2","1","3","1","1","benign"',
  '"1000002","9","7","8","6","5",NA,"7","8","2","malignant"',
  '',
].join('\n');

describe('shipped schemas and CSV reading', () => {
  it('Pima: zeros in glucose/pressure/triceps/insulin/mass are unknown; label pos is the anomaly', async () => {
    const schema = await loadTabularSchema('pima');
    const data = parseTabularCsv(PIMA_CSV, 'pima.csv', schema);
    expect(data.rows.map((r) => [r.label, r.anomaly, r.line])).toEqual([['pos', true, 2], ['neg', false, 3], ['neg', false, 4]]);
    expect(data.rows[2]?.values).toEqual({ pregnant: 5, glucose: null, pressure: null, triceps: 30, insulin: 120, mass: null, pedigree: 1.0004, age: 61 });
    expect(data.rows[1]?.values['pregnant']).toBe(0); // a zero count of pregnancies is real data
  });

  it('Breast Cancer: quoted numbers parse, NA is unknown, Id is kept but not written', async () => {
    const schema = await loadTabularSchema('breast_cancer');
    const data = parseTabularCsv(BC_CSV, 'bc.csv', schema);
    expect(data.rows[1]?.values['Bare.nuclei']).toBeNull();
    expect(data.rows[1]?.values['Id']).toBe('1000002');
    expect(data.rows.map((r) => r.anomaly)).toEqual([false, true]);
    expect(textualizeRow(data.rows[1] as TabularRow, schema, { format: 'keyValue' })).toBe(
      'clump thickness: 9 | cell size uniformity: 7 | cell shape uniformity: 8 | marginal adhesion: 6 | single epithelial cell size: 5 | ' +
        'bare nuclei: unknown | bland chromatin: 7 | normal nucleoli: 8 | mitoses: 2',
    );
  });

  it.skipIf(!existsSync(join(SHARED, 'pima_indians_diabetes.csv')))('the real Pima file: 768 rows, 268 pos, 374 unknown insulin values', async () => {
    const data = await readTabularCsv(join(SHARED, 'pima_indians_diabetes.csv'), await loadTabularSchema('pima'));
    expect(data.rows.length).toBe(768);
    expect(data.rows.filter((r) => r.anomaly).length).toBe(268);
    expect(data.rows.filter((r) => r.values['insulin'] === null).length).toBe(374);
    expect(textualizeRows(data)[0]?.text).toBe(
      'number of pregnancies is 6, glucose is 148 mg/dL, blood pressure is 72 mm Hg, skin thickness is 35 mm, insulin is unknown, ' +
        'BMI is 33.6 kg/m2, diabetes pedigree is 0.627, age is 50 years.',
    );
  });

  it.skipIf(!existsSync(join(SHARED, 'breast_cancer_wisconsin.csv')))('the real Breast Cancer file: 699 rows, 241 malignant, 16 unknown bare nuclei', async () => {
    const data = await readTabularCsv(join(SHARED, 'breast_cancer_wisconsin.csv'), await loadTabularSchema('breast_cancer'));
    expect(data.rows.length).toBe(699);
    expect(data.rows.filter((r) => r.anomaly).length).toBe(241);
    expect(data.rows.filter((r) => r.values['Bare.nuclei'] === null).length).toBe(16);
  });

  it('a bad row is a DatasetError naming the file and line', async () => {
    const schema = await loadTabularSchema('pima');
    const lines = PIMA_CSV.split('\n');
    const withRow = (row: string): string => [...lines.slice(0, 3), row, ...lines.slice(3)].join('\n');
    expect(() => parseTabularCsv(withRow('1,2,3,"neg"'), 'p.csv', schema)).toThrow(DatasetError);
    expect(() => parseTabularCsv(withRow('1,2,3,"neg"'), 'p.csv', schema)).toThrow(/^parseTabularCsv: p.csv line 4: expected 9 fields \(as the header\), got 4$/);
    expect(() => parseTabularCsv(withRow('1,abc,70,0,0,31,0.5,45,"neg"'), 'p.csv', schema)).toThrow(/p.csv line 4: column 'glucose' expected a number .*got "abc"/);
    expect(() => parseTabularCsv(withRow('1,90,70,0,0,31,0.5,45,"maybe"'), 'p.csv', schema)).toThrow(/p.csv line 4: unknown label "maybe" in column 'diabetes' \(expected neg\|pos\)/);
    expect(() => parseTabularCsv(withRow('1,90,70,0,0,31,0.5,45,NA'), 'p.csv', schema)).toThrow(/p.csv line 4: label column 'diabetes' is missing/);
    expect(() => parseTabularCsv(withRow('1,9"0,70,0,0,31,0.5,45,"neg"'), 'p.csv', schema)).toThrow(/p.csv line 4: quote inside an unquoted field/);
    expect(() => parseTabularCsv(lines[0] as string, 'p.csv', schema)).toThrow(/p.csv has a header but no rows/);
    await expect(readTabularCsv('no/such/file.csv', schema)).rejects.toThrow(NotFoundError);
  });
});

describe('schema errors', () => {
  const base = { name: 't', columns: [{ name: 'glucose', unit: 'mg/dL' }, { name: 'age' }], label: { column: 'y', positive: '1' } };

  it('a schema column the CSV lacks is a ConfigError naming the nearest header column', () => {
    const schema = parseTabularSchema({ ...base, columns: [{ name: 'glucos' }, { name: 'age' }] }, 't.json');
    expect(() => parseTabularCsv('glucose,age,y\n1,2,1\n', 'd.csv', schema)).toThrow(ConfigError);
    expect(() => parseTabularCsv('glucose,age,y\n1,2,1\n', 'd.csv', schema)).toThrow(/names column 'glucos', which d.csv does not have — did you mean 'glucose'\?/);
  });

  it('bad schema JSON: unknown keys (with a suggestion), wrong types, repeated or label columns', async () => {
    expect(() => parseTabularSchema({ ...base, colums: [] }, 't.json')).toThrow(/unknown key 'colums' — did you mean 'columns'\?/);
    expect(() => parseTabularSchema({ ...base, columns: [{ name: 'a', unt: 'mm' }] }, 't.json')).toThrow(/columns\[0\]: unknown key 'unt' — did you mean 'unit'\?/);
    expect(() => parseTabularSchema({ ...base, columns: [{ name: 'a', kind: 'number' }] }, 't.json')).toThrow(/kind must be one of numeric, categorical, id/);
    expect(() => parseTabularSchema({ ...base, columns: [{ name: 'a', unknown: ['0'] }] }, 't.json')).toThrow(/unknown must be an array of numbers/);
    expect(() => parseTabularSchema({ ...base, columns: [{ name: 'a' }, { name: 'a' }] }, 't.json')).toThrow(/column 'a' is listed twice/);
    expect(() => parseTabularSchema({ ...base, columns: [{ name: 'y' }] }, 't.json')).toThrow(/label column 'y' is also in columns/);
    expect(() => parseTabularSchema({ ...base, label: { column: 'y', positive: 'x', values: ['0', '1'] } }, 't.json')).toThrow(/label.positive 'x' is not in label.values/);
    await expect(loadTabularSchema('pimaa')).rejects.toThrow(/unknown schema 'pimaa' — did you mean 'pima'\?/);
  });
});

describe('textualize', () => {
  let schema: TabularSchema;
  const data = async () => {
    schema = await loadTabularSchema('pima');
    return parseTabularCsv(PIMA_CSV, 'pima.csv', schema);
  };

  it('sentences and key-value text; schema digits apply (BMI 1 decimal, pedigree 3)', async () => {
    const d = await data();
    const [s0, s1, s2] = textualizeRows(d).map((t) => t.text);
    expect(s0).toBe(
      'number of pregnancies is 3, glucose is 141 mg/dL, blood pressure is 70 mm Hg, skin thickness is unknown, insulin is unknown, ' +
        'BMI is 31.3 kg/m2, diabetes pedigree is 0.457, age is 45 years.',
    );
    expect(s2).toBe(
      'number of pregnancies is 5, glucose is unknown, blood pressure is unknown, skin thickness is 30 mm, insulin is 120 uU/mL, ' +
        'BMI is unknown, diabetes pedigree is 1, age is 61 years.',
    );
    expect(textualizeRow(d.rows[1] as TabularRow, schema, { format: 'keyValue' })).toBe(
      'number of pregnancies: 0 | glucose: 97 | blood pressure: 64 | skin thickness: 22 | insulin: 88 | BMI: 24 | diabetes pedigree: 0.2 | age: 27',
    );
    expect(s1).toContain('BMI is 24 kg/m2'); // 24.04 rounded to 1 place, trailing zero trimmed
    expect(textualizeRows(d).map((t) => t.anomaly)).toEqual([true, false, false]);
    expect(textualizeRows(d)).toEqual(textualizeRows(d)); // deterministic
  });

  it('column subset and order, units, unknown word and separator are options', async () => {
    const d = await data();
    expect(textualizeRow(d.rows[0] as TabularRow, schema, { columns: ['age', 'glucose'] })).toBe('age is 45 years, glucose is 141 mg/dL.');
    expect(textualizeRow(d.rows[0] as TabularRow, schema, { format: 'keyValue', columns: ['insulin', 'glucose'], units: true, unknownText: 'n/a', separator: '; ' })).toBe(
      'insulin: n/a; glucose: 141 mg/dL',
    );
    expect(textualizeRow(d.rows[0] as TabularRow, schema, { columns: ['glucose'], units: false })).toBe('glucose is 141.');
  });

  it('rounding: a global digits overrides the schema, a per-column one overrides both', async () => {
    const d = await data();
    expect(textualizeRow(d.rows[0] as TabularRow, schema, { format: 'keyValue', columns: ['mass', 'pedigree'], digits: 0 })).toBe('BMI: 31 | diabetes pedigree: 0');
    expect(textualizeRow(d.rows[0] as TabularRow, schema, { format: 'keyValue', columns: ['mass', 'pedigree'], digits: { pedigree: 1 } })).toBe('BMI: 31.3 | diabetes pedigree: 0.5');
    expect(formatTabularNumber(-0.04, 1)).toBe('0');
    expect(formatTabularNumber(2.5, 3)).toBe('2.5');
    expect(formatTabularNumber(0.1 + 0.2)).toBe('0.30000000000000004');
  });

  it('binning: given edges with labels, and quantile edges fitted on rows (unknown stays unknown)', async () => {
    const d = await data();
    const bins = { glucose: { edges: [100, 126], labels: ['low', 'normal', 'high'] } };
    expect(textualizeRows(d, { columns: ['glucose'], bins }).map((t) => t.text)).toEqual(['glucose is high.', 'glucose is low.', 'glucose is unknown.']);
    expect(textualizeRow(d.rows[1] as TabularRow, schema, { columns: ['glucose'], bins: { glucose: { edges: [97], labels: ['below', 'at or above'] } } })).toBe('glucose is at or above.');
    const q = quantileBins(d.rows, schema, 'age', ['young', 'middle', 'old']);
    // sorted 27, 45, 61: quantile positions 2/3 and 4/3 → 27 + (2/3)·18 = 39 and 45 + (1/3)·16 ≈ 50.33
    expect(q.edges[0]).toBeCloseTo(39, 12);
    expect(q.edges[1]).toBeCloseTo(45 + 16 / 3, 12);
    expect(textualizeRows(d, { columns: ['age'], bins: { age: q } }).map((t) => t.text)).toEqual(['age is middle.', 'age is young.', 'age is old.']);
  });

  it('bad options are ConfigErrors naming the nearest valid column', async () => {
    const d = await data();
    const row = d.rows[0] as TabularRow;
    expect(() => textualizeRow(row, schema, { columns: ['glucos'] })).toThrow(ConfigError);
    expect(() => textualizeRow(row, schema, { columns: ['glucos'] })).toThrow(/unknown column 'glucos' in schema 'pima' — did you mean 'glucose'\?/);
    expect(() => textualizeRow(row, schema, { digits: { presure: 1 } })).toThrow(/digits: unknown column 'presure' .*did you mean 'pressure'\?/);
    expect(() => textualizeRow(row, schema, { columns: ['diabetes'] })).toThrow(/it is the label column, which is never written as text/);
    expect(() => textualizeRow(row, schema, { columns: ['age', 'age'] })).toThrow(/'age' is listed twice/);
    expect(() => textualizeRow(row, schema, { digits: 1.5 })).toThrow(/digits must be an integer 0–12/);
    expect(() => textualizeRow(row, schema, { bins: { age: { edges: [30, 20], labels: ['a', 'b', 'c'] } } })).toThrow(/strictly increasing/);
    expect(() => textualizeRow(row, schema, { bins: { age: { edges: [30], labels: ['a'] } } })).toThrow(/need 2 labels for 1 edges/);
    expect(() => quantileBins(d.rows, schema, 'pregnant', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'])).not.toThrow();
    const tied = parseTabularCsv(PIMA_CSV.replace('3,141', '0,141').replace('5,0,0', '0,0,0'), 'p.csv', schema);
    expect(() => quantileBins(tied.rows, schema, 'pregnant', ['a', 'b', 'c'])).toThrow(/quantiles of 'pregnant' tie at 0 .*use fewer labels or give edges/);
  });
});
