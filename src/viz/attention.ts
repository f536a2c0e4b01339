/**
 * Attention-pattern pages (cf. CircuitsVis `attention_patterns`, rendered with Plotly): one heatmap
 * per head, query (destination) tokens down, key (source) tokens across, either one head at a time
 * with a selector, or all heads in a grid.
 */
import { ShapeError } from '../errors.js';
import { WHITE_TO_BLUE } from './heatmap.js';
import { matrixShape, writePlotlyPage, type PageOptions, type PlotlyJson } from './html.js';

/**
 * Options of {@link writeAttentionPatterns}.
 * @category Viz
 */
export interface AttentionPlotOptions extends PageOptions {
  /** String tokens, one per position. */
  readonly tokens: readonly string[];
  /** 'selector' (default): one head shown, a dropdown picks the head. 'grid': every head at once. */
  readonly mode?: 'selector' | 'grid';
  /** Layer of a [head][q][k] input, for the labels (`L{layer}H{h}`; default `H{h}`). */
  readonly layer?: number;
  /** Grid columns (default min(4, heads)). */
  readonly columns?: number;
}

/** Patterns as (label, [q][k]) pairs from [head][q][k] or [layer][head][q][k]. */
function flattenHeads(
  patterns: readonly (readonly (readonly number[])[])[] | readonly (readonly (readonly (readonly number[])[])[])[],
  layer: number | undefined,
): { label: string; z: readonly (readonly number[])[] }[] {
  const fourD = Array.isArray(patterns[0]?.[0]?.[0]);
  if (fourD) {
    return (patterns as readonly (readonly (readonly (readonly number[])[])[])[]).flatMap((heads, l) =>
      heads.map((z, h) => ({ label: `L${l}H${h}`, z })),
    );
  }
  return (patterns as readonly (readonly (readonly number[])[])[]).map((z, h) => ({
    label: layer === undefined ? `H${h}` : `L${layer}H${h}`,
    z,
  }));
}

function headTrace(z: readonly (readonly number[])[], tokens: readonly string[], label: string): PlotlyJson {
  const n = tokens.length;
  return {
    type: 'heatmap',
    name: label,
    z,
    x: tokens.map((_, i) => i),
    y: tokens.map((_, i) => i),
    coloraxis: 'coloraxis',
    customdata: Array.from({ length: n }, (_, q) => Array.from({ length: n }, (_, k) => `${q}: ${tokens[q]} → ${k}: ${tokens[k]}`)),
    hovertemplate: `${label}<br>%{customdata}<br>attention %{z:.3f}<extra></extra>`,
  };
}

function axes(tokens: readonly string[], suffix: string, titles: boolean): PlotlyJson {
  const ticks = { tickmode: 'array', tickvals: tokens.map((_, i) => i), ticktext: tokens, automargin: true, tickfont: { size: 10 } };
  return {
    [`xaxis${suffix}`]: { ...ticks, title: { text: titles ? 'key (source)' : 'key', font: { size: titles ? 14 : 11 } }, tickangle: -60 },
    [`yaxis${suffix}`]: { ...ticks, title: { text: titles ? 'query (destination)' : 'query', font: { size: titles ? 14 : 11 } }, autorange: 'reversed' },
  };
}

/**
 * Write attention patterns with string tokens as a self-contained page.
 * @param outPath Destination `.html`.
 * @param patterns [head][pos_q][pos_k] for one layer, or [layer][head][pos_q][pos_k] (plain arrays,
 *   e.g. `cache.get('pattern', 0).arraySync()[batchIndex]`).
 * @param opts Tokens, mode, layer label, grid columns, title.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} if a pattern is not [tokens.length, tokens.length] or there are no heads.
 * @example writeAttentionPatterns('results/attn_L0.html', pattern0, { tokens: model.toStrTokens(text), layer: 0 });
 * @category Viz
 */
export function writeAttentionPatterns(
  outPath: string,
  patterns: readonly (readonly (readonly number[])[])[] | readonly (readonly (readonly (readonly number[])[])[])[],
  opts: AttentionPlotOptions,
): string {
  const heads = flattenHeads(patterns, opts.layer);
  const n = opts.tokens.length;
  if (heads.length === 0) throw new ShapeError('writeAttentionPatterns: no heads given');
  for (const { label, z } of heads) {
    const [q, k] = matrixShape(z, `writeAttentionPatterns: ${label}`);
    if (q !== n || k !== n) throw new ShapeError(`writeAttentionPatterns: ${label} is [${q}, ${k}], expected [${n}, ${n}] (one row/column per token)`);
  }
  const coloraxis = { colorscale: WHITE_TO_BLUE, cmin: 0, cmax: 1, colorbar: { title: { text: 'attention' } } };
  const title = { text: opts.title };
  const page = { ...opts, title: title.text };
  if ((opts.mode ?? 'selector') === 'selector') {
    const data = heads.map(({ label, z }, i) => ({ ...headTrace(z, opts.tokens, label), visible: i === 0 }));
    const buttons = heads.map(({ label }, i) => ({
      label,
      method: 'update',
      args: [{ visible: heads.map((_, j) => j === i) }, { 'title.text': `${title.text}: ${label}` }],
    }));
    const layout = {
      title: { text: `${title.text}: ${heads[0]?.label}` },
      coloraxis,
      updatemenus: [{ type: 'dropdown', buttons, x: 1, xanchor: 'right', y: 1.12, yanchor: 'top', showactive: true }],
      ...axes(opts.tokens, '', true),
    };
    const size = Math.min(900, Math.max(420, 26 * n + 200));
    return writePlotlyPage(outPath, { data, layout, height: size }, page);
  }
  const cols = Math.max(1, Math.min(opts.columns ?? 4, heads.length));
  const rows = Math.ceil(heads.length / cols);
  const id = (i: number): string => (i === 0 ? '' : String(i + 1)); // Plotly axis ids: x, x2, x3 …
  const data = heads.map(({ label, z }, i) => ({ ...headTrace(z, opts.tokens, label), xaxis: `x${id(i)}`, yaxis: `y${id(i)}` }));
  let layout: PlotlyJson = { title, coloraxis, grid: { rows, columns: cols, pattern: 'independent', ygap: 0.3, xgap: 0.2 } };
  heads.forEach((_, i) => {
    layout = { ...layout, ...axes(opts.tokens, id(i), false) };
  });
  const annotations = heads.map(({ label }, i) => ({
    text: label,
    showarrow: false,
    xref: `x${id(i)} domain`,
    yref: `y${id(i)} domain`,
    x: 0.5,
    y: 1.08,
    xanchor: 'center',
    yanchor: 'bottom',
  }));
  const cell = Math.min(360, Math.max(180, 14 * n + 80));
  return writePlotlyPage(outPath, { data, layout: { ...layout, annotations }, height: rows * cell + 120 }, page);
}
