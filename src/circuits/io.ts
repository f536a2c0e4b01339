/**
 * Circuit files: `circuits/<task>/<model>.json` holds the graph's size and one circuit per method
 * (nodes, edges, scores, metric, faithfulness, trajectory), under a schema version. Writing merges
 * with the methods already in the file and replaces it atomically (temp file + rename).
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseHeader, readHeaderLength } from '../io/safetensors_header.js';
import type { AblationType } from './ablation.js';
import type { Channel, CircuitGraph, NodeKind } from './graph.js';
import type { CircuitMethod, CircuitResult, CurvePoint, Faithfulness, SearchStep, SizeSelection } from './result.js';

/** Version of the circuit file format; bumped on incompatible changes. @category Circuits */
export const CIRCUIT_SCHEMA_VERSION = 1;

/** A node in a circuit file. @category Circuits */
export interface CircuitNodeJson {
  /** Node id ('input', 'a1.2', 'm0', 'logits'). */
  readonly id: string;
  /** Node kind. */
  readonly kind: NodeKind;
  /** Layer (-1 input, n_layers logits). */
  readonly layer: number;
  /** Head index (heads only). */
  readonly head?: number;
  /** Node score, when the method scores nodes (pruning). */
  readonly score?: number;
}

/** An edge in a circuit file. @category Circuits */
export interface CircuitEdgeJson {
  /** Edge id ('a0.1->a1.2<k>'). */
  readonly id: string;
  /** Sender id. */
  readonly from: string;
  /** Receiver id. */
  readonly to: string;
  /** Head input (edges into heads only). */
  readonly channel?: Channel;
  /** Edge score, when the method scores edges (EAP, ACDC). */
  readonly score?: number;
}

/** One method's circuit in a file. @category Circuits */
export interface CircuitEntryJson {
  /** Method. */
  readonly method: CircuitMethod;
  /** 'node' or 'edge'. */
  readonly level: 'node' | 'edge';
  /** Ablation type. */
  readonly ablation: AblationType;
  /** Search metric, threshold, full and circuit values. */
  readonly metric: CircuitResult['metric'];
  /** Faithfulness (circuit / full, with the empty circuit). */
  readonly faithfulness: Faithfulness;
  /** Nodes of the circuit. */
  readonly nodes: readonly CircuitNodeJson[];
  /** Edges of the circuit. */
  readonly edges: readonly CircuitEdgeJson[];
  /** Every score computed: node id or edge id → score. */
  readonly scores: {
    /** Node id → score, in graph order (pruning). */
    readonly nodes: Readonly<Record<string, number>>;
    /** Edge id → score, in graph order (EAP, ACDC). */
    readonly edges: Readonly<Record<string, number>>;
  };
  /** Decisions in order. */
  readonly trajectory: readonly SearchStep[];
  /** Forward passes of the search. */
  readonly forwardPasses: number;
  /** How it was run (task sizes, seed, thresholds …). */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** Faithfulness vs edges kept (absent in files written before the curve existed). */
  readonly curve?: readonly CurvePoint[];
  /** How the reported size was chosen (absent in older files). */
  readonly selection?: SizeSelection;
}

/** A circuit file. @category Circuits */
export interface CircuitFileJson {
  /** {@link CIRCUIT_SCHEMA_VERSION}. */
  readonly schemaVersion: number;
  /** Task name. */
  readonly task: string;
  /** Model name. */
  readonly model: string;
  /** Size of the full graph. */
  readonly graph: {
    /** Transformer layers. */
    readonly nLayers: number;
    /** Attention heads per layer. */
    readonly nHeads: number;
    /** Whether the graph has MLP nodes (false for attention-only models). */
    readonly hasMlp: boolean;
    /** Number of nodes in the full graph. */
    readonly nodes: number;
    /** Number of edges in the full graph. */
    readonly edges: number;
  };
  /** Circuits by method. */
  readonly circuits: Partial<Record<CircuitMethod, CircuitEntryJson>>;
}

/**
 * The file entry of a result: nodes and edges with their kinds, layers and scores.
 * @param graph The model's graph.
 * @param result A discovery result.
 * @param settings How it was run.
 * @returns The entry (plain JSON).
 * @throws {@link "tfjs-lens"!ConfigError} if the result names nodes or edges not in the graph.
 * @example const entry = circuitEntry(graph, res, { seed: 0, batch: 16 });
 * @category Circuits
 */
export function circuitEntry(graph: CircuitGraph, result: CircuitResult, settings: Readonly<Record<string, string | number | boolean>> = {}): CircuitEntryJson {
  const nodeScore = (id: string): { score?: number } => (id in result.nodeScores ? { score: result.nodeScores[id] as number } : {});
  const edgeScore = (id: string): { score?: number } => (id in result.edgeScores ? { score: result.edgeScores[id] as number } : {});
  const nodes = result.nodes.map((id) => {
    const n = graph.nodes.find((x) => x.id === id);
    if (n === undefined) throw new ConfigError(`circuitEntry: node '${id}' is not in the graph`);
    return { id, kind: n.kind, layer: n.layer, ...(n.head === undefined ? {} : { head: n.head }), ...nodeScore(id) };
  });
  const edges = result.edges.map((id) => {
    const e = graph.edges.find((x) => x.id === id);
    if (e === undefined) throw new ConfigError(`circuitEntry: edge '${id}' is not in the graph`);
    return { id, from: e.from, to: e.to, ...(e.channel === undefined ? {} : { channel: e.channel }), ...edgeScore(id) };
  });
  const inOrder = (rec: Readonly<Record<string, number>>, ids: readonly string[]): Record<string, number> =>
    Object.fromEntries(ids.filter((id) => id in rec).map((id) => [id, rec[id] as number]));
  return {
    method: result.method,
    level: result.level,
    ablation: result.ablation,
    metric: result.metric,
    faithfulness: result.faithfulness,
    nodes,
    edges,
    scores: { nodes: inOrder(result.nodeScores, graph.nodes.map((n) => n.id)), edges: inOrder(result.edgeScores, graph.edges.map((e) => e.id)) },
    trajectory: result.trajectory,
    forwardPasses: result.forwardPasses,
    settings,
    curve: result.curve,
    selection: result.selection,
  };
}

