/**
 * Strict readers for delimited text: RFC 4180 CSV (quoted fields, `""` escapes, line breaks inside
 * quotes) and plain TSV with quoting turned off (Python `csv.QUOTE_NONE`, as LIAR needs). Every
 * record keeps its 1-based starting line so errors can point at it; nothing is skipped silently.
 */
import { DatasetError } from './dataset_error.js';

/** One parsed record and the line it starts on. @category Data */
export interface DelimitedRecord {
  /** The fields, unquoted. */
  readonly fields: string[];
  /** 1-based line number of the record's first character. */
  readonly line: number;
}

/** A run of ordinary characters in an unquoted field (sticky; always matches at least one). */
const UNQUOTED = /[^,"\r\n]+|\r/y;

/** Text without a UTF-8 BOM; throws when there is no content at all. */
function body(text: string, source: string, fn: string): string {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (t.trim() === '') throw new DatasetError(`${fn}: ${source} is empty`);
  return t;
}

/**
 * Parse RFC 4180 CSV: fields separated by `,`, records by LF or CRLF; a quoted field may hold
 * commas, line breaks and `""` (one quote). A final line break does not start a new record.
 * @param text File contents.
 * @param source File name for messages.
 * @returns The records in file order.
 * @throws {@link "tfjs-lens"!DatasetError} for an empty file, a blank line, a quote inside an unquoted field,
 *   text after a closing quote, or an unterminated quoted field.
 * @example parseCsv('a,"b ""c"""\n1,2\n', 'x.csv')  // [{ fields: ['a', 'b "c"'], line: 1 }, { fields: ['1', '2'], line: 2 }]
 * @category Data
 */
export function parseCsv(text: string, source: string): DelimitedRecord[] {
  const fn = 'parseCsv';
  const t = body(text, source, fn);
  const out: DelimitedRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false; // the current field was a quoted one (so '' is a real empty field)
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const bad = (at: number, what: string): DatasetError => new DatasetError(`${fn}: ${source} line ${at}: ${what}`);
  const endField = (): void => {
    fields.push(field);
    field = '';
    quoted = false;
  };
  const endRecord = (): void => {
    if (fields.length === 0 && field === '' && !quoted) throw bad(recordLine, 'blank line (expected a record)');
    endField();
    out.push({ fields, line: recordLine });
    fields = [];
  };
  while (i < t.length) {
    const c = t[i] as string;
    if (c === '"' && field === '' && !quoted) {
      const start = line;
      for (i++; ; ) {
        const j = t.indexOf('"', i);
        if (j < 0) throw bad(start, 'unterminated quoted field');
        const chunk = t.slice(i, j);
        for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) line++;
        field += chunk;
        if (t[j + 1] !== '"') { i = j + 1; break; }
        field += '"'; // a doubled quote
        i = j + 2;
      }
      quoted = true;
      const next = t[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') throw bad(line, `unexpected ${JSON.stringify(next)} after a closing quote`);
    } else if (c === ',') {
      endField();
      i++;
    } else if (c === '\n' || (c === '\r' && t[i + 1] === '\n')) {
      endRecord();
      i += c === '\r' ? 2 : 1;
      line++;
      recordLine = line;
    } else if (c === '"') {
      throw bad(line, 'quote inside an unquoted field');
    } else {
      UNQUOTED.lastIndex = i;
      UNQUOTED.test(t);
      field += t.slice(i, UNQUOTED.lastIndex);
      i = UNQUOTED.lastIndex;
    }
  }
  if (field !== '' || quoted || fields.length > 0) endRecord();
  return out;
}

/**
 * Parse tab-separated text with quoting off: each line is split on every tab, quotes are ordinary
 * characters. A final line break does not start a new record.
 * @param text File contents.
 * @param source File name for messages.
 * @param nFields Required number of fields per line.
 * @returns The records in file order.
 * @throws {@link "tfjs-lens"!DatasetError} for an empty file, a blank line or a line with another field count.
 * @example parseTsv('ham\tok\n', 'sms', 2)  // [{ fields: ['ham', 'ok'], line: 1 }]
 * @category Data
 */
export function parseTsv(text: string, source: string, nFields: number): DelimitedRecord[] {
  const fn = 'parseTsv';
  const lines = body(text, source, fn).split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((raw, k) => {
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (l === '') throw new DatasetError(`${fn}: ${source} line ${k + 1}: blank line (expected ${nFields} tab-separated fields)`);
    const fields = l.split('\t');
    if (fields.length !== nFields) {
      throw new DatasetError(`${fn}: ${source} line ${k + 1}: expected ${nFields} tab-separated fields, got ${fields.length}`);
    }
    return { fields, line: k + 1 };
  });
}
