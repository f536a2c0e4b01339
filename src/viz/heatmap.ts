/**
 * Heatmaps over plain matrices, and the activation-patching layouts of the TL demos:
 * [layer, pos] (residual / attn_out / mlp_out patching, with string tokens on x) and
 * [layer, head] (per-head patching). Colours never auto-scale to the data's min–max: signed values
 * get a diverging scale symmetric about 0 (±max |value|, or a fixed ±h), scores in [0, 1] the fixed range [0, 1].
 */
import { ConfigError, ShapeError } from '../errors.js';
import { matrixShape, writePlotlyPage, type PageOptions, type PlotlyJson } from './html.js';

/**
 * A white-to-dark-blue scale for values in [0, 1] (attention, detector scores); plotly.js's own
 * 'Blues' runs the other way.
 * @category Viz
 */
export const WHITE_TO_BLUE: readonly (readonly [number, string])[] = [
  [0, '#ffffff'],
  [0.5, '#6baed6'],
  [1, '#08306b'],
];

/**
 * The colour range of a heatmap. `'signed'`: a diverging scale symmetric about `zmid` (default 0),
 * from −max|z − zmid| to +max|z − zmid|. `'unit'`: scores in [0, 1], white to blue over exactly
 * [0, 1]. `{ signed: h }`: a diverging scale fixed to [zmid − h, zmid + h] (e.g. `{ signed: 1 }` for a
 * normalised patching metric, 0 = corrupted run and 1 = clean run, so that 0.3 never looks like the
 * full effect). `[lo, hi]`: a fixed range, white to blue. A fixed range is widened to include data
 * outside it (never clipped), and the colour bar then says so.
 * @category Viz
 */
export type ColorRange = 'signed' | 'unit' | SignedRange | readonly [number, number];

/**
 * A diverging colour range of fixed half-width about `zmid` (see {@link ColorRange}).
 * @category Viz
 */
export interface SignedRange {
  /** Half-width h > 0: colours span [zmid − h, zmid + h], widened only to fit data outside it. */
  readonly signed: number;
}

/**
 * Options of {@link writeHeatmap}.
 * @category Viz
 */
export interface HeatmapOptions extends PageOptions {
  /** Column labels (x), one per column; duplicates allowed. */
  readonly xLabels?: readonly string[];
  /** Row labels (y), one per row; duplicates allowed. */
  readonly yLabels?: readonly string[];
  /** X-axis title. */
  readonly xLabel: string;
  /** Y-axis title. */
  readonly yLabel: string;
  /** Colour-bar title: the quantity shown (e.g. 'induction score', 'logit difference'). */
  readonly zLabel: string;
  /** Colour range (default 'signed'). */
  readonly range?: ColorRange;
  /** Centre of a 'signed' range (default 0). */
  readonly zmid?: number;
  /**
   * Plotly colour scale: a name or `[fraction, colour]` stops (default: plotly.js 'RdBu' reversed
   * for 'signed', so positive is blue and negative red as in TL's `imshow`; {@link WHITE_TO_BLUE}
   * for 'unit' and fixed ranges).
   */
  readonly colorscale?: string | readonly (readonly [number, string])[];
  /** Print each value in its cell (default: when the matrix has at most 400 cells). */
  readonly showValues?: boolean;
}

/**
 * The colour fields of a heatmap trace for a range rule (see {@link ColorRange}).
 * @param z The matrix.
 * @param range The rule.
 * @param zmid Centre of a 'signed' range.
 * @param zLabel Colour-bar title.
 * @returns `zmin`, `zmax`, (`zmid`), `colorscale`, `reversescale` and the titled `colorbar`.
 * @throws {@link "tfjs-lens"!ConfigError} for a `{ signed: h }` range whose half-width is not > 0.
 * @example heatmapColors([[0.01, 0.06]], 'unit', 0, 'score')  // zmin 0, zmax 1
 * @category Viz
 */
export function heatmapColors(z: readonly (readonly number[])[], range: ColorRange, zmid: number, zLabel: string): PlotlyJson {
  const finite = z.flat().filter((v) => Number.isFinite(v));
  const [dmin, dmax] = finite.length === 0 ? [0, 0] : [Math.min(...finite), Math.max(...finite)];
  const spread = Math.max(Math.abs(dmax - zmid), Math.abs(dmin - zmid));
  if (range === 'signed') {
    const m = spread || 1;
    return { zmin: zmid - m, zmax: zmid + m, zmid, colorscale: 'RdBu', reversescale: true, colorbar: { title: { text: zLabel } } };
  }
  if (!Array.isArray(range) && typeof range === 'object') {
    const h = (range as SignedRange).signed;
    if (!(Number.isFinite(h) && h > 0)) throw new ConfigError(`heatmapColors: range { signed: ${h} } needs a half-width > 0, e.g. { signed: 1 }`);
    const m = Math.max(h, spread);
    const widened = m > h ? ` (widened from ±${h} to fit the data)` : '';
    return { zmin: zmid - m, zmax: zmid + m, zmid, colorscale: 'RdBu', reversescale: true, colorbar: { title: { text: `${zLabel}${widened}` } } };
  }
  const [lo, hi] = range === 'unit' ? [0, 1] : (range as readonly [number, number]);
  const [zmin, zmax] = [Math.min(lo, dmin), Math.max(hi, dmax)];
  const widened = zmin < lo || zmax > hi ? ` (widened from [${lo}, ${hi}] to fit the data)` : '';
  return { zmin, zmax, colorscale: WHITE_TO_BLUE, reversescale: false, colorbar: { title: { text: `${zLabel}${widened}` } } };
}

/**
 * A heatmap trace and its axes, ready for a layout.
 * @category Viz
 */
