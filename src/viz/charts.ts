/**
 * Generic chart writers over plain arrays — lines (training curves, logit lens), scatter (ROC,
 * embeddings), histograms (activation or score distributions) and bars (attributions) — each a
 * self-contained Plotly page (see `html.ts`).
 */
import { ShapeError } from '../errors.js';
import { writePlotlyPage, type PageOptions, type PlotlyJson } from './html.js';

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
  /** X-axis title. */
  readonly xLabel?: string;
  /** Y-axis title. */
  readonly yLabel?: string;
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
 * The default layout of a chart.
 * @param opts Chart options.
 * @returns A Plotly layout.
 * @throws Never.
 * @example chartLayout({ title: 'Loss', xLabel: 'step' })
 * @category Viz
 */
export function chartLayout(opts: ChartOptions): PlotlyJson {
  return {
    title: { text: opts.title ?? '' },
    xaxis: { title: { text: opts.xLabel ?? '' }, type: opts.logX === true ? 'log' : undefined, automargin: true },
    yaxis: { title: { text: opts.yLabel ?? '' }, type: opts.logY === true ? 'log' : undefined, automargin: true },
    hovermode: 'closest',
    ...(opts.layout ?? {}),
  };
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
export function writeLinePlot(outPath: string, series: readonly Series[], opts: ChartOptions = {}): string {
  checkSeries(series, 'writeLinePlot');
  return writePlotlyPage(outPath, { data: traces(series, 'lines+markers'), layout: chartLayout(opts) }, opts);
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
export function writeScatterPlot(outPath: string, series: readonly Series[], opts: ChartOptions = {}): string {
  checkSeries(series, 'writeScatterPlot');
  return writePlotlyPage(outPath, { data: traces(series, 'markers'), layout: chartLayout(opts) }, opts);
}

/**
 * Options of {@link writeHistogram}.
 * @category Viz
 */
export interface HistogramOptions extends ChartOptions {
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
  opts: HistogramOptions = {},
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
  const layout = { ...chartLayout({ yLabel: opts.histnorm ?? 'count', ...opts }), barmode: opts.barmode ?? 'overlay' };
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
  opts: ChartOptions & { readonly horizontal?: boolean } = {},
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
