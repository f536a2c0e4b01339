/**
 * Example 4: circuit discovery on the induction task. Loads `models/induction-2l` (or, when it is
 * absent, the hand-built planted-circuit model), finds the previous-token and induction heads with the
 * head detector, then runs node pruning, Edge Attribution Patching and ACDC with resample ablation,
 * prints each circuit with its faithfulness, and writes results/circuits/<task>_<model>.json plus one
 * Plotly graph per method. `--json` prints the summary as one JSON object.
 * Run: npx tsx examples/04_circuit.ts [--json]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HookedTransformer, initBackend } from '../src/index.js';
import {
  acdc,
  buildCircuitGraph,
  checkpointTokenRange,
  circuitEntry,
  edgeAttributionPatching,
  inductionTask,
  iterativePruning,
  plantedCircuitModel,
  writeCircuitFile,
  type CircuitResult,
  type CircuitTask,
} from '../src/circuits/index.js';
import { detectHead } from '../src/evals/index.js';
import { writeCircuitGraph } from '../src/viz/index.js';

const asJson = process.argv.includes('--json');
const log = (...xs: unknown[]): void => {
  if (!asJson) console.log(...xs);
};
await initBackend(undefined, { quiet: asJson });

const shipped = existsSync('models/induction-2l/config.json');
let model: HookedTransformer;
let task: CircuitTask;
let modelName: string;
if (shipped) {
  // EAP and ACDC expect unprocessed weights (no folded LayerNorm, no centring).
  model = await HookedTransformer.fromPretrainedNoProcessing('models/induction-2l', { quiet: asJson });
  const [low, high] = checkpointTokenRange('models/induction-2l') ?? [1000, 3000]; // its training range
  task = inductionTask({ batch: 16, segLen: 20, low, high, seed: 0 });
  modelName = 'induction-2l';
} else {
  ({ model, task } = plantedCircuitModel());
  modelName = 'planted';
  log('models/induction-2l is absent: using the planted-circuit model');
}

// 1. The head detector names the heads a circuit should contain.
const best = (scores: number[][], layer: number): string => {
  const row = scores[layer] ?? [];
  return `a${layer}.${row.indexOf(Math.max(...row))}`;
};
const rows = task.prompts.slice(0, 4).map((r) => [...r]);
const heads = shipped
  ? { previousToken: best(detectHead(model, rows, 'previous_token_head'), 0), induction: best(detectHead(model, rows, 'induction_head'), 1) }
  : undefined;
log('head detector:', heads ?? '(not applicable)');

// 2. Three methods, resample ablation from the corrupted prompts.
const results: CircuitResult[] = [
  iterativePruning(model, { ...task, threshold: shipped ? 0.5 : 0.5, quiet: asJson }),
  edgeAttributionPatching(model, { ...task, topN: shipped ? 12 : 4 }),
  acdc(model, { ...task, threshold: 0.05, quiet: asJson }),
];

// 3. Save every circuit in one file, and draw each.
const graph = buildCircuitGraph(model.cfg);
const file = join('results', 'circuits', `${task.name}_${modelName}.json`);
const summary = results.map((r) => {
  const entry = circuitEntry(graph, r, { batch: task.prompts.length, seed: 0 });
  writeCircuitFile(file, { task: task.name, model: modelName, graph, entry });
  const html = writeCircuitGraph(join('results', 'circuits', `${task.name}_${modelName}_${r.method}.html`), { nHeads: graph.nHeads, nodes: entry.nodes, edges: entry.edges }, {
    title: `${r.method}: ${task.name} on ${modelName}`,
  });
  const key = heads === undefined ? undefined : `${heads.previousToken}->${heads.induction}<k>`;
  const ranked = Object.entries(r.edgeScores).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).map(([id]) => id);
  const out = {
    method: r.method, nodes: r.nodes, edges: r.edges.length, faithfulness: +r.faithfulness.ratio.toFixed(4),
    metric: r.metric, key_edge_rank: key === undefined || ranked.length === 0 ? null : ranked.indexOf(key) + 1, html,
  };
  log(`${r.method}: ${r.nodes.join(' ')} | ${r.edges.length} edges | faithfulness ${out.faithfulness}`);
  return out;
});
log(`wrote ${file}`);
if (asJson) process.stdout.write(`${JSON.stringify({ example: '04_circuit', model: modelName, heads, file, results: summary })}\n`);
model.dispose();
