/**
 * `tfjs-lens circuit prune|eap|acdc`: discover a circuit for a task (node pruning, Edge Attribution
 * Patching or ACDC), write `circuits/<task>/<model>.json` (merged per method) and a Plotly graph.
 * Models: a path or alias (loaded without weight processing, as EAP/ACDC expect) or 'planted'.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { initBackend } from '../../backend/backend.js';
import { ABLATION_TYPES, type AblationType } from '../../circuits/ablation.js';
import { acdc } from '../../circuits/acdc.js';
import { edgeAttributionPatching } from '../../circuits/eap.js';
import { buildCircuitGraph } from '../../circuits/graph.js';
import { checkpointTokenRange, circuitEntry, circuitFilePath, writeCircuitFile } from '../../circuits/io.js';
import type { MetricName } from '../../circuits/metrics.js';
import { plantedCircuitModel } from '../../circuits/planted.js';
import { iterativePruning } from '../../circuits/prune.js';
import { DEFAULT_TARGET_FAITHFULNESS, type CircuitMethod, type CircuitResult, type CircuitSearchOptions } from '../../circuits/result.js';
import { inductionTask, type CircuitTask } from '../../circuits/task.js';
import { ConfigError, UsageError } from '../../errors.js';
import { resolveAlias } from '../../model/aliases.js';
import { HookedTransformer } from '../../model/hooked_transformer.js';
import { writeCircuitGraph } from '../../viz/circuit_graph.js';
import { choiceOption, didYouMean, floatOption, intOption, parseCliArgs, type CliArgs } from '../cli_args.js';
import { packageRoot } from './paths.js';

const CIRCUIT_USAGE = `usage: tfjs-lens circuit <prune|eap|acdc> [options]

  --model <path|alias|planted>   default: induction-2l when present, else planted
  --task induction|planted       default: planted for the planted model, else induction
  --ablation resample|mean|zero  default: resample
  --metric logit_diff|logprob|kl default: kl for acdc, logit_diff otherwise
  --target-faithfulness <f>      default 0.8: without --threshold/--top-n each method reports the
                                 smallest circuit on its faithfulness-vs-size curve reaching f
  --threshold <τ>                prune: stop when the least damaging removal costs τ or more;
                                 acdc: τ (default: sweep τ = 10%, 3%, 1%, 0.3%, 0.1% of the empty
                                 circuit's damage); eap: picks = edges with |score| ≥ τ
  --top-n <N>                    eap: N greedy picks (circuits are connected: links are added)
  --selection greedy|topn        eap: EAP-IG's greedy from the logits up (default) or top-n by |score|
  --ig-steps <m>                 eap: average gradients over m interpolated points (EAP-IG; default 1)
  --ig-target input|senders      eap: interpolate the input embedding (default) or each sender's output in turn
  --strategy greedy|reverse      prune (default greedy)
  induction task: --batch 16 --seg-len 20 --seed 0 --low --high (default: the checkpoint's
                 token_range metadata, else 1000 3000)
  --out <file.json>              default circuits/<task>/<model>.json   (--no-write: skip)
  --html <file.html>             default results/circuits/<task>_<model>_<method>.html

common: --json (one JSON object on stdout)   --help`;

const OPTIONS = {
  json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  model: { type: 'string' }, task: { type: 'string' }, ablation: { type: 'string' }, metric: { type: 'string' },
  threshold: { type: 'string' }, 'top-n': { type: 'string' }, 'ig-steps': { type: 'string' }, 'ig-target': { type: 'string' }, strategy: { type: 'string' }, batch: { type: 'string' },
  'seg-len': { type: 'string' }, low: { type: 'string' }, high: { type: 'string' }, seed: { type: 'string' },
  out: { type: 'string' }, html: { type: 'string' }, 'no-write': { type: 'boolean', default: false },
  'target-faithfulness': { type: 'string' }, selection: { type: 'string' },
} as const;

type Values = CliArgs<typeof OPTIONS, true>['values'];

/** Bounds of every numeric option; all are checked before the model loads. */
const BOUNDS: Readonly<Record<string, { readonly int: boolean; readonly min?: number }>> = {
  batch: { int: true, min: 1 }, 'seg-len': { int: true, min: 1 }, low: { int: true, min: 0 }, high: { int: true, min: 1 },
  seed: { int: true, min: 0 }, threshold: { int: false, min: 0 }, 'top-n': { int: true, min: 1 }, 'ig-steps': { int: true, min: 1 },
  'target-faithfulness': { int: false, min: 0 },
};

/** Options that only some methods take (passing them to another is a UsageError, not ignored). */
const METHOD_ONLY: Readonly<Record<string, readonly CircuitMethod[]>> = {
  strategy: ['prune'], 'top-n': ['eap'], 'ig-steps': ['eap'], 'ig-target': ['eap'], selection: ['eap'],
};

