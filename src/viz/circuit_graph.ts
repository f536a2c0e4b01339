/**
 * Circuit graph figure (as ACDC's `show` and EAP-IG's graph drawings, in Plotly): nodes laid out by
 * layer — input, then each layer's heads (one row per head) and MLP, then the logits — and edges
 * drawn with width proportional to |score|, coloured by the head input they feed (q, k, v). The
 * page states the method, its parameters, what it kept and the circuit's faithfulness, with a
 * warning when the circuit recovers little of the model's behaviour. Takes plain data (a circuit
 * file entry fits), never tensors.
 */
import type { CircuitResult, CurvePoint, Faithfulness, SizeSelection } from '../circuits/result.js';
import { ShapeError } from '../errors.js';
import { logAxis } from './charts.js';
import { writePlotlyPage, type PageOptions, type PlotlyFigure, type PlotlyJson } from './html.js';

/** Faithfulness (circuit / full) below which a circuit page carries a warning. @category Viz */
export const LOW_FAITHFULNESS = 0.5;

/** How a circuit was found, and how faithful it is (a circuit file entry plus the graph's size fits). @category Viz */
export interface CircuitRunView {
  /** Method ('prune' | 'eap' | 'acdc' or another name). */
  readonly method: string;
  /** 'node' (whole components) or 'edge'. */
  readonly level: 'node' | 'edge';
  /** Ablation of what is outside the circuit ('resample', 'mean', 'zero'). */
  readonly ablation: string;
  /** Search metric: name, direction, threshold, full-model and circuit values. */
  readonly metric: CircuitResult['metric'];
  /** Faithfulness: metric of the full model, the circuit and the empty circuit; ratio = circuit / full. */
  readonly faithfulness: Faithfulness;
  /** How it was run (task sizes, seed, thresholds, topN …). */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** Forward passes of the search. */
  readonly forwardPasses: number;
  /** Edges in the full graph. */
  readonly totalEdges: number;
  /** Faithfulness vs edges kept (drawn as a second figure when present). */
  readonly curve?: readonly CurvePoint[];
  /** How the reported size was chosen (stated on the page when present). */
  readonly selection?: SizeSelection;
}

/** A node to draw. @category Viz */
export interface GraphNodeView {
  /** Id, e.g. 'a1.2'. */
  readonly id: string;
  /** 'input' | 'head' | 'mlp' | 'logits'. */
  readonly kind: string;
  /** Layer (-1 for the input, n_layers for the logits). */
  readonly layer: number;
  /** Head index (heads). */
  readonly head?: number;
  /** Optional score, shown on hover. */
  readonly score?: number;
}

/** An edge to draw. @category Viz */
export interface GraphEdgeView {
  /** Id, e.g. 'a0.1->a1.2<k>'. */
  readonly id: string;
  /** Sender node id. */
  readonly from: string;
  /** Receiver node id. */
  readonly to: string;
  /** Head input fed ('q' | 'k' | 'v'), if any. */
  readonly channel?: string;
  /** Score; the width is proportional to |score| (all equal when absent). */
  readonly score?: number;
}

/** What {@link circuitGraphFigure} draws. @category Viz */
export interface CircuitGraphView {
  /** Heads per layer (for the vertical layout). */
  readonly nHeads: number;
  /** Nodes of the circuit. */
  readonly nodes: readonly GraphNodeView[];
  /** Edges of the circuit. */
  readonly edges: readonly GraphEdgeView[];
  /** How the circuit was found and its faithfulness (stated on the page). */
  readonly run: CircuitRunView;
}

const CHANNEL_COLOR: Readonly<Record<string, string>> = { q: '#1f77b4', k: '#d62728', v: '#2ca02c', none: '#7f7f7f' };
const CHANNEL_DY: Readonly<Record<string, number>> = { q: 0.12, k: 0, v: -0.12 };
const NODE_COLOR: Readonly<Record<string, string>> = { input: '#555555', head: '#1f77b4', mlp: '#9467bd', logits: '#111111' };

