/**
 * `tfjs-lens/anomaly`: the anomaly-detection layer on top of the models, probes and classifiers —
 * few-shot detection, contrastive fine-tuning, explanations of any detector's score through the
 * model's internals, thresholds and ensembles, embedding and prediction caches, and the tabular
 * benchmark's detectors. Sits above `probe`, `sae`, `train` and `patching`; `viz` draws its pages.
 * @module
 */
export {};
export {
  fitFewShot, defaultFewShotHook, drawFewShot,
  type FewShotMethod, type FewShotOptions, type FewShotScore, type FewShotDetector,
} from './fewshot.js';
export { cosineSimilarities, rankBySimilarity, knnVote, knnScores, type KnnVoteOptions } from './fewshot_knn.js';
export {
  promptText, buildFewShotPrompt, labelTokenIds, labelLogProbs, labelSoftmax,
  type PromptTemplate, type FewShotExample, type PromptBudget, type BuiltPrompt,
} from './fewshot_prompt.js';
export {
  infoNceLoss, charSwapAugment, typoAugment, contrastiveFinetune,
  type InfoNceOptions, type ContrastiveData, type ContrastiveOptions, type ContrastiveResult,
} from './contrastive.js';
export {
  percentileThreshold, fitContextThresholds, contextThresholdsFor, applyContextThresholds, calibratedThreshold, calibratedProbabilities, checkFiniteScores,
  type PercentileThreshold, type ContextThreshold, type ContextThresholds, type ContextThresholdOptions, type CalibratedTarget, type CalibratedThreshold,
} from './thresholds.js';
export {
  fitNormaliser, applyNormaliser, fitWeightedEnsemble, ensembleScores, equalWeightScores, compareEnsembles,
  type ScoreNormalisation, type ScoreNormaliser, type WeightedEnsemble, type EnsembleOptions, type EnsembleComparison,
} from './ensemble.js';
export {
  classifierTarget, embedHookName, tokenizeForExplain, scoreRows, scoresOf, gradTimesInput, integratedGradients,
  type ExplainModel, type ExplainRows, type ExplainRunOptions, type ExplainTarget, type TokenAttribution, type IgOptions,
} from './explain.js';
export { attentionRollout, rolloutAttribution } from './rollout.js';
export { classifierDla, type DlaPart, type DlaDecomposition } from './explain_dla.js';
export { explanationLine, readableToken, topTokenPositions, type ExplanationLineOptions } from './explain_text.js';
export { deletionCurve, type DeletionOptions, type DeletionCurve, type CurvePoint, type TextDrops } from './deletion.js';
export { probeTarget, probeScoreOfPooled, probeHookOf, probePoolingOf, type ProbePooling, type ProbeScoreKind, type VaeProbe, type ProbeTargetOptions } from './probe_explain.js';
export { explainProbeBySaeFeatures, probeSaeLine, type SaeFeatureAttribution, type ProbeSaeOptions, type ProbeSaeExplanation } from './probe_explain_sae.js';
export { fitBowLogistic, type BowLogistic, type BowLogisticOptions } from './hierarchical_cheap.js';
export { fitCascadeBand, runCascade, cascadeSavings, type CascadeBand, type CascadeBandOptions, type CascadeStage, type CascadeResult, type BatchScorer } from './hierarchical.js';
export {
  cachedEmbeddings, cachedPredictions, anomalyCachePath, cacheKeyMeta, modelWeightsHash,
  type CacheOptions, type EmbeddingCacheKey, type PredictionCacheKey, type CacheResult,
} from './cache.js';

