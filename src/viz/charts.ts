/**
 * Generic chart writers over plain arrays — lines (training curves, logit lens), stacked line panels
 * (quantities in different units, one y axis each), scatter (ROC, embeddings), histograms
 * (activation or score distributions) and bars (attributions) — each a Plotly page (see `html.ts`).
 * Every chart has a title and titled axes; log axes get tick labels that read as full numbers.
 */
import { ShapeError } from '../errors.js';
import { writePlotlyPage, type PageOptions, type PlotlyFigure, type PlotlyJson } from './html.js';

/**
 * One line or point series.
 * @category Viz
 */
export interface Series {
  /** Legend name. */
  readonly name: string;
  /** Y values. */
  readonly y: readonly number[];
  /** X values (numbers or category labels); default 0, 1, 2 … */
  readonly x?: readonly (number | string)[];
  /** Hover text per point. */
  readonly text?: readonly string[];
}

/**
 * A named list of values (a histogram set, a bar series, a logit-lens line).
 * @category Viz
 */
export interface NamedValues {
  /** Legend name. */
  readonly name: string;
  /** The values. */
  readonly values: readonly number[];
}

/**
 * Axis titles and scales shared by the chart writers.
 * @category Viz
 */
export interface ChartOptions extends PageOptions {
  /** X-axis title (the quantity and its unit). */
  readonly xLabel: string;
  /** Y-axis title (the quantity and its unit). */
  readonly yLabel: string;
  /** Log-scale y axis. */
  readonly logY?: boolean;
  /** Log-scale x axis. */
  readonly logX?: boolean;
  /** Extra layout fields merged over the defaults (e.g. `{ yaxis: { range: [0, 1] } }`). */
  readonly layout?: PlotlyJson;
}

function checkSeries(series: readonly Series[], fn: string): void {
  if (series.length === 0) throw new ShapeError(`${fn}: need at least one series`);
  for (const s of series) {
    if (s.x !== undefined && s.x.length !== s.y.length) {
      throw new ShapeError(`${fn}: series '${s.name}' has ${s.x.length} x values and ${s.y.length} y values`);
    }
    if (s.text !== undefined && s.text.length !== s.y.length) {
      throw new ShapeError(`${fn}: series '${s.name}' has ${s.text.length} labels for ${s.y.length} points`);
    }
  }
}

/**
 * The default layout of a chart: title, titled axes (automargin, so tick labels are never
 * clipped), log axes with readable ticks.
 * @param opts Chart options (the title may be left to the page).
 * @param values The data on each axis, for the ticks of a log axis.
 * @returns A Plotly layout.
 * @throws Never.
 * @example chartLayout({ title: 'Loss', xLabel: 'step', yLabel: 'MSE', logY: true }, { y: losses })
 * @category Viz
 */
export function chartLayout(opts: Omit<ChartOptions, 'title'> & { readonly title?: string }, values: { x?: readonly unknown[]; y?: readonly unknown[] } = {}): PlotlyJson {
  const axis = (label: string, log: boolean, v: readonly unknown[] | undefined): PlotlyJson => ({
    title: { text: label },
    automargin: true,
    ...(log ? logAxis(v ?? []) : {}),
  });
  return {
    title: { text: opts.title ?? '' },
    xaxis: axis(opts.xLabel, opts.logX === true, values.x),
    yaxis: axis(opts.yLabel, opts.logY === true, values.y),
    hovermode: 'closest',
    ...(opts.layout ?? {}),
  };
}

const fmtTick = (v: number): string => (v >= 1e6 || v < 1e-3 ? v.toExponential(0).replace('e+', 'e') : String(Number(v.toPrecision(6))));

/**
 * A log axis whose ticks read as full numbers (Plotly's own log ticks label 70, 60, 50 as "7, 6,
 * 5"): 1-2-5 steps per decade (every digit within one decade, powers of ten over many decades).
 * @param values The data on the axis (non-positive and non-numeric values are ignored).
 * @returns Axis fields: `type: 'log'` and, when there is positive data, `tickvals`/`ticktext`.
 * @throws Never.
 * @example logAxis([50, 60, 70]).ticktext  // ['50', '60', '70']
 * @category Viz
 */