/** Layout position of a node: x by layer (heads and MLP of layer l at 2l+1, 2l+2), y by head. */
function place(n: GraphNodeView, nHeads: number): [number, number] {
  const mid = (nHeads - 1) / 2;
  if (n.kind === 'input') return [0, mid];
  if (n.kind === 'logits') return [2 * n.layer + 1, mid];
  if (n.kind === 'mlp') return [2 * n.layer + 2, mid];
  return [2 * n.layer + 1, n.head ?? 0];
}

/**
 * A Plotly figure of a circuit graph.
 * @param view Heads per layer, nodes, edges (and the run, unused here).
 * @param opts Title.
 * @returns The figure (edges as line traces, widths 1–10 px by |score|).
 * @throws {@link "tfjs-lens"!ShapeError} if an edge names a node not in `nodes`.
 * @example const fig = circuitGraphFigure({ nHeads: 4, nodes, edges });
 * @category Viz
 */
export function circuitGraphFigure(view: Omit<CircuitGraphView, 'run'>, opts: { title?: string } = {}): PlotlyFigure {
  const pos = new Map(view.nodes.map((n) => [n.id, place(n, view.nHeads)]));
  const maxAbs = Math.max(1e-12, ...view.edges.map((e) => Math.abs(e.score ?? 1)));
  const data: PlotlyJson[] = [];
  const mids = { x: [] as number[], y: [] as number[], text: [] as string[] };
  for (const e of view.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (a === undefined || b === undefined) throw new ShapeError(`circuitGraphFigure: edge '${e.id}' names a node not in the graph`);
    const ch = e.channel ?? 'none';
    const by = b[1] + (CHANNEL_DY[ch] ?? 0);
    const width = 1 + (9 * Math.abs(e.score ?? 1)) / maxAbs;
    const label = `${e.id}${e.score === undefined ? '' : `: ${e.score.toPrecision(4)}`}`;
    data.push({ type: 'scatter', mode: 'lines', x: [a[0], b[0]], y: [a[1], by], line: { width, color: CHANNEL_COLOR[ch] }, opacity: 0.75, hoverinfo: 'text', text: label, showlegend: false });
    mids.x.push((a[0] + b[0]) / 2);
    mids.y.push((a[1] + by) / 2);
    mids.text.push(label);
  }
  data.push({ type: 'scatter', mode: 'markers', x: mids.x, y: mids.y, text: mids.text, hoverinfo: 'text', marker: { size: 6, color: 'rgba(0,0,0,0.25)' }, name: 'edges', showlegend: false });
  for (const [ch, color] of Object.entries(CHANNEL_COLOR)) {
    data.push({ type: 'scatter', mode: 'lines', x: [null], y: [null], line: { color, width: 4 }, name: ch === 'none' ? 'into MLP / logits' : `${ch} input` });
  }
  data.push({
    type: 'scatter',
    mode: 'markers+text',
    x: view.nodes.map((n) => (pos.get(n.id) as [number, number])[0]),
    y: view.nodes.map((n) => (pos.get(n.id) as [number, number])[1]),
    text: view.nodes.map((n) => n.id),
    hovertext: view.nodes.map((n) => `${n.id}${n.score === undefined ? '' : `: ${n.score.toPrecision(4)}`}`),
    hoverinfo: 'text',
    textposition: 'top center',
    marker: { size: 18, color: view.nodes.map((n) => NODE_COLOR[n.kind] ?? '#333333'), line: { width: 1, color: '#ffffff' } },
    name: 'nodes',
    showlegend: false,
  });
  const label = new Map<number, string>();
  for (const n of view.nodes) {
    const x = (pos.get(n.id) as [number, number])[0];
    label.set(x, n.kind === 'head' ? `L${n.layer} attn` : n.kind === 'mlp' ? `L${n.layer} mlp` : n.kind);
  }
  const tickvals = [...label.keys()].sort((a, b) => a - b);
  const ticktext = tickvals.map((x) => label.get(x) as string);
  return {
    data,
    layout: {
      title: { text: opts.title ?? 'Circuit' },
      xaxis: { title: { text: 'layer (input → logits)' }, tickvals, ticktext, zeroline: false, showgrid: false, automargin: true },
      yaxis: { title: { text: 'head' }, zeroline: false, dtick: 1, automargin: true },
      hovermode: 'closest',
      legend: { orientation: 'h' },
    },
    height: 420 + 40 * view.nHeads,
  };
}

