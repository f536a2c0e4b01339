/**
 * tfjs-lens/circuits: circuit discovery: ablations, iterative node pruning, edge attribution patching (EAP, EAP-IG), ACDC, tasks, metrics and circuit files.
 * @packageDocumentation
 * @module tfjs-lens/circuits
 */
export { ABLATION_TYPES, AblationSource, ablationHooks } from './ablation.js';
export type { AblationSourceOptions, AblationTarget, AblationType } from './ablation.js';
export { buildCircuitGraph, connectedEdges } from './graph.js';
export type { CircuitEdge, CircuitGraph, CircuitNode, NodeKind } from './graph.js';
export { inductionTask, validateTask } from './task.js';
export type { CircuitTask, InductionTaskOptions } from './task.js';
export { klCircuitMetric, logitDiffCircuitMetric, logProbCircuitMetric, metricDamage } from './metrics.js';
export type { CircuitMetric, MetricName } from './metrics.js';
export { circuitMetricValue, logitsAtPositions, resolveMetric, selectPositions } from './run.js';
export type { CircuitModel, MetricSpec } from './run.js';
export { createSenderAblation, edgeCircuitMetric } from './edge_patch.js';
export type { EdgePatch, SenderAblationOptions } from './edge_patch.js';
export { DEFAULT_TARGET_FAITHFULNESS, faithfulnessOf, searchTask, sizeSelection, smallestFaithful, targetOf } from './result.js';
export type { CircuitMethod, CircuitResult, CircuitSearchOptions, CurvePoint, Faithfulness, SearchStep, SizeSelection } from './result.js';
export { connectEdges, curveSizes, greedyConnectedEdges, isConnectedCircuit, topNConnectedEdges } from './selection.js';
export type { Closure, EdgeScores } from './selection.js';
export { edgeSizeCurve } from './curve.js';
export type { EdgeCurve } from './curve.js';
export { iterativePruning } from './prune.js';
export type { IterativePruningOptions } from './prune.js';
export { eapScores, edgeAttributionPatching, edgeFaithfulness } from './eap.js';
export type { EapOptions } from './eap.js';
export { ACDC_THRESHOLD_FRACTIONS, acdc } from './acdc.js';
export type { AcdcOptions } from './acdc.js';
export {
  CIRCUIT_SCHEMA_VERSION,
  checkpointTokenRange,
  circuitEntry,
  circuitFilePath,
  readCircuitFile,
  writeCircuitFile,
} from './io.js';
export type { CircuitEdgeJson, CircuitEntryJson, CircuitFileJson, CircuitNodeJson } from './io.js';
export { plantedCircuitModel } from './planted.js';
export type { PlantedCircuit } from './planted.js';
export { circuitFlags } from './graph.js';
export type { Channel } from './graph.js';
