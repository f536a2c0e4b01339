/**
 * tfjs-lens/data: the shipped text corpora (SMS Spam, AG News, IMDB, LIAR) and CSV/TSV parsing and seeded splits.
 * @packageDocumentation
 * @module tfjs-lens/data
 */
export {
  AG_NEWS_CLASSES,
  LIAR_LABELS,
  loadAgNews,
  loadImdb,
  loadLiar,
  loadSmsSpam,
  shippedDataDir,
} from './corpora.js';
export type {
  AgNewsLabel,
  AgNewsOptions,
  CorpusName,
  ImdbLabel,
  ImdbOptions,
  LabelledText,
  LiarLabel,
  LiarOptions,
  SmsLabel,
  SmsSpamOptions,
} from './corpora.js';
export { parseCsv, parseTsv } from './delimited.js';
export type { DelimitedRecord } from './delimited.js';
export { seededSplit } from './split.js';
export type { SplitOptions } from './split.js';