/**
 * A Plotly figure of faithfulness against circuit size: one marker per circuit evaluated, a
 * horizontal line at 1 (the full model), a dashed line at the faithfulness target, and the reported
 * circuit marked.
 * @param curve Points (edges kept, faithfulness ratio).
 * @param chosen The reported circuit: edges kept and faithfulness.
 * @param opts Title, faithfulness target, the parameter's name for hover text.
 * @returns The figure (x: edges kept, log scale; y: circuit / full metric).
 * @throws {@link "tfjs-lens"!ShapeError} for an empty curve.
 * @example const fig = faithfulnessCurveFigure(res.curve, { edges: res.edges.length, ratio: res.faithfulness.ratio });
 * @category Viz
 */
export function faithfulnessCurveFigure(
  curve: readonly CurvePoint[],
  chosen: { readonly edges: number; readonly ratio: number },
  opts: { title?: string; target?: number; parameter?: string } = {},
): PlotlyFigure {
  if (curve.length === 0) throw new ShapeError('faithfulnessCurveFigure: the curve has no points');
  const pts = [...curve].sort((a, b) => a.edges - b.edges);
  const xs = [...pts.map((p) => p.edges), chosen.edges];
  const [x0, x1] = [Math.max(1, Math.min(...xs)), Math.max(...xs)];
  const hline = (y: number, name: string, dash: string, color: string): PlotlyJson => ({
    type: 'scatter', mode: 'lines', x: [x0, x1], y: [y, y], name, line: { dash, color, width: 1.5 }, hoverinfo: 'name',
  });
  const data: PlotlyJson[] = [
    {
      type: 'scatter', mode: 'lines+markers', x: pts.map((p) => p.edges), y: pts.map((p) => p.ratio), name: 'circuits evaluated',
      text: pts.map((p) => `${p.edges} edges, ${p.nodes} nodes, ${opts.parameter ?? 'parameter'} ${fmt(p.parameter)}: faithfulness ${fmt(p.ratio)}`),
      hoverinfo: 'text', line: { color: '#1f77b4' },
    },
    hline(1, 'full model (1)', 'solid', '#555555'),
    ...(opts.target === undefined ? [] : [hline(opts.target, `target (${opts.target})`, 'dash', '#ff7f0e')]),
    {
      type: 'scatter', mode: 'markers', x: [chosen.edges], y: [chosen.ratio], name: `reported: ${chosen.edges} edges, ${fmt(chosen.ratio)}`,
      marker: { size: 16, symbol: 'star', color: '#d62728' }, hoverinfo: 'name',
    },
  ];
  return {
    data,
    layout: {
      title: { text: opts.title ?? 'Faithfulness vs circuit size' },
      xaxis: { ...logAxis([x0, x1]), title: { text: 'edges kept' }, automargin: true },
      yaxis: { title: { text: 'faithfulness (circuit / full metric)' }, zeroline: true, automargin: true },
      hovermode: 'closest',
      legend: { orientation: 'h', y: -0.3 }, // below the x-axis title, not over it
    },
    height: 420,
  };
}

const METHOD_TEXT: Readonly<Record<string, string>> = {
  prune: 'iterative node pruning: each component is ablated in turn and removed when the damage to the search metric stays within the threshold',
  eap: 'edge attribution patching (EAP): a gradient × activation-difference estimate of each edge\'s effect; edges are added by score from the logits back (greedy) or taken top-N, then connected to the input',
  acdc: 'ACDC: edges are visited from the logits back and removed when ablating one changes the search metric by less than the threshold τ',
};

const fmt = (v: number | undefined): string => (v === undefined ? '—' : Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v));

/**
 * The facts and the warning a circuit page shows: method, parameters, what was kept, faithfulness.
 * @param view The circuit and its run.
 * @returns Label–value rows and, for a circuit whose faithfulness is below {@link LOW_FAITHFULNESS}
 *   (or not finite), a warning.
 * @throws Never.
 * @example const { facts, warning } = circuitFacts(view);
 * @category Viz
 */