/**
 * Where a circuit is stored: `<root>/<task>/<model>.json`.
 * @param task Task name.
 * @param model Model name.
 * @param root Folder (default 'circuits').
 * @returns The path.
 * @throws {@link "tfjs-lens"!ConfigError} for names with path separators or empty names.
 * @example circuitFilePath('induction', 'induction-2l')  // 'circuits/induction/induction-2l.json'
 * @category Circuits
 */
export function circuitFilePath(task: string, model: string, root = 'circuits'): string {
  for (const [what, v] of [['task', task], ['model', model]] as const) {
    if (v === '' || /[/\\]/.test(v) || v === '.' || v === '..') throw new ConfigError(`circuitFilePath: ${what} name '${v}' must be a plain file name`);
  }
  return join(root, task, `${model}.json`);
}

/**
 * Read and check a circuit file.
 * @param path The file.
 * @returns Its contents.
 * @throws {@link "tfjs-lens"!ConfigError} for a missing file, invalid JSON, another schema version or missing fields.
 * @example readCircuitFile('circuits/induction/induction-2l.json').circuits.acdc?.edges
 * @category Circuits
 */
export function readCircuitFile(path: string): CircuitFileJson {
  if (!existsSync(path)) throw new ConfigError(`readCircuitFile: no file at '${path}'`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`readCircuitFile: '${path}' is not valid JSON (${(err as Error).message})`);
  }
  const f = data as Partial<CircuitFileJson>;
  if (typeof f !== 'object' || f === null || f.schemaVersion !== CIRCUIT_SCHEMA_VERSION) {
    throw new ConfigError(`readCircuitFile: '${path}' has schemaVersion ${String(f?.schemaVersion)}, expected ${CIRCUIT_SCHEMA_VERSION}`);
  }
  if (typeof f.task !== 'string' || typeof f.model !== 'string' || typeof f.circuits !== 'object' || f.circuits === null || typeof f.graph !== 'object') {
    throw new ConfigError(`readCircuitFile: '${path}' lacks task, model, graph or circuits`);
  }
  return f as CircuitFileJson;
}

/**
 * Write one method's circuit into `path`, keeping the other methods already there (for the same
 * task, model and schema version; anything else is replaced).
 * @param path The file (folders are created).
 * @param info Task and model names, the graph, and the entry ({@link circuitEntry}).
 * @returns The absolute path written.
 * @throws Node's file-system errors.
 * @example writeCircuitFile(circuitFilePath('induction', 'induction-2l'), { task: 'induction', model: 'induction-2l', graph, entry });
 * @category Circuits
 */
export function writeCircuitFile(path: string, info: { task: string; model: string; graph: CircuitGraph; entry: CircuitEntryJson }): string {
  let circuits: Partial<Record<CircuitMethod, CircuitEntryJson>> = {};
  if (existsSync(path)) {
    try {
      const old = readCircuitFile(path);
      if (old.task === info.task && old.model === info.model) circuits = { ...old.circuits };
    } catch {
      circuits = {}; // unreadable or another schema: replaced
    }
  }
  circuits[info.entry.method] = info.entry;
  const ordered = Object.fromEntries((['prune', 'eap', 'acdc'] as const).filter((m) => circuits[m] !== undefined).map((m) => [m, circuits[m]]));
  const { graph } = info;
  const file: CircuitFileJson = {
    schemaVersion: CIRCUIT_SCHEMA_VERSION,
    task: info.task,
    model: info.model,
    graph: { nLayers: graph.nLayers, nHeads: graph.nHeads, hasMlp: graph.hasMlp, nodes: graph.nodes.length, edges: graph.edges.length },
    circuits: ordered,
  };
  const out = resolve(path);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return out;
}

/**
 * The token-id range a checkpoint was trained on, from the `token_range` entry ("low-high") of its
 * `model.safetensors` metadata (written by `scripts/train_induction.ts`); reads the header only.
 * @param modelDir Checkpoint folder.
 * @returns [low, high) or undefined when the file or the entry is absent.
 * @throws {@link "tfjs-lens"!SafetensorsError} for a malformed header.
 * @example checkpointTokenRange('models/induction-2l')  // [1000, 3000]
 * @category Circuits
 */
export function checkpointTokenRange(modelDir: string): [number, number] | undefined {
  const path = join(modelDir, 'model.safetensors');
  if (!existsSync(path)) return undefined;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const prefix = new Uint8Array(8);
    readSync(fd, prefix, 0, Math.min(8, size), 0);
    const n = readHeaderLength(prefix, size, path);
    const header = new Uint8Array(n);
    readSync(fd, header, 0, n, 8);
    const m = /^(\d+)-(\d+)$/.exec(parseHeader(header, size - 8 - n, path).metadata['token_range'] ?? '');
    return m === null ? undefined : [Number(m[1]), Number(m[2])];
  } finally {
    closeSync(fd);
  }
}