export function logAxis(values: readonly unknown[]): PlotlyJson {
  const pos = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0);
  if (pos.length === 0) return { type: 'log' };
  const [lo, hi] = [Math.min(...pos), Math.max(...pos)];
  const [k0, k1] = [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))];
  const pick = (mantissas: readonly number[]): number[] => {
    const out: number[] = [];
    for (let k = k0; k <= k1; k++) for (const m of mantissas) out.push(Number((m * 10 ** k).toPrecision(3)));
    // Keep the ticks inside the data range, plus one on each side.
    const inside = out.filter((t) => t >= lo && t <= hi);
    const below = out.filter((t) => t < lo).pop();
    const above = out.find((t) => t > hi);
    return [...(below === undefined ? [] : [below]), ...inside, ...(above === undefined ? [] : [above])];
  };
  const decades = k1 - k0;
  const inRange = (t: readonly number[]): number => t.filter((v) => v >= lo && v <= hi).length;
  let ticks = decades > 4 ? pick([1]) : pick([1, 2, 5]);
  if (inRange(ticks) < 3) ticks = pick([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  if (inRange(ticks) < 2) ticks = linearTicks(lo, hi); // a narrow range (e.g. 250–265): evenly spaced
  return { type: 'log', tickmode: 'array', tickvals: ticks, ticktext: ticks.map(fmtTick) };
}

/** About four evenly spaced round values (steps of 1, 2 or 5 × 10^k) within [lo, hi]. */
function linearTicks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * p >= raw) ?? 10) * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function traces(series: readonly Series[], mode: string): PlotlyJson[] {
  return series.map((s) => ({
    type: 'scatter',
    mode,
    name: s.name,
    x: s.x ?? s.y.map((_, i) => i),
    y: s.y,
    ...(s.text === undefined ? {} : { text: s.text, hovertemplate: '%{text}<br>x=%{x}<br>y=%{y}<extra>%{fullData.name}</extra>' }),
  }));
}

/**
 * Line chart (training curves, logit-lens trajectories).
 * @param outPath Destination `.html`.
 * @param series Lines.
 * @param opts Title, axes, scales.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for no series or mismatched lengths.
 * @example writeLinePlot('results/train/loss.html', [{ name: 'mse', y: losses }], { xLabel: 'step', logY: true });
 * @category Viz
 */
export function writeLinePlot(outPath: string, series: readonly Series[], opts: ChartOptions): string {
  checkSeries(series, 'writeLinePlot');
  return writePlotlyPage(outPath, { data: traces(series, 'lines+markers'), layout: chartLayout(opts, seriesValues(series)) }, opts);
}

/** All x and y values of some series (for log-axis ticks). */
function seriesValues(series: readonly Series[]): { x: unknown[]; y: unknown[] } {
  return { x: series.flatMap((s) => s.x ?? s.y.map((_, i) => i)), y: series.flatMap((s) => s.y) };
}

/**
 * One panel of {@link writeLinePanels}: lines sharing one y axis (one quantity, one unit).
 * @category Viz
 */
export interface LinePanel {
  /** Panel (figure) title. */
  readonly title: string;
  /** Y-axis title (the quantity and its unit). */
  readonly yLabel: string;
  /** Lines. */
  readonly series: readonly Series[];
  /** Log-scale y axis (ticks read as full numbers). */
  readonly logY?: boolean;
  /** Fixed y range, e.g. [0, 1] for a fraction. */
  readonly yRange?: readonly [number, number];
  /** Start a linear y axis at 0 (counts); default false. */
  readonly fromZero?: boolean;
  /** Height in pixels (default 320). */
  readonly height?: number;
}

/**
 * Several line charts over the same x axis on one page, one quantity (and unit) per panel, so
 * quantities in different units never share a y axis (e.g. SAE training: MSE, L0, dead latents).
 * @param outPath Destination `.html`.
 * @param panels The panels, top to bottom.
 * @param opts Page title, description, x-axis title (shared by the panels).
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for no panels, a panel without series, or mismatched lengths.
 * @example writeLinePanels('results/train.html', [{ title: 'Loss', yLabel: 'MSE', series: [{ name: 'mse', y: mse }], logY: true }, { title: 'L0', yLabel: 'active latents per token', series: [{ name: 'L0', y: l0 }] }], { title: 'SAE training', xLabel: 'step' });
 * @category Viz
 */
export function writeLinePanels(outPath: string, panels: readonly LinePanel[], opts: PageOptions & { readonly xLabel: string }): string {
  if (panels.length === 0) throw new ShapeError('writeLinePanels: need at least one panel');
  const figures: PlotlyFigure[] = panels.map((p) => {
    checkSeries(p.series, `writeLinePanels: panel '${p.title}'`);
    const layout = chartLayout({ title: p.title, xLabel: opts.xLabel, yLabel: p.yLabel, ...(p.logY === undefined ? {} : { logY: p.logY }) }, seriesValues(p.series));
    const yaxis = { ...(layout['yaxis'] as PlotlyJson), ...(p.yRange === undefined ? {} : { range: [...p.yRange] }), ...(p.fromZero === true ? { rangemode: 'tozero' } : {}) };
    const legend = p.series.length > 1 ? { showlegend: true, legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1.02, yanchor: 'bottom' } } : { showlegend: false };
    return { data: traces(p.series, 'lines'), layout: { ...layout, yaxis, ...legend, margin: { t: 70, b: 50 } }, height: p.height ?? 320 };
  });
  return writePlotlyPage(outPath, figures, opts);
}