interface HeatmapParts {
  /** The `heatmap` trace. */
  readonly trace: PlotlyJson;
  /** X-axis layout (tick labels). */
  readonly xaxis: PlotlyJson;
  /** Y-axis layout (tick labels, rows top to bottom). */
  readonly yaxis: PlotlyJson;
}

/**
 * A heatmap trace and axes for a matrix (rows drawn top to bottom, labels as tick text so duplicates
 * such as repeated tokens stay separate columns).
 * @param z Matrix [rows][columns].
 * @param opts Labels, colour scale, values.
 * @param fn Calling function, for messages.
 * @returns `{trace, xaxis, yaxis}` for a layout.
 * @throws {@link "tfjs-lens"!ShapeError} for a ragged matrix or label counts that do not match.
 * @example const { trace } = heatmapTrace([[1, -1]], {}, 'f');
 * @category Viz
 */
function heatmapTrace(z: readonly (readonly number[])[], opts: HeatmapOptions, fn: string): HeatmapParts {
  const [rows, cols] = matrixShape(z, `${fn}: z`);
  const xl = opts.xLabels ?? Array.from({ length: cols }, (_, i) => String(i));
  const yl = opts.yLabels ?? Array.from({ length: rows }, (_, i) => String(i));
  if (xl.length !== cols || yl.length !== rows) {
    throw new ShapeError(`${fn}: ${xl.length} x labels / ${yl.length} y labels for a [${rows}, ${cols}] matrix`);
  }
  const xs = xl.map((_, i) => i);
  const ys = yl.map((_, i) => i);
  const show = opts.showValues ?? rows * cols <= 400;
  const colors = heatmapColors(z, opts.range ?? 'signed', opts.zmid ?? 0, opts.zLabel);
  const trace: PlotlyJson = {
    type: 'heatmap',
    z,
    x: xs,
    y: ys,
    ...colors,
    ...(opts.colorscale === undefined ? {} : { colorscale: opts.colorscale, reversescale: false }),
    customdata: yl.map((y) => xl.map((x) => `${y} · ${x}`)),
    hovertemplate: '%{customdata}<br>%{z:.4g}<extra></extra>',
    ...(show ? { texttemplate: '%{z:.2f}' } : {}),
  };
  const xaxis = { title: { text: opts.xLabel }, tickmode: 'array', tickvals: xs, ticktext: xl, automargin: true, side: 'bottom' };
  const yaxis = { title: { text: opts.yLabel }, tickmode: 'array', tickvals: ys, ticktext: yl, automargin: true, autorange: 'reversed' };
  return { trace, xaxis, yaxis };
}

/**
 * Write a heatmap of a matrix.
 * @param outPath Destination `.html`.
 * @param z Matrix [rows][columns].
 * @param opts Title, labels, axis and colour-bar titles, colour range (default 'signed').
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for a ragged matrix or label counts that do not match.
 * @example writeHeatmap('results/scores.html', scores, { title: 'Induction score per head', xLabel: 'head', yLabel: 'layer', zLabel: 'induction score', range: 'unit' });
 * @category Viz
 */
export function writeHeatmap(outPath: string, z: readonly (readonly number[])[], opts: HeatmapOptions): string {
  const { trace, xaxis, yaxis } = heatmapTrace(z, opts, 'writeHeatmap');
  const height = Math.min(1400, Math.max(360, 28 * z.length + 160));
  return writePlotlyPage(outPath, { data: [trace], layout: { title: { text: opts.title }, xaxis, yaxis }, height }, opts);
}

/**
 * Options of {@link writePatchingHeatmap}.
 * @category Viz
 */
export interface PatchingHeatmapOptions extends PageOptions {
  /** 'layerPos' ([n_layers, pos]: x = tokens) or 'layerHead' ([n_layers, n_heads]: x = heads). */
  readonly kind: 'layerPos' | 'layerHead';
  /** String tokens for 'layerPos' (one per position); default the position indices. */
  readonly tokens?: readonly string[];
  /** Colour-bar title (default 'patched metric'). */
  readonly zLabel?: string;
  /** Colour range (default 'signed': diverging, symmetric about `zmid`). */
  readonly range?: ColorRange;
  /** Centre of a 'signed' range (default 0). */
  readonly zmid?: number;
}

/**
 * Activation-patching heatmap as in the TL demos: rows are layers; columns are positions labelled
 * `"{pos}: {token}"`, or heads `"H{h}"`.
 * @param outPath Destination `.html`.
 * @param values Patching results [n_layers][pos] or [n_layers][n_heads].
 * @param opts Kind, tokens, title.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for a ragged matrix or a token count that does not match.
 * @example writePatchingHeatmap('results/patch_resid.html', resid, { kind: 'layerPos', tokens: strTokens });
 * @category Viz
 */
export function writePatchingHeatmap(outPath: string, values: readonly (readonly number[])[], opts: PatchingHeatmapOptions): string {
  const [layers, cols] = matrixShape(values, 'writePatchingHeatmap: values');
  if (opts.kind === 'layerPos' && opts.tokens !== undefined && opts.tokens.length !== cols) {
    throw new ShapeError(`writePatchingHeatmap: ${opts.tokens.length} tokens for ${cols} positions`);
  }
  const xLabels =
    opts.kind === 'layerHead'
      ? Array.from({ length: cols }, (_, h) => `H${h}`)
      : Array.from({ length: cols }, (_, p) => (opts.tokens === undefined ? String(p) : `${p}: ${opts.tokens[p]}`));
  return writeHeatmap(outPath, values, {
    ...opts,
    xLabels,
    yLabels: Array.from({ length: layers }, (_, l) => `L${l}`),
    xLabel: opts.kind === 'layerHead' ? 'head' : 'position',
    yLabel: 'layer',
    zLabel: opts.zLabel ?? 'patched metric',
  });
}