export function circuitFacts(view: CircuitGraphView): { facts: [string, string][]; warning: string | undefined } {
  const r = view.run;
  const f = r.faithfulness;
  const recovered = (f.circuit - f.empty) / (f.full - f.empty);
  const params = Object.entries(r.settings).map(([k, v]) => `${k} = ${typeof v === 'number' ? fmt(v) : String(v)}`).join(', ');
  const facts: [string, string][] = [
    ['method', `${r.method}: ${METHOD_TEXT[r.method] ?? 'circuit discovery'}`],
    ['parameters', `${params}${params === '' ? '' : '; '}search metric ${r.metric.name} (${r.metric.higherIsBetter ? 'higher' : 'lower'} is better), threshold ${r.metric.threshold === undefined ? 'none (size from the faithfulness curve or top-N)' : fmt(r.metric.threshold)}, ${r.ablation} ablation, ${r.level} level`],
    ['kept', `${view.nodes.length} nodes, ${view.edges.length} of ${r.totalEdges} edges (${fmt(r.forwardPasses)} forward passes)`],
    ['search metric', `full model ${fmt(r.metric.full)}, circuit ${fmt(r.metric.circuit)}`],
    ['faithfulness', `${fmt(f.ratio)} = circuit / full ${f.metric} (${fmt(f.circuit)} / ${fmt(f.full)}); empty circuit ${fmt(f.empty)}; recovered (circuit − empty) / (full − empty) = ${fmt(recovered)}`],
    ...(r.selection === undefined ? [] : [['size', r.selection.text] as [string, string]]),
    ...(r.curve === undefined || r.curve.length === 0 ? [] : [['curve', r.curve.map((p) => `${p.edges} edges: ${fmt(p.ratio)}`).join('; ')] as [string, string]]),
  ];
  const low = !Number.isFinite(f.ratio) || f.ratio < LOW_FAITHFULNESS;
  const warning = low
    ? `Low faithfulness (${fmt(f.ratio)} < ${LOW_FAITHFULNESS}): with everything outside this circuit ablated the model keeps ${Number.isFinite(f.ratio) ? `${fmt(100 * f.ratio)}%` : 'none'} of its ${f.metric}. This circuit does not explain the behaviour; keep more edges (a larger topN or a lower threshold) or use another method.`
    : undefined;
  return { facts, warning };
}

/**
 * Write an HTML page with a circuit graph, the method and its parameters, what it kept, and the
 * circuit's faithfulness (in the figure title too), with a warning when it is low; when the run has a
 * curve, a second figure draws faithfulness against edges kept ({@link faithfulnessCurveFigure}).
 * @param outPath Destination `.html` (folders are created).
 * @param view Heads per layer, nodes, edges, and the run (a circuit file entry plus `totalEdges`).
 * @param opts Page title, description, plotly mode.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for edges naming unknown nodes; Node's file-system errors.
 * @example writeCircuitGraph('results/circuits/induction.html', { nHeads: 4, nodes: entry.nodes, edges: entry.edges, run: { ...entry, totalEdges: graph.edges.length } }, { title: 'ACDC' });
 * @category Viz
 */
export function writeCircuitGraph(outPath: string, view: CircuitGraphView, opts: PageOptions): string {
  const { facts, warning } = circuitFacts(view);
  const f = view.run.faithfulness;
  const stated = /faithfulness/i.test(opts.title) ? opts.title : `${opts.title} — faithfulness ${fmt(f.ratio)}`;
  const title = `${stated}${warning === undefined ? '' : ' (LOW)'}`;
  const curve = view.run.curve;
  const parameter = view.run.method === 'acdc' ? 'τ' : view.run.method === 'prune' ? 'components removed' : 'greedy picks';
  const figures =
    curve === undefined || curve.length === 0
      ? [circuitGraphFigure(view, { title })]
      : [
        circuitGraphFigure(view, { title }),
        faithfulnessCurveFigure(curve, { edges: view.edges.length, ratio: f.ratio }, {
          title: `Faithfulness vs circuit size (${view.run.method})`,
          parameter,
          ...(view.run.selection === undefined ? {} : { target: view.run.selection.targetFaithfulness }),
        }),
      ];
  return writePlotlyPage(outPath, figures, { ...opts, facts: [...facts, ...(opts.facts ?? [])], ...(warning === undefined ? {} : { warning }) });
}