/** Options of the induction task, which the planted model does not take. */
const INDUCTION_ONLY = ['batch', 'seg-len', 'low', 'high', 'seed'] as const;

function num(v: string | undefined, name: string, dflt: number): number {
  const b = { dflt, ...BOUNDS[name] };
  return b.int ? intOption('circuit', v, name, b) : floatOption('circuit', v, name, b);
}

function oneOf<T extends string>(v: string | undefined, name: string, allowed: readonly T[], dflt: T): T {
  return choiceOption('circuit', v, name, allowed, dflt);
}

/** Check every option before anything loads. */
function checkOptions(method: CircuitMethod, v: Values): void {
  for (const k of Object.keys(BOUNDS)) num(v[k as keyof Values] as string | undefined, k, 0);
  const wrong = Object.keys(METHOD_ONLY).find((k) => v[k as keyof Values] !== undefined && !(METHOD_ONLY[k] as readonly string[]).includes(method));
  if (wrong !== undefined) throw new UsageError(`circuit ${method}: --${wrong} is an option of 'circuit ${(METHOD_ONLY[wrong] ?? []).join('|')}' only`);
  if (v.low !== undefined && v.high !== undefined && num(v.low, 'low', 0) >= num(v.high, 'high', 0)) {
    throw new UsageError(`circuit: --low must be below --high, got --low ${v.low} --high ${v.high}`);
  }
  oneOf(v.ablation, 'ablation', ABLATION_TYPES, 'resample');
  oneOf(v.metric, 'metric', ['logit_diff', 'logprob', 'kl'] as const, 'kl');
  oneOf(v.strategy, 'strategy', ['greedy', 'reverse'] as const, 'greedy');
  oneOf(v['ig-target'], 'ig-target', ['input', 'senders'] as const, 'input');
  oneOf(v.selection, 'selection', ['greedy', 'topn'] as const, 'greedy');
  if (v.model === 'planted') {
    const ind = INDUCTION_ONLY.find((k) => v[k] !== undefined);
    if (ind !== undefined) throw new UsageError(`circuit: --${ind} sets up the induction task; the planted model has its own fixed prompts (drop --${ind} or pass --model induction-2l)`);
  }
}

interface Setup {
  readonly model: HookedTransformer;
  readonly modelName: string;
  readonly task: CircuitTask;
  readonly settings: Record<string, string | number | boolean>;
}

async function setup(v: Values): Promise<Setup> {
  const shipped = join(packageRoot(), 'models', 'induction-2l', 'config.json');
  const modelArg = v.model ?? (existsSync(shipped) ? 'induction-2l' : 'planted');
  if (modelArg === 'planted') {
    await initBackend(undefined, { quiet: v.json });
    if (v.task !== undefined && v.task !== 'planted') throw new ConfigError(`circuit: the planted model only has the 'planted' task, got '${v.task}'`);
    const p = plantedCircuitModel();
    return { model: p.model, modelName: 'planted', task: p.task, settings: { batch: p.task.prompts.length } };
  }
  const taskName = oneOf(v.task, 'task', ['induction'] as const, 'induction');
  const model = await HookedTransformer.fromPretrainedNoProcessing(modelArg, { quiet: v.json });
  const dir = resolveAlias(modelArg);
  const range = existsSync(dir) ? checkpointTokenRange(dir) : undefined; // the training range, when recorded
  const settings = {
    batch: num(v.batch, 'batch', 16), segLen: num(v['seg-len'], 'seg-len', 20), low: num(v.low, 'low', range?.[0] ?? 1000),
    high: num(v.high, 'high', range?.[1] ?? 3000), seed: num(v.seed, 'seed', 0),
  };
  const task = inductionTask({ ...settings, ...(model.cfg.bosTokenId === undefined ? {} : { bos: model.cfg.bosTokenId }) });
  return { model, modelName: basename(resolve(modelArg)), task: { ...task, name: taskName }, settings };
}

