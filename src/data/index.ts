/**
 * tfjs-lens/data: the shipped text corpora (SMS Spam, AG News, IMDB, LIAR), CSV/TSV parsing, seeded splits, stratified k-fold cross-validation, and tabular rows (schema + CSV) written as text.
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
export { aggregateFolds, formatMeanStd, stratifiedKFold } from './kfold.js';
export type { Fold, KFoldOptions, MeanStd } from './kfold.js';
export { loadTabularSchema, parseTabularCsv, parseTabularSchema, readTabularCsv } from './tabular.js';
export type {
  ShippedTabularSchema,
  TabularColumn,
  TabularColumnKind,
  TabularDataset,
  TabularLabel,
  TabularRow,
  TabularSchema,
  TabularValue,
} from './tabular.js';
export { formatTabularNumber, quantileBins, textualizeRow, textualizeRows } from './textualize.js';
export type { TabularBins, TabularText, TextualizeOptions } from './textualize.js';