/**
 * Scatter chart (ROC curves, 2-D embeddings); markers only.
 * @param outPath Destination `.html`.
 * @param series Point sets (x required for a meaningful scatter).
 * @param opts Title, axes, scales.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for no series or mismatched lengths.
 * @example writeScatterPlot('results/roc.html', [{ name: 'probe', x: fpr, y: tpr }], { xLabel: 'FPR', yLabel: 'TPR' });
 * @category Viz
 */
export function writeScatterPlot(outPath: string, series: readonly Series[], opts: ChartOptions): string {
  checkSeries(series, 'writeScatterPlot');
  return writePlotlyPage(outPath, { data: traces(series, 'markers'), layout: chartLayout(opts, seriesValues(series)) }, opts);
}

/**
 * Options of {@link writeHistogram}.
 * @category Viz
 */
export interface HistogramOptions extends Omit<ChartOptions, 'yLabel'> {
  /** Y-axis title (default: 'count', or the normalisation). */
  readonly yLabel?: string;
  /** Upper bound on the number of bins (Plotly picks nice bins). */
  readonly nbins?: number;
  /** 'overlay' (default) or 'stack' for several series. */
  readonly barmode?: 'overlay' | 'stack';
  /** Normalise to 'probability' or 'percent' instead of counts. */
  readonly histnorm?: 'probability' | 'percent';
}

/**
 * Histogram of one or more value sets.
 * @param outPath Destination `.html`.
 * @param series `{name, values}` sets.
 * @param opts Bins, bar mode, normalisation, axes.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for no series or an empty set.
 * @example writeHistogram('results/scores.html', [{ name: 'normal', values: a }, { name: 'anomalous', values: b }]);
 * @category Viz
 */
export function writeHistogram(
  outPath: string,
  series: readonly NamedValues[],
  opts: HistogramOptions,
): string {
  if (series.length === 0 || series.some((s) => s.values.length === 0)) {
    throw new ShapeError('writeHistogram: need at least one non-empty series');
  }
  const data = series.map((s) => ({
    type: 'histogram',
    name: s.name,
    x: s.values,
    opacity: series.length > 1 ? 0.6 : 1,
    ...(opts.nbins === undefined ? {} : { nbinsx: opts.nbins }),
    ...(opts.histnorm === undefined ? {} : { histnorm: opts.histnorm }),
  }));
  const layout = { ...chartLayout({ ...opts, yLabel: opts.yLabel ?? opts.histnorm ?? 'count' }), barmode: opts.barmode ?? 'overlay' };
  return writePlotlyPage(outPath, { data, layout }, opts);
}

/**
 * Bar chart of labelled values (one bar per label; several series are grouped).
 * @param outPath Destination `.html`.
 * @param labels Category labels (kept in order; duplicates allowed).
 * @param series `{name, values}` with one value per label.
 * @param opts Title, axes, `horizontal`.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} if a series' length differs from the labels'.
 * @example writeBarChart('results/dla.html', ['embed', '0_attn_out'], [{ name: 'attr', values: [0.1, 2.3] }]);
 * @category Viz
 */
export function writeBarChart(
  outPath: string,
  labels: readonly string[],
  series: readonly NamedValues[],
  opts: ChartOptions & { readonly horizontal?: boolean },
): string {
  if (labels.length === 0 || series.length === 0 || series.some((s) => s.values.length !== labels.length)) {
    throw new ShapeError(`writeBarChart: every series needs one value per label (${labels.length} labels)`);
  }
  // Positions as numbers with tick labels, so repeated labels stay separate bars.
  const idx = labels.map((_, i) => i);
  const h = opts.horizontal === true;
  const data = series.map((s) => ({
    type: 'bar',
    name: s.name,
    orientation: h ? 'h' : 'v',
    [h ? 'y' : 'x']: idx,
    [h ? 'x' : 'y']: s.values,
    text: labels,
    hovertemplate: '%{text}: %{' + (h ? 'x' : 'y') + '}<extra>%{fullData.name}</extra>',
    textposition: 'none',
  }));
  const base = chartLayout(opts);
  const ticks = { tickmode: 'array', tickvals: idx, ticktext: labels, automargin: true };
  const axis = h ? 'yaxis' : 'xaxis';
  const layout = { ...base, barmode: 'group', [axis]: { ...(base[axis] as PlotlyJson), ...ticks, ...(h ? { autorange: 'reversed' } : {}) } };
  return writePlotlyPage(outPath, { data, layout, height: h ? Math.max(400, 22 * labels.length) : 520 }, opts);
}