function runMethod(method: CircuitMethod, s: Setup, v: Values): { result: CircuitResult; settings: Record<string, string | number | boolean> } {
  const ablationType = oneOf<AblationType>(v.ablation, 'ablation', ABLATION_TYPES, 'resample');
  const metric = oneOf<MetricName>(v.metric, 'metric', ['logit_diff', 'logprob', 'kl'], method === 'acdc' ? 'kl' : 'logit_diff');
  const targetFaithfulness = num(v['target-faithfulness'], 'target-faithfulness', DEFAULT_TARGET_FAITHFULNESS);
  const base: CircuitSearchOptions = { ...s.task, metric, ablationType, targetFaithfulness, quiet: v.json };
  const settings: Record<string, string | number | boolean> = { ...s.settings, metric, ablation: ablationType, targetFaithfulness };
  const threshold = v.threshold === undefined ? undefined : num(v.threshold, 'threshold', 0);
  const withThreshold: { threshold?: number } & Record<string, number> = threshold === undefined ? {} : { threshold };
  if (method === 'prune') {
    const strategy = oneOf(v.strategy, 'strategy', ['greedy', 'reverse'] as const, 'greedy');
    return { result: iterativePruning(s.model, { ...base, ...withThreshold, strategy }), settings: { ...settings, ...withThreshold, strategy } };
  }
  if (method === 'acdc') return { result: acdc(s.model, { ...base, ...withThreshold }), settings: { ...settings, ...withThreshold } };
  const topN = v['top-n'] === undefined ? undefined : num(v['top-n'], 'top-n', 1);
  const igSteps = num(v['ig-steps'], 'ig-steps', 1);
  const igTarget = oneOf(v['ig-target'], 'ig-target', ['input', 'senders'] as const, 'input');
  const selection = oneOf(v.selection, 'selection', ['greedy', 'topn'] as const, 'greedy');
  const extra: { threshold?: number; topN?: number } & Record<string, string | number> = { ...withThreshold, ...(topN === undefined ? {} : { topN }), igSteps, igTarget, selection };
  return { result: edgeAttributionPatching(s.model, { ...base, ...extra }), settings: { ...settings, ...extra } };
}

function topEdges(r: CircuitResult, n: number): { edge: string; score: number }[] {
  return Object.entries(r.edgeScores)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, n)
    .map(([edge, score]) => ({ edge, score: +score.toPrecision(5) }));
}

/**
 * Run `tfjs-lens circuit …`.
 * @param argv Arguments after `circuit`.
 * @returns The exit code (2 for usage errors).
 * @throws {@link "tfjs-lens"!UsageError} on bad options (before any model loads); errors of loading and of the methods.
 * @example await runCircuitCommand(['acdc', '--model', 'planted', '--json']);
 * @category CLI
 */
export async function runCircuitCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseCliArgs('circuit', argv, OPTIONS, { allowPositionals: true });
  const method = positionals[0];
  if (v.help || method === undefined) {
    process.stdout.write(`${CIRCUIT_USAGE}\n`);
    return method === undefined && !v.help ? 2 : 0;
  }
  if (method !== 'prune' && method !== 'eap' && method !== 'acdc') {
    throw new UsageError(`circuit: unknown method '${method}'${didYouMean(method, ['prune', 'eap', 'acdc'])} (expected prune, eap or acdc; tfjs-lens circuit --help)`);
  }
  if (positionals.length > 1) throw new UsageError(`circuit ${method}: unexpected argument '${positionals[1] ?? ''}'; options are --name value (tfjs-lens circuit --help)`);
  checkOptions(method, v);
  const s = await setup(v);
  try {
    const t0 = performance.now();
    const { result, settings } = runMethod(method, s, v);
    const seconds = (performance.now() - t0) / 1000;
    const graph = buildCircuitGraph(s.model.cfg);
    const entry = circuitEntry(graph, result, settings);
    const file = v['no-write'] ? null : writeCircuitFile(v.out ?? circuitFilePath(s.task.name, s.modelName), { task: s.task.name, model: s.modelName, graph, entry });
    const html = writeCircuitGraph(v.html ?? join('results', 'circuits', `${s.task.name}_${s.modelName}_${method}.html`), { nHeads: graph.nHeads, nodes: entry.nodes, edges: entry.edges, run: { ...entry, totalEdges: graph.edges.length } }, {
      title: `${method.toUpperCase()} circuit: ${s.task.name} on ${s.modelName}`,
      description: `${entry.edges.length} of ${graph.edges.length} edges; ${result.ablation} ablation; faithfulness ${result.faithfulness.ratio.toFixed(3)} (${result.faithfulness.metric})`,
    });
    const out = {
      command: `circuit ${method}`, model: s.modelName, task: s.task.name, ...settings, seconds: +seconds.toFixed(2),
      forward_passes: result.forwardPasses, nodes: result.nodes, edges: result.edges.length, total_edges: graph.edges.length,
      metric: result.metric, faithfulness: result.faithfulness, selection: result.selection.text,
      curve: result.curve.map((p) => ({ edges: p.edges, faithfulness: +p.ratio.toFixed(4) })), top_edges: topEdges(result, 10), node_scores: result.nodeScores, file, html,
    };
    if (v.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else console.log(out);
    return 0;
  } finally {
    s.model.dispose();
  }
}
