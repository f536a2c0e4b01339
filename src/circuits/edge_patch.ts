/**
 * Edge patching (ACDC's sender/receiver hooks): removing edge u → v replaces u's contribution to v's
 * input by u's ablated output, leaving every other receiver untouched. Sender hooks record
 * Δu = ablated(u) − u (u's output in this very run); receiver hooks add Σ Δu over v's removed
 * incoming edges to v's input (`hook_q/k/v_input` at the head, `hook_mlp_in`, final residual).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { FwdHooks } from '../hooks/hook_registry.js';
import { AblationSource, type AblationType } from './ablation.js';
import { circuitFlags, nodeById, receiverSite, senderSite, type CircuitGraph, type HookSite } from './graph.js';
import type { CircuitMetric } from './metrics.js';
import { circuitMetricValue, type CircuitModel } from './run.js';
import type { CircuitTask } from './task.js';

/**
 * Hook names of every sender of a graph (`blocks.0.hook_resid_pre`, `attn.hook_result`, `hook_mlp_out`).
 * @param graph The graph.
 * @returns Unique names, in forward order.
 * @throws Never.
 * @example senderHookNames(graph)  // ['blocks.0.hook_resid_pre', 'blocks.0.attn.hook_result', …]
 * @category Circuits
 */
function senderHookNames(graph: CircuitGraph): string[] {
  return [...new Set(graph.nodes.filter((n) => n.kind !== 'logits').map((n) => senderSite(n).name))];
}

/** Options of {@link createSenderAblation}. @category Circuits */
export interface SenderAblationOptions {
  /** 'mean' ablation: the batch averaged over (default: the task's prompts). */
  readonly reference?: readonly (readonly number[])[];
  /** Resample from a corrupted batch of another size: seed of the row choice (default 0). */
  readonly seed?: number;
}

/**
 * Ablated outputs of every sender for a task: zeros, means over the reference batch, or the
 * sender outputs on the task's corrupted prompts ('resample').
 * @param model The model.
 * @param graph Its graph.
 * @param task The task (corrupted prompts needed for 'resample').
 * @param type Ablation type.
 * @param opts Mean reference batch, resample seed.
 * @returns The source (caller disposes).
 * @throws {@link "tfjs-lens"!ConfigError} for resample without corrupted prompts.
 * @example const src = createSenderAblation(model, graph, task, 'resample');
 * @category Circuits
 */
export function createSenderAblation(
  model: CircuitModel,
  graph: CircuitGraph,
  task: CircuitTask,
  type: AblationType,
  opts: SenderAblationOptions = {},
): AblationSource {
  if (type === 'resample' && task.corrupted === undefined) {
    throw new ConfigError(`createSenderAblation: resample ablation needs corrupted prompts; task '${task.name}' has none`);
  }
  const reference = type === 'resample' ? task.corrupted : (opts.reference ?? task.prompts);
  return AblationSource.create(model, type, senderHookNames(graph), {
    batch: task.prompts.length,
    flags: circuitFlags(graph),
    ...(reference === undefined ? {} : { reference }),
    ...(opts.seed === undefined ? {} : { seed: opts.seed }),
  });
}

/** The slice of a per-head activation [batch, pos, n_heads, d_model] at a head, or the whole tensor. */
function atSite(x: tf.Tensor, site: HookSite): tf.Tensor {
  if (site.head === undefined) return x;
  const [b, p, , d] = x.shape as [number, number, number, number];
  return tf.reshape(tf.slice(x, [0, 0, site.head, 0], [b, p, 1, d]), [b, p, d]); // [batch, pos, d_model]
}

/** Hooks of one edge-patched run; call `release()` after the run to free the recorded deltas. */
export interface EdgePatch {
  /** Forward hooks (pass them with {@link circuitFlags}). */
  readonly hooks: FwdHooks;
  /** Free the sender deltas kept during the run. */
  release(): void;
}

