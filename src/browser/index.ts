/**
 * tfjs-lens in the browser (`tfjs-lens/browser`, built by scripts/build_browser.ts into
 * dist/browser/tfjs-lens.js): the public API of the root entry that runs without Node — hooked
 * models, hooks and the cache, tokenizers, weight processing — plus loaders that fetch a model,
 * tokenizer or SAE folder by URL ({@link loadTransformerFromUrl}, {@link loadEncoderFromUrl},
 * {@link loadTokenizerFromUrl}, {@link loadSaeFromUrl}) and the browser backends (wasm by default,
 * threaded when the page is cross-origin isolated; WebGL; WebGPU when registered).
 * File-system loaders, the hub cache, the CLI and training to disk are Node-only (docs/browser.md).
 * @packageDocumentation
 * @module tfjs-lens/browser
 */
import './error_names.js';

/**
 * The `@tensorflow/tfjs-core` namespace the library runs on, with the autodiff gradients registered.
 * @category Backend
 */
export { tf } from '../backend/backend.browser.js';
export { backendInfo, initBackend, initBrowserBackend } from '../backend/backend.browser.js';
export type { BackendInfo, BackendName, BrowserBackendName, BrowserBackendOptions } from '../backend/backend.browser.js';
// URL loaders.
export { loadBetaVaeFromUrl, loadEncoderFromUrl, loadSaeFromUrl, loadShippedSaeFromUrl, loadTokenizerFromUrl, loadTransformerFromUrl } from './load_url.js';
export type { EncoderUrlOptions, TransformerUrlOptions, UrlLoadOptions } from './load_url.js';
export type { LoadProgress, UrlFetchOptions } from '../io/url_fetch.js';
export type { LoadTokenizerOptions } from '../tokenizers/load_options.js';
export { tokenizerFromFiles } from '../tokenizers/load_core.js';
export type { TokenizerFileSource } from '../tokenizers/load_core.js';
export { parseSafetensors, serializeSafetensors } from '../io/safetensors_bytes.js';
export type { RawTensor, SafetensorsContents, SafeDtype, TensorToWrite } from '../io/safetensors_bytes.js';
// Errors, hooks, models (shared with the Node entry).
export * from '../core_exports.js';
// Tokenizers and loading.
export type { SpecialTokenIds, Tokenizer, TokenizerKind } from '../tokenizers/tokenizer.js';
export { encodeForDecoder, encodeForEncoder } from '../tokenizers/batch.js';
export { tokenizeAndConcatenate } from '../tokenizers/concatenate.js';
export { getAttentionMask } from '../tokenizers/attention_mask.js';
export type { TextRow, TokenizeAndConcatenateOptions } from '../tokenizers/concatenate.js';
export type { BatchEncoding, DecoderEncodeOptions, EncoderEncodeOptions } from '../tokenizers/batch.js';
// Analysis.
export { applyLnToStack } from '../analysis/apply_ln.js';
export type { ApplyLnOptions } from '../analysis/apply_ln.js';
export { accumulatedResid, decomposeResid, stackActivation } from '../analysis/residual.js';
export type { AccumulatedResidOptions, DecomposeResidOptions } from '../analysis/residual.js';
export { accumulatedBias, getFullResidDecomposition, stackHeadResults, stackNeuronResults } from '../analysis/components.js';
export type { FullDecompositionOptions, StackHeadResultsOptions, StackNeuronResultsOptions } from '../analysis/components.js';
export { logitAttrs, residualStackToLogitDiff, tokensToResidualDirections } from '../analysis/logit_attrs.js';
export { computeHeadResults, getNeuronResults } from '../analysis/results.js';
export type { LogitAttrsOptions } from '../analysis/logit_attrs.js';
export { directLogitAttribution, logitLens } from '../analysis/lens.js';
export type { DlaOptions, DlaResult, LogitLensOptions, LogitLensResult } from '../analysis/lens.js';
export type { AnalysisModel, LabelledStack, PosSlice, TokenSpec } from '../analysis/types.js';
// Activation patching.
export { axisPatchSetter, layerHeadDestSrcPosPatternPatchSetter, layerHeadPatternPatchSetter, layerHeadPosPatternPatchSetter, layerHeadVectorPatchSetter, layerPosHeadVectorPatchSetter, layerPosPatchSetter } from '../patching/setters.js';
export type { PatchSetter } from '../patching/setters.js';
export { genericActivationPatch, metricValue } from '../patching/generic_patch.js';
export type { AxisIndex, AxisName, GenericPatchOptions, PatchableModel, PatchMetric, PatchOptions, RowIndex } from '../patching/generic_patch.js';
export type { ProgressOptions } from '../patching/progress.js';
export { getActPatchAttnOut, getActPatchMlpOut, getActPatchResidMid, getActPatchResidPre, PATCH_PRESET_NAMES } from '../patching/presets.js';
export type { PatchPresetName, PresetPatchFn } from '../patching/presets.js';
export { getActPatchAttnHeadKAllPos, getActPatchAttnHeadKByPos, getActPatchAttnHeadOutAllPos, getActPatchAttnHeadOutByPos, getActPatchAttnHeadPatternAllPos, getActPatchAttnHeadPatternByPos, getActPatchAttnHeadPatternDestSrcPos, getActPatchAttnHeadQAllPos, getActPatchAttnHeadQByPos, getActPatchAttnHeadVAllPos, getActPatchAttnHeadVByPos } from '../patching/head_presets.js';
export { getActPatchAttnHeadAllPosEvery, getActPatchAttnHeadByPosEvery, getActPatchBlockEvery } from '../patching/every.js';
export { logitDiffMetric, normalizePatchResult, pearsonCorrelation } from '../patching/metrics.js';
export type { LogitDiffOptions } from '../patching/metrics.js';
export { gradientsAtHooks } from '../patching/gradients.js';
export type { DiffMetric, GradientOptions, GradientsResult, GradModel, HookSelection } from '../patching/gradients.js';
export { attributionHookNames, attributionPatch, attributionPatchMany } from '../patching/attribution.js';
export type { CorruptedGrads } from '../patching/attribution.js';
// Evaluations.
export { inductionLoss, inductionScores, repeatedRandomTokens } from '../evals/induction.js';
export type { InductionLossOptions, InductionScoreOptions, InductionScoresResult, RepeatedTokensOptions } from '../evals/induction.js';
export { detectHead, duplicateTokenPattern, headAttentionSimilarity, inductionPattern, previousTokenPattern } from '../evals/head_detector.js';
export type { DetectHeadOptions, HeadName, SimilarityOptions } from '../evals/head_detector.js';
export { testPrompt } from '../evals/test_prompt.js';
export type { PositionReadout, TestPromptOptions, TestPromptResult, TokenReadout } from '../evals/test_prompt.js';
export { argmaxRows, chooseThreshold, classificationReport, confusionMatrix, formatClassificationReport } from '../evals/classification.js';
export type { ClassificationReport, ClassMetrics, ReportOptions, ThresholdRule } from '../evals/classification.js';
export { calibrationBins, expectedCalibrationError, fitTemperature, meanNll, softmaxRows, temperatureScaling } from '../evals/calibration.js';
export type { CalibrationBin, TemperatureOptions, TemperatureScalingResult } from '../evals/calibration.js';
// Sparse autoencoders (no file loaders: loadSaeFromUrl, saeFromFiles).
export { saeConfig, validateSaeConfig, resolveSaeTraining } from '../sae/config.js';
export type { NormalizeActivations, ResolvedSaeTraining, SaeArchitecture, SaeConfig, SaeTrainingConfig } from '../sae/config.js';
export { saeConfigFromCfgJson, saeConfigToCfgJson } from '../sae/sae_lens_config.js';
export type { SaeLensCfgJson } from '../sae/sae_lens_config.js';
export type { SaeLensMetadata } from '../sae/config.js';
export { SparseAutoencoder } from '../sae/sae.js';
export type { SaeForwardOptions, SaeParams, SaeWeightArrays } from '../sae/sae.js';
export { initSae } from '../sae/init.js';
export type { SaeInitOptions } from '../sae/init.js';
export { ActivationStore, arrayActivationSource, modelActivationSource, tokenWindows } from '../sae/activation_store.js';
export type { ActivationSource, ActivationStoreOptions, BatchProvider, CachingModel, ModelSourceOptions } from '../sae/activation_store.js';
export { parseSaeCfgText, parseSaeSafetensors, parseSaeSparsity, saeFromFiles, saeWeightsFromTensors } from '../sae/io_codec.js';
export { findShippedSae, type ShippedSaeName } from '../sae/shipped_lookup.js';
export type { SaeCodecOptions, SaeFileTensor } from '../sae/io_codec.js';
export { encoderCeLossRecovered, encoderHookActivations, evaluateSaeOnEncoderTokens } from '../sae/evals_encoder.js';
export type { EncoderCeLossMetrics, EncoderCeLossOptions } from '../sae/evals_encoder.js';
export { densityHistogram, evaluateSae, evaluateSaeOnTokens } from '../sae/evals.js';
export type { EvaluateSaeOnTokensOptions, EvaluateSaeOptions, SaeEvalMetrics } from '../sae/evals.js';
export { ceLossRecovered } from '../sae/recons_loss.js';
export type { CeLossMetrics, CeLossOptions } from '../sae/recons_loss.js';
export { excludedTokenIds, specialTokenIds } from '../sae/special_tokens.js';
export type { ExcludeSpecialTokens, SpecialTokenSource } from '../sae/special_tokens.js';
export { runWithCacheWithSaes, runWithSaes, saeFwdHooks, saeReplacementHook, spliceHookName } from '../sae/splice.js';
export type { SaeSplice } from '../sae/splice.js';
export { topActivatingContexts, topFeaturesForActivation } from '../sae/features.js';
export type { FeatureAttribution, FeatureExample, TopContextsOptions } from '../sae/features.js';
export { featureRecovery, syntheticFeatures } from '../sae/synthetic.js';
export type { SyntheticFeatures, SyntheticOptions } from '../sae/synthetic.js';
export { logFeatureSparsity } from '../sae/train_state.js';
export { SAE_LENS_FORMAT_VERSION, trainingCfgFields } from '../sae/sae_lens_config.js';
export { initSaeWeights } from '../sae/init.js';
export { SAE_ARCHITECTURES } from '../sae/config.js';
export { SAE_HOOK_NAMES } from '../sae/sae.js';
export type { SaeHookFn, SaeHookName } from '../sae/sae.js';
export { batchTopkCount, batchTopkMask, batchTopkRelu } from '../sae/sae_ops.js';
export { batchTopkToJumpRelu, foldDecoderNorm, foldDecoderNormArrays, jumpReluCfgOf, nextTopkThreshold } from '../sae/convert.js';
export { runnerConfigToSaeLens, runnerToSaeConfigs } from '../sae/runner_config.js';
export type { SaeRunnerConfig } from '../sae/runner_config.js';
export type { SaeRunOptions } from '../sae/splice.js';
export { featurewiseWeightMetrics } from '../sae/evals.js';
export type { FeaturewiseWeightMetrics } from '../sae/evals.js';
// Circuits.
export { ABLATION_TYPES, AblationSource, ablationHooks } from '../circuits/ablation.js';
export type { AblationSourceOptions, AblationTarget, AblationType } from '../circuits/ablation.js';
export { buildCircuitGraph, connectedEdges } from '../circuits/graph.js';
export type { CircuitEdge, CircuitGraph, CircuitNode, NodeKind } from '../circuits/graph.js';
export { inductionTask, validateTask } from '../circuits/task.js';
export type { CircuitTask, InductionTaskOptions } from '../circuits/task.js';
export { klCircuitMetric, logitDiffCircuitMetric, logProbCircuitMetric, metricDamage } from '../circuits/metrics.js';
export type { CircuitMetric, MetricName } from '../circuits/metrics.js';
export { circuitMetricValue, logitsAtPositions, resolveMetric, selectPositions } from '../circuits/run.js';
export type { CircuitModel, MetricSpec } from '../circuits/run.js';
export { createSenderAblation, edgeCircuitMetric } from '../circuits/edge_patch.js';
export type { EdgePatch, SenderAblationOptions } from '../circuits/edge_patch.js';
export { DEFAULT_TARGET_FAITHFULNESS, faithfulnessOf, searchTask, sizeSelection, smallestFaithful, targetOf } from '../circuits/result.js';
export type { CircuitMethod, CircuitResult, CircuitSearchOptions, CurvePoint, Faithfulness, SearchStep, SizeSelection } from '../circuits/result.js';
export { connectEdges, curveSizes, greedyConnectedEdges, isConnectedCircuit, topNConnectedEdges } from '../circuits/selection.js';
export type { Closure, EdgeScores } from '../circuits/selection.js';
export { edgeSizeCurve } from '../circuits/curve.js';
export type { EdgeCurve } from '../circuits/curve.js';
export { iterativePruning } from '../circuits/prune.js';
export type { IterativePruningOptions } from '../circuits/prune.js';
export { eapScores, edgeAttributionPatching, edgeFaithfulness } from '../circuits/eap.js';
export type { EapOptions } from '../circuits/eap.js';
export { ACDC_THRESHOLD_FRACTIONS, acdc } from '../circuits/acdc.js';
export type { AcdcOptions } from '../circuits/acdc.js';
export { plantedCircuitModel } from '../circuits/planted.js';
export type { PlantedCircuit } from '../circuits/planted.js';
export { circuitFlags } from '../circuits/graph.js';
export type { Channel } from '../circuits/graph.js';
// Probes (scoring and training in memory; no dataset files).
export { BetaVae, klPerSample, reconErrorPerSample } from '../probe/beta_vae.js';
export type { VaeOutputs, VaeRunOptions, VaeWeightArrays } from '../probe/beta_vae.js';
export { DEFAULT_VAE_CONFIG, DEFAULT_VAE_TRAIN, betaAt, resolveTrainConfig, resolveVaeConfig } from '../probe/vae_config.js';
export type { BetaVaeConfig, VaeTrainConfig } from '../probe/vae_config.js';
export { trainBetaVae } from '../probe/vae_train.js';
export type { VaeEpochRecord, VaeTrainOptions, VaeTrainResult } from '../probe/vae_train.js';
export { vaeScores } from '../probe/vae_scores.js';
export type { VaeScores } from '../probe/vae_scores.js';
export type { SavedVaeConfig } from '../probe/vae_codec.js';
export { VAE_FORMAT, encodeBetaVae, betaVaeFromParts, decodeBetaVae } from '../probe/vae_codec.js';
export type { VaeTensor, DecodedBetaVae } from '../probe/vae_codec.js';
export { applyScaler, fitScaler, selectRows } from '../probe/matrix.js';
export type { ColumnScaler, FeatureMatrix } from '../probe/matrix.js';
export { averagePrecision, binaryReport, detectionMetrics, maxF1Threshold, prCurve, quantileThreshold, rocAuc, rocCurve } from '../probe/metrics.js';
export type { BinaryLabels, BinaryReport, DetectionMetrics } from '../probe/metrics.js';
export { fitGaussian, fitKnn, fitMahalanobis, fitPca, rankAverage } from '../probe/baselines.js';
export type { FittedDetector, GaussianFit } from '../probe/baselines.js';
export { extractPooledFeatures, probeHookName } from '../probe/features.js';
export type { ExtractOptions, PoolingModel, TokenBatch } from '../probe/features.js';
export { pseudoPerplexities } from '../probe/pseudo_perplexity.js';
export type { PseudoPerplexity } from '../probe/pseudo_perplexity.js';
export { umapEmbed } from '../probe/embed2d.js';
export type { UmapOptions } from '../probe/embed2d.js';
export { makeSyntheticAnomalies, stratifiedSplit } from '../probe/synthetic.js';
export type { SyntheticAnomalyOptions } from '../probe/synthetic.js';
export { fitLengthDetector, sqrtNPooled } from '../probe/length_correction.js';
export type { Moments, SymmetricEigen } from '../probe/linalg.js';
export { tokenMean } from '../probe/length_correction.js';
export { chooseOnDev } from '../probe/dev_choice.js';
export type { DevCandidate, DevChoice, DevRows } from '../probe/dev_choice.js';
export { aurocOverSeeds } from '../probe/bootstrap.js';
export type { AurocSummary, SeedScores } from '../probe/bootstrap.js';
export { fitTfidfKnn, fitTfidfSvd } from '../probe/text_baselines.js';
export type { TextDetector, TfidfAnalyzer } from '../probe/text_baselines.js';
export { fitIsolationForest, isolationForestPathCorrection } from '../probe/isolation_forest.js';
// Anomaly detection and explanations (no disk caches).
export { fitFewShot, defaultFewShotHook, drawFewShot, type FewShotMethod, type FewShotOptions, type FewShotScore, type FewShotDetector } from '../anomaly/fewshot.js';
export { cosineSimilarities, rankBySimilarity, knnVote, knnScores, type KnnVoteOptions } from '../anomaly/fewshot_knn.js';
export { promptText, buildFewShotPrompt, labelTokenIds, labelLogProbs, labelSoftmax, type PromptTemplate, type FewShotExample, type PromptBudget, type BuiltPrompt } from '../anomaly/fewshot_prompt.js';
export { infoNceLoss, charSwapAugment, typoAugment, contrastiveFinetune, type InfoNceOptions, type ContrastiveData, type ContrastiveOptions, type ContrastiveResult } from '../anomaly/contrastive.js';
export { percentileThreshold, fitContextThresholds, contextThresholdsFor, applyContextThresholds, calibratedThreshold, calibratedProbabilities, checkFiniteScores, type PercentileThreshold, type ContextThreshold, type ContextThresholds, type ContextThresholdOptions, type CalibratedTarget, type CalibratedThreshold } from '../anomaly/thresholds.js';
export { fitNormaliser, applyNormaliser, fitWeightedEnsemble, ensembleScores, equalWeightScores, compareEnsembles, type ScoreNormalisation, type ScoreNormaliser, type WeightedEnsemble, type EnsembleOptions, type EnsembleComparison } from '../anomaly/ensemble.js';
export { classifierTarget, embedHookName, tokenizeForExplain, scoreRows, scoresOf, gradTimesInput, integratedGradients, type ExplainModel, type ExplainRows, type ExplainRunOptions, type ExplainTarget, type TokenAttribution, type IgOptions } from '../anomaly/explain.js';
export { attentionRollout, rolloutAttribution } from '../anomaly/rollout.js';
export { classifierDla, type DlaPart, type DlaDecomposition } from '../anomaly/explain_dla.js';
export { explanationLine, readableToken, topTokenPositions, type ExplanationLineOptions } from '../anomaly/explain_text.js';
export { deletionCurve, type DeletionOptions, type DeletionCurve, type CurvePoint as DeletionCurvePoint, type TextDrops } from '../anomaly/deletion.js';
export { probeTarget, probeScoreOfPooled, probeHookOf, probePoolingOf, type ProbePooling, type ProbeScoreKind, type VaeProbe, type ProbeTargetOptions } from '../anomaly/probe_explain.js';
export { explainProbeBySaeFeatures, probeSaeLine, type SaeFeatureAttribution, type ProbeSaeOptions, type ProbeSaeExplanation } from '../anomaly/probe_explain_sae.js';
export { fitBowLogistic, type BowLogistic, type BowLogisticOptions } from '../anomaly/hierarchical_cheap.js';
export { fitCascadeBand, runCascade, cascadeSavings, type CascadeBand, type CascadeBandOptions, type CascadeStage, type CascadeResult, type BatchScorer } from '../anomaly/hierarchical.js';
