/**
 * Example 4: circuit discovery on the induction task. Loads `models/induction-2l` (or, when it is
 * absent, the hand-built planted-circuit model), finds the previous-token and induction heads with the
 * head detector, then runs node pruning, EAP-IG (Edge Attribution Patching with integrated gradients)
 * and ACDC with resample ablation. Each returns a connected circuit (every kept edge on an input →
 * logits path) and a faithfulness-vs-size curve, and reports the smallest circuit on its curve whose
 * faithfulness reaches 0.8. Prints each circuit with its faithfulness, and writes
 * results/circuits/<task>_<model>.json plus one Plotly page per method (graph + curve). `--json`
 * prints the summary as one JSON object.
 * Run: npx tsx examples/04_circuit.ts [--batch 16] [--seg-len 20] [--out results/circuits] [--json]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HookedTransformer, initBackend } from '../src/index.js';
import {
  acdc,
  buildCircuitGraph,
  isConnectedCircuit,
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
import { intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';

const NAME = 'examples/04_circuit';
const OPTIONS = {
  batch: { type: 'string' },
  'seg-len': { type: 'string' },
  out: { type: 'string', default: 'results/circuits' },
  json: { type: 'boolean', default: false },
} as const;

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const batch = intOption(NAME, v.batch, 'batch', { dflt: 16, min: 2, max: 64 });
  const segLen = intOption(NAME, v['seg-len'], 'seg-len', { dflt: 20, min: 4, max: 60 });
  const asJson = v.json;
  const log = (line: string): void => void (asJson ? process.stderr : process.stdout).write(`${line}\n`);
  await initBackend(undefined, { quiet: asJson });

  const shipped = existsSync('models/induction-2l/config.json');
  let model: HookedTransformer;
  let task: CircuitTask;
  let modelName: string;
  if (shipped) {
    // EAP and ACDC expect unprocessed weights (no folded LayerNorm, no centring).
    model = await HookedTransformer.fromPretrainedNoProcessing('models/induction-2l', { quiet: true });
    const [low, high] = checkpointTokenRange('models/induction-2l') ?? [1000, 3000]; // its training range
    task = inductionTask({ batch, segLen, low, high, seed: 0 });
    modelName = 'induction-2l';
  } else {
    ({ model, task } = plantedCircuitModel());
    modelName = 'planted';
    log('models/induction-2l is absent: using the planted-circuit model');
  }
  try {
    // 1. The head detector names the heads a circuit should contain.
    const best = (scores: number[][], layer: number): string => {
      const row = scores[layer] ?? [];
      return `a${layer}.${row.indexOf(Math.max(...row))}`;
    };
    const rows = task.prompts.slice(0, 4).map((r) => [...r]);
    const heads = shipped
      ? { previousToken: best(detectHead(model, rows, 'previous_token_head'), 0), induction: best(detectHead(model, rows, 'induction_head'), 1) }
      : undefined;
    log(`head detector: ${heads === undefined ? '(not applicable)' : JSON.stringify(heads)}`);

    // 2. Three methods, resample ablation from the corrupted prompts. No sizes are given: each
    //    reports the smallest circuit on its faithfulness curve reaching 0.8 (the default target).
    const params = { prune: 'greedy removal order', eap: 'EAP-IG, 5 input-interpolation points, greedy selection', acdc: 'default τ sweep (KL)' } as Record<string, string>;
    const results: CircuitResult[] = [
      iterativePruning(model, { ...task, quiet: asJson }),
      edgeAttributionPatching(model, { ...task, igSteps: 5 }),
      acdc(model, { ...task, quiet: asJson }),
    ];

    // 3. Save every circuit in one file, and draw each.
    const graph = buildCircuitGraph(model.cfg);
    const file = join(v.out, `${task.name}_${modelName}.json`);
    const summary = results.map((r) => {
      const entry = circuitEntry(graph, r, { batch: task.prompts.length, seed: 0 });
      writeCircuitFile(file, { task: task.name, model: modelName, graph, entry });
      const faithfulness = +r.faithfulness.ratio.toFixed(4);
      const html = writeCircuitGraph(join(v.out, `${task.name}_${modelName}_${r.method}.html`), { nHeads: graph.nHeads, nodes: entry.nodes, edges: entry.edges, run: { ...entry, totalEdges: graph.edges.length } }, {
        title: `${r.method} circuit for ${task.name} on ${modelName}: faithfulness ${faithfulness}`,
        description: `Method ${r.method} (${params[r.method] ?? ''}), resample ablation from ${task.prompts.length} corrupted prompts, segment length ${segLen}. ` +
          `Faithfulness ${faithfulness} (${r.faithfulness.metric}; full model ${r.faithfulness.full.toPrecision(4)}, circuit alone ${r.faithfulness.circuit.toPrecision(4)}). ` +
          `Kept ${r.nodes.length} nodes and ${r.edges.length} edges (${r.selection.text}). The second figure is faithfulness against edges kept.`,
      });
      const key = heads === undefined ? undefined : `${heads.previousToken}->${heads.induction}<k>`;
      const ranked = Object.entries(r.edgeScores).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).map(([id]) => id);
      const out = {
        method: r.method, parameters: params[r.method], nodes: r.nodes, edges: r.edges.length, faithfulness,
        connected: isConnectedCircuit(graph, r.edges), selection: r.selection.text,
        curve: r.curve.map((p) => ({ edges: p.edges, faithfulness: +p.ratio.toFixed(4) })),
        metric: r.metric, key_edge_rank: key === undefined || ranked.length === 0 ? null : ranked.indexOf(key) + 1, html,
      };
      log(`${r.method}: ${r.nodes.join(' ')} | ${r.edges.length} edges | faithfulness ${out.faithfulness} | ${r.selection.text}`);
      log(`  curve (edges: faithfulness): ${out.curve.map((p) => `${p.edges}: ${p.faithfulness}`).join(', ')}`);
      return out;
    });
    log(`wrote ${file}`);
    if (asJson) process.stdout.write(`${JSON.stringify({ example: '04_circuit', model: modelName, heads, file, results: summary })}\n`);
  } finally {
    model.dispose();
  }
  return 0;
}

await runCliMain(NAME, main);