/**
 * Hooks that remove `removed` edges by patching each in from the ablation source.
 * @param graph The graph.
 * @param removed Ids of the removed edges.
 * @param source Ablated sender outputs ({@link createSenderAblation}).
 * @returns Hooks and a release function (call it in `finally`).
 * @throws {@link "tfjs-lens"!ConfigError} for an edge id not in the graph.
 * @example const p = edgePatchHooks(graph, new Set(['a0.1->logits']), src); try { … } finally { p.release(); }
 * @category Circuits
 */
function edgePatchHooks(graph: CircuitGraph, removed: ReadonlySet<string>, source: AblationSource): EdgePatch {
  const known = new Map(graph.edges.map((e) => [e.id, e]));
  const senders = new Map<string, Set<string>>(); // sender hook name → sender ids with a removed edge
  const receivers = new Map<string, Map<number, string[]>>(); // receiver hook name → head (-1: none) → sender ids
  for (const id of removed) {
    const e = known.get(id);
    if (e === undefined) throw new ConfigError(`edgePatchHooks: no edge '${id}' in the graph`);
    const s = senderSite(nodeById(graph, e.from));
    senders.set(s.name, (senders.get(s.name) ?? new Set()).add(e.from));
    const r = receiverSite(nodeById(graph, e.to), e.channel, graph.nLayers);
    const perHead = receivers.get(r.name) ?? new Map<number, string[]>();
    perHead.set(r.head ?? -1, [...(perHead.get(r.head ?? -1) ?? []), e.from]);
    receivers.set(r.name, perHead);
  }
  const deltas = new Map<string, tf.Tensor>();
  const deltaOf = (id: string, at: string): tf.Tensor => {
    const d = deltas.get(id);
    if (d === undefined) throw new ConfigError(`edgePatchHooks: sender '${id}' had not run before receiver '${at}'`);
    return d;
  };
  const hooks: [string, (x: tf.Tensor) => tf.Tensor | undefined][] = [];
  for (const [name, ids] of senders) {
    hooks.push([
      name,
      (x) => {
        const value = source.valueFor(name, x);
        for (const id of ids) {
          const site = senderSite(nodeById(graph, id));
          deltas.get(id)?.dispose();
          deltas.set(id, tf.keep(tf.sub(atSite(value, site), atSite(x, site)))); // [batch, pos, d_model]
        }
        return undefined;
      },
    ]);
  }
  for (const [name, perHead] of receivers) {
    hooks.push([
      name,
      (x) => {
        const sum = (ids: readonly string[]): tf.Tensor => (ids.length === 1 ? deltaOf(ids[0] as string, name) : tf.addN(ids.map((i) => deltaOf(i, name))));
        if (perHead.has(-1)) return tf.add(x, sum(perHead.get(-1) as string[])); // [batch, pos, d_model]
        const [b, p, nHeads, d] = x.shape as [number, number, number, number];
        const zeros = tf.zeros([b, p, d]);
        const parts = Array.from({ length: nHeads }, (_, h) => (perHead.has(h) ? sum(perHead.get(h) as string[]) : zeros));
        return tf.add(x, tf.stack(parts, 2)); // [batch, pos, n_heads, d_model]
      },
    ]);
  }
  const release = (): void => {
    tf.dispose([...deltas.values()]);
    deltas.clear();
  };
  return { hooks, release };
}

/**
 * The metric with some edges removed (one forward pass).
 * @param model The model.
 * @param graph Its graph.
 * @param tokens Prompts [batch, pos].
 * @param metric The metric.
 * @param removed Ids of the removed edges (empty: the full model).
 * @param source Ablated sender outputs.
 * @returns The metric value.
 * @throws {@link "tfjs-lens"!ConfigError} for unknown edge ids; errors of the forward pass.
 * @example edgeCircuitMetric(model, graph, task.prompts, metric, new Set(graph.edges.map((e) => e.id)), src)  // all ablated
 * @category Circuits
 */
export function edgeCircuitMetric(
  model: CircuitModel,
  graph: CircuitGraph,
  tokens: readonly (readonly number[])[],
  metric: CircuitMetric,
  removed: ReadonlySet<string>,
  source: AblationSource,
): number {
  const patch = edgePatchHooks(graph, removed, source);
  try {
    return circuitMetricValue(model, tokens, metric, patch.hooks, circuitFlags(graph));
  } finally {
    patch.release();
  }
}
