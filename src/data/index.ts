/**
 * tfjs-lens/data: the shipped text corpora (SMS Spam, AG News, IMDB, LIAR), CSV/TSV parsing, seeded splits, stratified k-fold cross-validation, and tabular rows (schema + CSV) written as text; seeded synthetic anomalies (typos, format errors, semantic shifts) on texts and tabular rows.
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
export { makeAnomalyDataset } from './synthetic_anomalies.js';
export type { ContextText } from './synthetic_anomalies.js';
export { makeTabularAnomalyDataset } from './anomalies/tabular.js';
export type { TabularAnomalyExample, TabularAnomalyOptions } from './anomalies/tabular.js';
export type { AnomalyCounts, AnomalyDataset, AnomalyExample, AnomalyOptions, AnomalySkips } from './anomalies/core.js';
export { ANOMALY_EDITS, ANOMALY_TYPES, applySpans, diffSpan } from './anomalies/types.js';
export type { AnomalyEdit, AnomalyType, FormatEdit, SemanticEdit, TextEditResult, TextSpan, TypoEdit } from './anomalies/types.js';
export { keyboardNeighbours, typo } from './anomalies/typos.js';
export { changeCase, convertUnit, DEFAULT_UNIT_CONVERSIONS, reorderTokens, swapDelimiter, swapNumberFormat } from './anomalies/format.js';
export type { UnitConversion } from './anomalies/format.js';
export { categorySwap, contradiction, DEFAULT_ANOMALY_LEXICON, fieldSwap } from './anomalies/semantic.js';
export type { AnomalyLexicon, ContradictionRule } from './anomalies/semantic.js';
