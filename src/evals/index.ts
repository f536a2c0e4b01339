/**
 * tfjs-lens/evals: model evaluations: induction loss and scores, the head detector (previous-token, duplicate-token, induction patterns), `testPrompt`, classification metrics and reports, decision thresholds and calibration (ECE, temperature scaling).
 * @packageDocumentation
 * @module tfjs-lens/evals
 */
export { inductionLoss, inductionScores, repeatedRandomTokens } from './induction.js';
export type {
  InductionLossOptions,
  InductionScoreOptions,
  InductionScoresResult,
  RepeatedTokensOptions,
} from './induction.js';
export {
  detectHead,
  duplicateTokenPattern,
  headAttentionSimilarity,
  inductionPattern,
  previousTokenPattern,
} from './head_detector.js';
export type { DetectHeadOptions, HeadName, SimilarityOptions } from './head_detector.js';
export { testPrompt } from './test_prompt.js';
export type { PositionReadout, TestPromptOptions, TestPromptResult, TokenReadout } from './test_prompt.js';
export {
  argmaxRows,
  chooseThreshold,
  classificationReport,
  confusionMatrix,
  formatClassificationReport,
} from './classification.js';
export type { ClassificationReport, ClassMetrics, ReportOptions, ThresholdRule } from './classification.js';
export {
  calibrationBins,
  expectedCalibrationError,
  fitTemperature,
  meanNll,
  softmaxRows,
  temperatureScaling,
} from './calibration.js';
export type { CalibrationBin, TemperatureOptions, TemperatureScalingResult } from './calibration.js';
