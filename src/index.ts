/**
 * tfjs-lens: mechanistic interpretability for TypeScript on TensorFlow.js. The only barrel:
 * named re-exports of the public API (STYLE Convention 3).
 * @packageDocumentation
 */

/**
 * The `@tensorflow/tfjs-core` namespace the library runs on, with the autodiff gradients registered.
 * Build tensors for models and hooks with it.
 * @category Backend
 */
export { tf } from './backend/backend.js';
export { initBackend, backendInfo } from './backend/backend.js';
export type { BackendInfo, BackendName } from './backend/backend.js';
export type { NativeMatmulInfo } from './backend/native_matmul.js';
export * from './errors.js';
export { HookPoint } from './hooks/hook_point.js';
export type { HookContext, HookFn } from './hooks/hook_point.js';
export { HookedRoot } from './hooks/hook_registry.js';
export type { AddHookOptions, FwdHooks, HookTarget } from './hooks/hook_registry.js';
export { actName, decoderHookSpecs, nearestNames } from './hooks/hook_names.js';
export type { HookFlags, HookSpec, HookTableConfig } from './hooks/hook_names.js';
export { ActivationCache } from './hooks/activation_cache.js';
export { HookedTransformer } from './model/hooked_transformer.js';
export type {
  ForwardOptions,
  ForwardOutput,
  LogitsAndLoss,
  ReturnType,
  RunWithCacheOptions,
  RunWithHooksOptions,
} from './model/hooked_transformer.js';
export type { FromPretrainedOptions } from './model/load_decoder.js';
export { GPT2_PRESETS, validateConfig } from './model/config.js';
export type { ActFn, ModelConfig, NormalizationType } from './model/config.js';
export { gpt2ConfigFromHf } from './model/hf_config.js';
export type { HfGpt2Config } from './model/hf_config.js';
export { gpt2ParamsFromHf } from './model/weights/gpt2.js';
export { disposeParams } from './model/params.js';
export type { AttnParams, BlockParams, DecoderParams, LayerNormParams, MlpParams } from './model/params.js';
export { processWeights, DEFAULT_PROCESSING, NO_PROCESSING } from './model/weight_processing.js';
export type { ProcessingOptions } from './model/weight_processing.js';
export { WeightsView, tlStateDict } from './model/weights_view.js';
export type { WeightName } from './model/weights_view.js';
export { lmCrossEntropy } from './model/loss.js';
export { generate } from './model/generate.js';
export type { GenerateOptions, GenerateOutput, GenerativeModel } from './model/generate.js';
export type { SamplingOptions } from './model/sampling.js';
export type { ModelInput, TensorLike, TokenInput, TokenizeOptions } from './model/inputs.js';
export { seededRng } from './utils/rng.js';
export type { Rng } from './utils/rng.js';
export { randomDecoderParams } from './model/random_init.js';
export { parseSafetensors, serializeSafetensors, readSafetensorsFile, writeSafetensorsFile } from './io/safetensors.js';
export type { RawTensor, SafeDtype, SafetensorsContents, TensorToWrite } from './io/safetensors.js';
export { loadCheckpointTensors } from './io/checkpoint.js';
export { hubCacheDir, resolveModelDir, validateRepoId } from './io/hub.js';
export type { HubOptions, ResolvedModel } from './io/hub.js';
export { loadTokenizer, shippedTokenizerDir } from './tokenizers/load.js';
export type { LoadTokenizerOptions, ShippedTokenizerName } from './tokenizers/load.js';
export { encodeForDecoder, encodeForEncoder } from './tokenizers/batch.js';
export type { BatchEncoding, DecoderEncodeOptions, EncoderEncodeOptions } from './tokenizers/batch.js';
export type { SpecialTokenIds, Tokenizer, TokenizerKind } from './tokenizers/tokenizer.js';
export { HookedEncoder } from './model/encoder/hooked_encoder.js';
export type {
  EncoderBatch,
  EncoderForwardOptions,
  EncoderInput,
  EncoderRunWithCacheOptions,
} from './model/encoder/hooked_encoder.js';
export type { EncoderFromPretrainedOptions } from './model/encoder/load_encoder.js';
export { encoderConfigFromHf } from './model/encoder/encoder_config.js';
export type { EncoderConfig, HfBertConfig, HfDistilBertConfig } from './model/encoder/encoder_config.js';
export { encoderParamsFromHf } from './model/encoder/encoder_weights.js';
export { disposeEncoderParams, encoderStateDict } from './model/encoder/encoder_params.js';
export type { EncoderBlockParams, EncoderParams, MlmHeadParams } from './model/encoder/encoder_params.js';
export { randomEncoderParams } from './model/encoder/random_encoder.js';
export { maskedMeanPool, pseudoLogLikelihood } from './model/encoder/pooling.js';
export { encoderHookSpecs } from './hooks/encoder_hook_names.js';
// Activation patching, gradients at hooks and attribution patching (src/patching/).
export {
  axisPatchSetter,
  layerHeadDestSrcPosPatternPatchSetter,
  layerHeadPatternPatchSetter,
  layerHeadPosPatternPatchSetter,
  layerHeadVectorPatchSetter,
  layerPosHeadVectorPatchSetter,
  layerPosPatchSetter,
  tiledAxisPatch,
} from './patching/setters.js';
export type { PatchSetter } from './patching/setters.js';
export { cartesianRows, defaultPatchBatch, genericActivationPatch, metricValue } from './patching/generic_patch.js';
export type {
  AxisIndex,
  AxisName,
  GenericPatchOptions,
  PatchableModel,
  PatchMetric,
  PatchOptions,
  RowIndex,
} from './patching/generic_patch.js';
export type { ProgressOptions } from './patching/progress.js';
export {
  actPatch,
  getActPatchAttnOut,
  getActPatchMlpOut,
  getActPatchResidMid,
  getActPatchResidPre,
  PATCH_PRESET_NAMES,
  PATCH_PRESETS,
} from './patching/presets.js';
export type { PatchPreset, PatchPresetName, PresetPatchFn } from './patching/presets.js';
export {
  getActPatchAttnHeadKAllPos,
  getActPatchAttnHeadKByPos,
  getActPatchAttnHeadOutAllPos,
  getActPatchAttnHeadOutByPos,
  getActPatchAttnHeadPatternAllPos,
  getActPatchAttnHeadPatternByPos,
  getActPatchAttnHeadPatternDestSrcPos,
  getActPatchAttnHeadQAllPos,
  getActPatchAttnHeadQByPos,
  getActPatchAttnHeadVAllPos,
  getActPatchAttnHeadVByPos,
} from './patching/head_presets.js';
export { getActPatchAttnHeadAllPosEvery, getActPatchAttnHeadByPosEvery, getActPatchBlockEvery } from './patching/every.js';
export { logitDiffMetric, normalizePatchResult, pearsonCorrelation } from './patching/metrics.js';
export type { LogitDiffOptions } from './patching/metrics.js';
export { gradientsAtHooks } from './patching/gradients.js';
export type { DiffMetric, GradientOptions, GradientsResult, GradModel, HookSelection } from './patching/gradients.js';
export { attributionHookNames, attributionPatch, attributionPatchMany } from './patching/attribution.js';
export type { CorruptedGrads } from './patching/attribution.js';
// Cache analysis (TL ActivationCache methods as functions), evals, and self-contained Plotly pages.
export { applyLnToStack } from './analysis/apply_ln.js';
export type { ApplyLnOptions } from './analysis/apply_ln.js';
export { accumulatedResid, decomposeResid, stackActivation } from './analysis/residual.js';
export type { AccumulatedResidOptions, DecomposeResidOptions } from './analysis/residual.js';
export { accumulatedBias, getFullResidDecomposition, stackHeadResults, stackNeuronResults } from './analysis/components.js';
export type { FullDecompositionOptions, StackHeadResultsOptions, StackNeuronResultsOptions } from './analysis/components.js';
export { logitAttrs, residualStackToLogitDiff, tokensToResidualDirections } from './analysis/logit_attrs.js';
export type { LogitAttrsOptions } from './analysis/logit_attrs.js';
export { directLogitAttribution, logitLens } from './analysis/lens.js';
export type { DlaOptions, DlaResult, LogitLensOptions, LogitLensResult } from './analysis/lens.js';
export type { AnalysisModel, LabelledStack, PosSlice, TokenSpec } from './analysis/types.js';
export { inductionLoss, inductionScores, repeatedRandomTokens } from './evals/induction.js';
export type { InductionLossOptions, InductionScoreOptions, InductionScoresResult, RepeatedTokensOptions } from './evals/induction.js';
export {
  detectHead,
  duplicateTokenPattern,
  headAttentionSimilarity,
  inductionPattern,
  previousTokenPattern,
} from './evals/head_detector.js';
export type { DetectHeadOptions, HeadName, SimilarityOptions } from './evals/head_detector.js';
export { testPrompt } from './evals/test_prompt.js';
export type { PositionReadout, TestPromptOptions, TestPromptResult, TokenReadout } from './evals/test_prompt.js';
export { plotlyJs, plotlyPageHtml, writeFileAtomic, writePlotlyPage, matrixShape } from './viz/html.js';
export type { PageOptions, PlotlyFigure, PlotlyJson } from './viz/html.js';
export { chartLayout, writeBarChart, writeHistogram, writeLinePlot, writeScatterPlot } from './viz/charts.js';
export type { ChartOptions, HistogramOptions, NamedValues, Series } from './viz/charts.js';
export { heatmapTrace, WHITE_TO_BLUE, writeHeatmap, writePatchingHeatmap } from './viz/heatmap.js';
export type { HeatmapOptions, HeatmapParts, PatchingHeatmapOptions } from './viz/heatmap.js';
export { writeAttentionPatterns } from './viz/attention.js';
export type { AttentionPlotOptions } from './viz/attention.js';
export { writeDlaBarChart, writeLogitLensPlot } from './viz/lens_plots.js';
export type { LogitLensPlotData } from './viz/lens_plots.js';
// Shipped corpora (data/), masked-LM training of encoders, DistilBERT checkpoint writer.
export {
  AG_NEWS_CLASSES,
  LIAR_LABELS,
  SMS_SPLIT_SEED,
  loadAgNews,
  loadImdb,
  loadLiar,
  loadSmsSpam,
  shippedDataDir,
} from './data/corpora.js';
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
} from './data/corpora.js';
export { parseCsv, parseTsv } from './data/delimited.js';
export type { DelimitedRecord } from './data/delimited.js';
export { seededSplit } from './data/split.js';
export type { SplitOptions } from './data/split.js';
export { maskTokens, packTokenSequences, targetTokenCounts, unigramBaselines } from './train/mlm_data.js';
export type { MaskedBatch, MaskedPositions, MaskingTokenizer, MaskOptions, UnigramBaselines } from './train/mlm_data.js';
export { makeTrainableEncoder, mlmAccuracy, mlmLogitsAt, mlmLossAt, mlmMetrics } from './train/mlm_training.js';
export type { MlmInput, MlmMetrics, TrainableEncoder } from './train/mlm_training.js';
export type { ScheduledAdam } from './ops/optimizer.js';
// Sparse autoencoders (SAELens v6 semantics and file format).
export { saeConfig, validateSaeConfig, resolveSaeTraining } from './sae/config.js';
export type { NormalizeActivations, ResolvedSaeTraining, SaeArchitecture, SaeConfig, SaeTrainingConfig } from './sae/config.js';
export { SAE_LENS_FORMAT_VERSION, saeConfigFromCfgJson, saeConfigToCfgJson, trainingCfgFields } from './sae/sae_lens_config.js';
export type { SaeLensCfgJson, SaeLensMetadata } from './sae/sae_lens_config.js';
export { SparseAutoencoder, decoderNorms, topkMask, topkRelu } from './sae/sae.js';
export type { SaeForwardOptions, SaeParams, SaeWeightArrays } from './sae/sae.js';
export { initSae, initSaeWeights, geometricMedian, meanOf } from './sae/init.js';
export type { SaeInitOptions } from './sae/init.js';
export { saeLossAndGrads, STATS_HEAD } from './sae/grads.js';
export type { SaeGradOptions, SaeGradResult, SaeGrads, SaeTensors } from './sae/grads.js';
export { ActivationStore, arrayActivationSource, modelActivationSource, tokenWindows } from './sae/activation_store.js';
export type { ActivationSource, ActivationStoreOptions, BatchProvider, CachingModel, ModelSourceOptions } from './sae/activation_store.js';
export { cacheActivations, diskActivationSource, readActivationCacheMeta } from './sae/disk_cache.js';
export type { ActivationCacheMeta, CacheActivationsOptions } from './sae/disk_cache.js';
export { trainSae, foldScale } from './sae/train.js';
export type { SaeStepMetrics, TrainSaeOptions, TrainSaeResult } from './sae/train.js';
export { FeatureTracker, clipAndApply, coefficientAt, logFeatureSparsity } from './sae/train_state.js';
export { SAE_FILES, loadSae, readSaeSparsity, saeDir, saveSae } from './sae/io.js';
export type { SaveSaeOptions } from './sae/io.js';
export { ceLossRecovered, densityHistogram, evaluateSae } from './sae/evals.js';
export type { CeLossMetrics, EvaluateSaeOptions, SaeEvalMetrics } from './sae/evals.js';
export { runWithCacheWithSaes, runWithSaes, saeFwdHooks, saeReplacementHook, spliceHookName } from './sae/splice.js';
export type { SaeSplice } from './sae/splice.js';
export { topActivatingContexts, topFeaturesForActivation } from './sae/features.js';
export type { FeatureAttribution, FeatureExample, TopContextsOptions } from './sae/features.js';
export { featureDashboardHtml, writeFeatureDashboard } from './sae/dashboard_html.js';
export type { FeatureDashboardOptions } from './sae/dashboard_html.js';
export { featureRecovery, syntheticFeatures } from './sae/synthetic.js';
export type { SyntheticFeatures, SyntheticOptions } from './sae/synthetic.js';
// β-VAE probe anomaly detection: VAE, training, scoring, metrics, baselines, features, benchmarks.
export { BetaVae, klPerSample, reconErrorPerSample } from './probe/beta_vae.js';
export type { VaeOutputs, VaeRunOptions, VaeWeightArrays } from './probe/beta_vae.js';
export { DEFAULT_VAE_CONFIG, DEFAULT_VAE_TRAIN, betaAt, resolveTrainConfig, resolveVaeConfig } from './probe/vae_config.js';
export type { BetaVaeConfig, VaeTrainConfig } from './probe/vae_config.js';
export { trainBetaVae } from './probe/vae_train.js';
export type { VaeEpochRecord, VaeTrainOptions, VaeTrainResult } from './probe/vae_train.js';
export { vaeScores } from './probe/vae_scores.js';
export type { VaeScores } from './probe/vae_scores.js';
export { VAE_FILES, loadBetaVae, saveBetaVae } from './probe/vae_io.js';
export type { SavedVaeConfig } from './probe/vae_io.js';
export { applyScaler, checkFinite, concatRows, fitScaler, selectRows, toFeatureMatrix } from './probe/matrix.js';
export type { ColumnScaler, FeatureMatrix } from './probe/matrix.js';
export {
  averagePrecision, binaryReport, detectionMetrics, maxF1Threshold, prCurve, quantileThreshold, ratesAtThresholds, rocAuc, rocCurve,
} from './probe/metrics.js';
export type { BinaryLabels, BinaryReport, DetectionMetrics, RatesAtThresholds } from './probe/metrics.js';
export { ledoitWolfShrinkage, sampleMoments, symmetricEigen } from './probe/linalg.js';
export type { Moments, SymmetricEigen } from './probe/linalg.js';
export { fitGaussian, fitKnn, fitMahalanobis, fitPca, rankAverage } from './probe/baselines.js';
export type { FittedDetector, GaussianFit } from './probe/baselines.js';
export { extractPooledFeatures, probeHookName } from './probe/features.js';
export type { ExtractOptions, TokenBatch } from './probe/features.js';
export { cachedFeatures, featureCachePath, hashTexts, modelRevision } from './probe/feature_cache.js';
export type { FeatureCacheKey } from './probe/feature_cache.js';
export { pseudoPerplexities } from './probe/pseudo_perplexity.js';
export type { PseudoPerplexity } from './probe/pseudo_perplexity.js';
export { umapEmbed } from './probe/embed2d.js';
export type { UmapOptions } from './probe/embed2d.js';
export { makeSyntheticAnomalies, stratifiedSplit } from './probe/synthetic.js';
export type { SyntheticAnomalyOptions } from './probe/synthetic.js';
export { PROBE_DATASETS, PROBE_DATASET_INFO, loadProbeDataset } from './probe/text_datasets.js';
export type { ProbeDatasetName, ProbeDatasetOptions, ProbeTextDataset } from './probe/text_datasets.js';
export { fitLengthDetector, lengthColumn, sqrtNPooled, tokenMean } from './probe/length_correction.js';
export { scoreHistogramFigure, writeLatentMap, writeRocPr, writeScoreHistograms, writeVaeHistory } from './viz/probe_plots.js';
// Circuit discovery: ablations, iterative pruning, EAP, ACDC, circuit files and graphs.
export { ABLATION_TYPES, AblationSource, ablationHooks, targetHookName, targetId } from './circuits/ablation.js';
export type { AblationSourceOptions, AblationTarget, AblationType } from './circuits/ablation.js';
export { CHANNELS, buildCircuitGraph, circuitFlags, connectedEdges, edgeId, headId, mlpId, nodeById, receiverSite, senderSite } from './circuits/graph.js';
export type { Channel, CircuitEdge, CircuitGraph, CircuitNode, HookSite, NodeKind } from './circuits/graph.js';
export { inductionTask, validateTask } from './circuits/task.js';
export type { CircuitTask, InductionTaskOptions } from './circuits/task.js';
export { klCircuitMetric, logitDiffCircuitMetric, logProbCircuitMetric, metricDamage } from './circuits/metrics.js';
export type { CircuitMetric, MetricName } from './circuits/metrics.js';
export { circuitMetricValue, logitsAtPositions, resolveMetric, selectPositions } from './circuits/run.js';
export type { CircuitModel, MetricSpec } from './circuits/run.js';
export { createSenderAblation, edgeCircuitMetric, edgePatchHooks, senderHookNames } from './circuits/edge_patch.js';
export type { EdgePatch, SenderAblationOptions } from './circuits/edge_patch.js';
export { faithfulnessOf, searchTask } from './circuits/result.js';
export type { CircuitMethod, CircuitResult, CircuitSearchOptions, Faithfulness, SearchStep } from './circuits/result.js';
export { createNodeAblation, iterativePruning, modelComponents, nodeFaithfulness } from './circuits/prune.js';
export type { IterativePruningOptions } from './circuits/prune.js';
export { eapScores, edgeAttributionPatching, edgeFaithfulness, edgeNodes } from './circuits/eap.js';
export type { EapOptions } from './circuits/eap.js';
export { acdc } from './circuits/acdc.js';
export type { AcdcOptions } from './circuits/acdc.js';
export { CIRCUIT_SCHEMA_VERSION, checkpointTokenRange, circuitEntry, circuitFilePath, readCircuitFile, writeCircuitFile } from './circuits/io.js';
export type { CircuitEdgeJson, CircuitEntryJson, CircuitFileJson, CircuitNodeJson } from './circuits/io.js';
export { PLANTED_CONFIG, plantedCircuitModel } from './circuits/planted.js';
export type { PlantedCircuit } from './circuits/planted.js';
export { circuitGraphFigure, writeCircuitGraph } from './viz/circuit_graph.js';
export type { CircuitGraphView, GraphEdgeView, GraphNodeView } from './viz/circuit_graph.js';
