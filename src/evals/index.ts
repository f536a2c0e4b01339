/**
 * tfjs-lens/evals: model evaluations: induction loss and scores, the head detector (previous-token, duplicate-token, induction patterns) and `testPrompt`.
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
