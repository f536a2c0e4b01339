/**
 * Plots for the analysis readouts: logit-lens trajectories (one line per tracked token over the
 * accumulated-residual labels) and direct-logit-attribution bar charts. Plain arrays in, so the
 * results of `logitLens` / `directLogitAttribution` (or any other numbers) can be passed directly.
 */
import { ShapeError } from '../errors.js';
import { writeBarChart, writeLinePlot, type ChartOptions, type NamedValues } from './charts.js';

/**
 * Input of {@link writeLogitLensPlot}: values per stack label, one line per tracked quantity.
 * @category Viz
 */
export interface LogitLensPlotData {
  /** Stack labels (`"0_pre"`, …, `"final_post"`), the x axis. */
  readonly labels: readonly string[];
  /** Lines: a name (e.g. `"rank of ' Paris'"`) and one value per label. */
  readonly series: readonly NamedValues[];
}

/**
 * Logit-lens line plot: how a token's logit, probability or rank evolves through the layers.
 * @param outPath Destination `.html`.
 * @param data Labels and lines.
 * @param opts Title (default 'Logit lens'), axis titles (default 'residual stream', 'logit'), `logY` (useful for ranks).
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} if a line's length differs from the labels'.
 * @example writeLogitLensPlot('results/analysis/lens.html', { labels: lens.labels, series: [{ name: 'tok 42', values: lens.values.map((v) => v[0][0]) }] });
 * @category Viz
 */
export function writeLogitLensPlot(outPath: string, data: LogitLensPlotData, opts: Partial<ChartOptions> = {}): string {
  if (data.series.some((s) => s.values.length !== data.labels.length)) {
    throw new ShapeError(`writeLogitLensPlot: every line needs one value per label (${data.labels.length})`);
  }
  return writeLinePlot(
    outPath,
    data.series.map((s) => ({ name: s.name, x: data.labels, y: s.values })),
    { title: 'Logit lens', xLabel: 'residual stream', yLabel: 'logit', ...opts },
  );
}

/**
 * Direct-logit-attribution bar chart: one bar per component (horizontal when there are many).
 * @param outPath Destination `.html`.
 * @param labels Component labels (`"embed"`, `"0_attn_out"`, `"L1H3"` …).
 * @param values Attribution per component.
 * @param opts Title (default 'Direct logit attribution'), axis titles, `horizontal` (default: more than 24 components).
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} if the lengths differ.
 * @example writeDlaBarChart('results/analysis/dla.html', dla.labels, dla.mean);
 * @category Viz
 */
export function writeDlaBarChart(
  outPath: string,
  labels: readonly string[],
  values: readonly number[],
  opts: Partial<ChartOptions> & { readonly horizontal?: boolean } = {},
): string {
  const horizontal = opts.horizontal ?? labels.length > 24;
  return writeBarChart(outPath, labels, [{ name: 'attribution', values }], {
    title: 'Direct logit attribution',
    ...(horizontal ? { xLabel: 'logit attribution', yLabel: 'component' } : { xLabel: 'component', yLabel: 'logit attribution' }),
    ...opts,
    horizontal,
  });
}
