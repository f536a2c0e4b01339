/**
 * Corpus loaders on the real shipped files (row and label counts from each SOURCE.md) and on
 * broken temporary files (typed errors naming file and line; never partial results).
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AG_NEWS_CLASSES, loadAgNews, loadImdb, loadLiar, loadSmsSpam, shippedDataDir } from '../../../src/data/corpora.js';
import { DatasetError } from '../../../src/data/dataset_error.js';
import { parseCsv, parseTsv } from '../../../src/data/delimited.js';
import { seededSplit } from '../../../src/data/split.js';
import { ConfigError, InterpError, NotFoundError } from '../../../src/errors.js';

const countLabels = (xs: readonly { label: string }[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) out[x.label] = (out[x.label] ?? 0) + 1;
  return out;
};

const tmp = mkdtempSync(join(tmpdir(), 'tfjs-lens-corpora-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
/** A fresh folder holding one file. */
function folderWith(name: string, content: string): string {
  const dir = join(tmp, `d${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, name), content);
  return dir;
}

describe('shipped corpora', () => {
  it('SMS Spam: 5,574 messages, 4,827 ham / 747 spam; the seeded 80/20 split is fixed and disjoint', async () => {
    const all = await loadSmsSpam();
    expect(all.length).toBe(5574);
    expect(countLabels(all)).toEqual({ ham: 4827, spam: 747 });
    expect(all[0]?.text.startsWith('Go until jurong point')).toBe(true);
    const train = await loadSmsSpam({ split: 'train' });
    const test = await loadSmsSpam({ split: 'test' });
    expect([train.length, test.length]).toEqual([4459, 1115]);
    expect(countLabels([...train, ...test])).toEqual({ ham: 4827, spam: 747 });
    expect((await loadSmsSpam({ split: 'test' })).map((x) => x.text)).toEqual(test.map((x) => x.text));
  });

  it('AG News: test 7,600 rows (1,900 per class), train subset 581 rows (163/132/137/149); escapes cleaned', async () => {
    const test = await loadAgNews('test');
    expect(test.length).toBe(7600);
    expect(countLabels(test)).toEqual({ World: 1900, Sports: 1900, Business: 1900, 'Sci/Tech': 1900 });
    const train = await loadAgNews('train');
    expect(countLabels(train)).toEqual({ World: 163, Sports: 132, Business: 137, 'Sci/Tech': 149 });
    expect(train[0]).toEqual({
      label: 'Business',
      text: "Wall St. Bears Claw Back Into the Black (Reuters)\nReuters - Short-sellers, Wall Street's dwindling band of ultra-cynics, are seeing green again.",
    });
    expect(test.some((x) => x.text.includes('\\'))).toBe(false);
    expect(test.some((x) => x.text.includes('$1 billion'))).toBe(true);
    expect((await loadAgNews('train', { raw: true }))[0]?.text).toContain('dwindling\\band');
    expect(AG_NEWS_CLASSES).toEqual(['World', 'Sports', 'Business', 'Sci/Tech']);
  });

  it('IMDB subset: 2,500 reviews per split, 1,250 pos then 1,250 neg; quotes unescaped', async () => {
    for (const split of ['train', 'test'] as const) {
      const rows = await loadImdb(split);
      expect(rows.length).toBe(2500);
      expect(countLabels(rows)).toEqual({ pos: 1250, neg: 1250 });
      expect(rows[0]?.label).toBe('pos');
      expect(rows[2499]?.label).toBe('neg');
    }
    expect((await loadImdb('train'))[0]?.text).toContain('such as "Teachers"');
  });

  it('LIAR: 10,269 / 1,284 / 1,283 statements with the README label counts', async () => {
    const train = await loadLiar('train');
    expect(countLabels(train)).toEqual({
      'pants-fire': 842, false: 1998, 'barely-true': 1657, 'half-true': 2123, 'mostly-true': 1966, true: 1683,
    });
    expect(train[0]).toEqual({ label: 'false', text: 'Says the Annies List political group supports third-trimester abortions on demand.' });
    expect((await loadLiar('valid')).length).toBe(1284);
    expect((await loadLiar('test')).length).toBe(1283);
  });

  it('shippedDataDir rejects unknown names', () => {
    expect(shippedDataDir('imdb').endsWith(join('data', 'imdb'))).toBe(true);
    expect(() => shippedDataDir('wiki' as 'imdb')).toThrow(ConfigError);
  });
});

describe('broken files give typed errors', () => {
  it('missing files: NotFoundError', async () => {
    await expect(loadSmsSpam({ path: join(tmp, 'nope') })).rejects.toThrow(NotFoundError);
    await expect(loadImdb('train', { dir: join(tmp, 'nope') })).rejects.toThrow(/file not found/);
    await expect(loadLiar('train', { dir: join(tmp, 'nope') })).rejects.toThrow(NotFoundError);
  });

  it('empty files: DatasetError', async () => {
    await expect(loadSmsSpam({ path: join(folderWith('SMSSpamCollection', ''), 'SMSSpamCollection') })).rejects.toThrow(/is empty/);
    await expect(loadAgNews('test', { dir: folderWith('test.csv', '\n') })).rejects.toThrow(DatasetError);
    await expect(loadImdb('test', { dir: folderWith('imdb_test_subset.csv', 'id,rating,label,file,text\n') })).rejects.toThrow(/no rows/);
  });

  it('SMS: a line without a tab, an unknown label, a blank line', async () => {
    const p = (s: string) => join(folderWith('SMSSpamCollection', s), 'SMSSpamCollection');
    await expect(loadSmsSpam({ path: p('ham\tok\nspam no tab here\n') })).rejects.toThrow(/line 2: expected 2 tab-separated fields, got 1/);
    await expect(loadSmsSpam({ path: p('ham\tok\neggs\tbacon\n') })).rejects.toThrow(/line 2: unknown label "eggs"/);
    await expect(loadSmsSpam({ path: p('ham\tok\n\nham\tyes\n') })).rejects.toThrow(/line 2: blank line/);
    await expect(loadSmsSpam({ path: p('ham\t \n') })).rejects.toThrow(/line 1: empty text/);
    const err = await loadSmsSpam({ path: p('ham\tok\nx\n') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect(err).toBeInstanceOf(InterpError);
  });

  it('AG News: bad class, wrong field count, unterminated quote', async () => {
    await expect(loadAgNews('test', { dir: folderWith('test.csv', '"1","a","b"\n"5","c","d"\n') })).rejects.toThrow(/line 2: class must be 1–4, got "5"/);
    await expect(loadAgNews('test', { dir: folderWith('test.csv', '"1","a"\n') })).rejects.toThrow(/expected 3 fields/);
    await expect(loadAgNews('test', { dir: folderWith('test.csv', '"1","a","b\n') })).rejects.toThrow(/line 1: unterminated quoted field/);
  });

  it('IMDB: wrong header, short row, unknown label', async () => {
    const h = 'id,rating,label,file,text\n';
    await expect(loadImdb('train', { dir: folderWith('imdb_train_subset.csv', 'id,label,text\n1,pos,x\n') })).rejects.toThrow(/expected header/);
    await expect(loadImdb('train', { dir: folderWith('imdb_train_subset.csv', `${h}0,9,pos,f,"good"\n1,2,neg,f\n`) })).rejects.toThrow(/line 3: expected 5 fields, got 4/);
    await expect(loadImdb('train', { dir: folderWith('imdb_train_subset.csv', `${h}0,9,meh,f,"x"\n`) })).rejects.toThrow(/unknown label "meh"/);
  });

  it('LIAR: 13 columns, unknown label', async () => {
    const row = (label: string, cols = 14) => ['1.json', label, 'A statement.', ...Array<string>(cols - 3).fill('x')].join('\t');
    await expect(loadLiar('train', { dir: folderWith('train.tsv', `${row('true')}\n${row('true', 13)}\n`) })).rejects.toThrow(/line 2: expected 14 tab-separated fields, got 13/);
    await expect(loadLiar('train', { dir: folderWith('train.tsv', `${row('truthy')}\n`) })).rejects.toThrow(/unknown label "truthy"/);
    expect(await loadLiar('train', { dir: folderWith('train.tsv', `${row('half-true')}\n`) })).toEqual([{ label: 'half-true', text: 'A statement.' }]);
  });
});

describe('parsers and split', () => {
  it('parseCsv: quotes, doubled quotes, line breaks inside quotes, CRLF, empty fields', () => {
    const recs = parseCsv('a,"b ""c""",\r\n"x\ny",,""\n3,4,5', 't.csv');
    expect(recs).toEqual([
      { fields: ['a', 'b "c"', ''], line: 1 },
      { fields: ['x\ny', '', ''], line: 2 },
      { fields: ['3', '4', '5'], line: 4 },
    ]);
    expect(() => parseCsv('a,b"c\n', 't.csv')).toThrow(/quote inside an unquoted field/);
    expect(() => parseCsv('"a"b\n', 't.csv')).toThrow(/after a closing quote/);
    expect(() => parseTsv('a\tb\r\nc\td\n', 't.tsv', 2)).not.toThrow();
  });

  it('seededSplit: reproducible, disjoint, order-preserving; validates its options', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const a = seededSplit(items, { testFraction: 0.2, seed: 5 });
    expect(seededSplit(items, { testFraction: 0.2, seed: 5 })).toEqual(a);
    expect(seededSplit(items, { testFraction: 0.2, seed: 6 }).test).not.toEqual(a.test);
    expect(a.test.length).toBe(20);
    expect([...a.train, ...a.test].sort((x, y) => x - y)).toEqual(items);
    expect(a.test).toEqual([...a.test].sort((x, y) => x - y));
    expect(() => seededSplit(items, { testFraction: 1.5, seed: 0 })).toThrow(ConfigError);
    expect(() => seededSplit(items, { testFraction: 0.1, seed: 0.5 })).toThrow(ConfigError);
  });
});
