/**
 * Plots of the β-VAE probe benchmarks, as Plotly pages over plain arrays: the 2-D (UMAP) latent
 * map, the training history (reconstruction, KL, β), score histograms of normal vs anomalous
 * samples with the threshold, and ROC / precision–recall curves of several detectors (each legend
 * entry carries the metric of its own curve: AUROC on the ROC plot, average precision on the PR plot).
 */
import { ShapeError } from '../errors.js';
import { averagePrecision, prCurve, rocAuc, rocCurve, type BinaryLabels } from '../probe/metrics.js';
import type { VaeEpochRecord } from '../probe/vae_train.js';
import { chartLayout } from './charts.js';
import { writePlotlyPage, type PageOptions, type PlotlyFigure, type PlotlyJson } from './html.js';

const COLORS = { normal: '#2ca02c', anomaly: '#d62728' };
/** A right-hand y axis whose ticks and title get room (automargin), so nothing is clipped; round ticks of its own ('auto', not synced to the left grid). */
const RIGHT_AXIS = (title: string): PlotlyJson => ({ title: { text: title }, overlaying: 'y', side: 'right', automargin: true, showgrid: false, tickmode: 'auto' });
/** Legend under the plot, clear of a right-hand axis. */
const LEGEND_BELOW = { orientation: 'h', x: 0, xanchor: 'left', y: -0.22, yanchor: 'top' };

/**
 * Scatter of 2-D latent coordinates coloured by class.
 * @param outPath Destination `.html`.
 * @param xy Coordinates [n][2] (e.g. from `umapEmbed`).
 * @param labels 1 = anomaly, per point.
 * @param opts Title, description, hover text per point.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} if lengths differ or a point is not 2-D.
 * @example writeLatentMap('results/probe/sms_spam/latent_umap.html', xy, labels, { title: 'UMAP of the VAE latent' });
 * @category Viz
 */
export function writeLatentMap(outPath: string, xy: readonly (readonly number[])[], labels: BinaryLabels, opts: PageOptions & { hover?: readonly string[] }): string {
  if (xy.length !== labels.length || xy.some((p) => p.length !== 2) || (opts.hover !== undefined && opts.hover.length !== xy.length)) {
    throw new ShapeError(`writeLatentMap: need one 2-D point and one label per sample (got ${xy.length} points, ${labels.length} labels)`);
  }
  const data = ([0, 1] as const).map((cls) => {
    const idx = labels.map((y, i) => (y === cls ? i : -1)).filter((i) => i >= 0);
    return {
      type: 'scatter',
      mode: 'markers',
      name: cls === 1 ? 'anomaly' : 'normal',
      x: idx.map((i) => xy[i]?.[0]),
      y: idx.map((i) => xy[i]?.[1]),
      marker: { size: 6, opacity: 0.7, color: cls === 1 ? COLORS.anomaly : COLORS.normal, symbol: cls === 1 ? 'x' : 'circle' },
      ...(opts.hover === undefined ? {} : { text: idx.map((i) => opts.hover?.[i]), hovertemplate: '%{text}<extra>%{fullData.name}</extra>' }),
    };
  });
  return writePlotlyPage(outPath, { data, layout: chartLayout({ xLabel: 'UMAP 1 (arbitrary units)', yLabel: 'UMAP 2 (arbitrary units)' }), height: 640 }, opts);
}

/**
 * Training curves of the VAE: reconstruction and KL (train and validation) per epoch, and β.
 * @param outPath Destination `.html`.
 * @param history One record per epoch.
 * @param opts Title, description.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for an empty history.
 * @example writeVaeHistory('results/probe/sms_spam/history.html', result.training.history);
 * @category Viz
 */
export function writeVaeHistory(outPath: string, history: readonly VaeEpochRecord[], opts: PageOptions): string {
  if (history.length === 0) throw new ShapeError('writeVaeHistory: empty history');
  const x = history.map((r) => r.epoch);
  const line = (name: string, y: number[], extra: PlotlyJson = {}): PlotlyJson => ({ type: 'scatter', mode: 'lines', name, x, y: y.map((v) => (Number.isFinite(v) ? v : null)), ...extra });
  const losses: PlotlyFigure = {
    data: [
      line('train recon', history.map((r) => r.recon)),
      line('val recon (z = μ)', history.map((r) => r.valRecon), { line: { dash: 'dot' } }),
      line('train KL', history.map((r) => r.kl), { yaxis: 'y2' }),
      line('val KL', history.map((r) => r.valKl), { yaxis: 'y2', line: { dash: 'dot' } }),
    ],
    layout: {
      ...chartLayout({ title: 'Reconstruction (left axis) and KL (right axis) per epoch', xLabel: 'epoch', yLabel: 'reconstruction (SSE per sample)' }),
      yaxis2: RIGHT_AXIS('KL per sample (nats)'),
      legend: LEGEND_BELOW,
    },
  };
  const beta: PlotlyFigure = {
    data: [line('β', history.map((r) => r.beta)), line('loss', history.map((r) => r.loss), { yaxis: 'y2' })],
    layout: { ...chartLayout({ title: 'β schedule (left axis) and training loss (right axis)', xLabel: 'epoch', yLabel: 'β (KL weight)' }), yaxis2: RIGHT_AXIS('loss: recon + β·KL per sample'), legend: LEGEND_BELOW },
    height: 400,
  };
  return writePlotlyPage(outPath, [losses, beta], opts);
}

/**
 * One histogram figure of normal vs anomalous scores, with an optional threshold line.
 * @param normal Scores of normal samples.
 * @param anomaly Scores of anomalies.
 * @param opts Figure title, x label, threshold, height.
 * @returns The figure.
 * @throws {@link "tfjs-lens"!ShapeError} if a class has no scores.
 * @example writePlotlyPage('h.html', [scoreHistogramFigure(a, b, { threshold: 0.4 })]);
 * @category Viz
 */
function scoreHistogramFigure(
  normal: readonly number[],
  anomaly: readonly number[],
  opts: { title?: string; xLabel?: string; threshold?: number; height?: number; logX?: boolean } = {},
): PlotlyFigure {
  if (normal.length === 0 || anomaly.length === 0) throw new ShapeError('scoreHistogramFigure: need scores of both classes');
  const t = (v: readonly number[]): number[] => (opts.logX === true ? v.map((s) => Math.log10(Math.max(s, 1e-12))) : [...v]);
  // Shared bins, so the two classes' bars line up.
  const all = [...t(normal), ...t(anomaly)];
  const [lo, hi] = [Math.min(...all), Math.max(...all)];
  const size = hi > lo ? (hi - lo) / 40 : 1;
  const xbins = { start: lo - size / 2, end: hi + size / 2, size };
  const hist = (name: string, v: readonly number[], color: string): PlotlyJson => ({ type: 'histogram', name: `${name} (n=${v.length})`, x: t(v), opacity: 0.6, histnorm: 'probability density', marker: { color }, xbins, autobinx: false });
  const shapes = opts.threshold === undefined || !Number.isFinite(opts.threshold) ? [] : [{ type: 'line', x0: t([opts.threshold])[0], x1: t([opts.threshold])[0], yref: 'paper', y0: 0, y1: 1, line: { dash: 'dash', color: 'black' } }];
  const xLabel = `${opts.logX === true ? 'log10 ' : ''}${opts.xLabel ?? 'score'}`;
  return {
    data: [hist('normal', normal, COLORS.normal), hist('anomaly', anomaly, COLORS.anomaly)],
    layout: { ...chartLayout({ ...(opts.title === undefined ? {} : { title: opts.title }), xLabel, yLabel: 'probability density' }), barmode: 'overlay', shapes },
    height: opts.height ?? 420,
  };
}

/**
 * Several score histograms (normal vs anomaly) on one page.
 * @param outPath Destination `.html`.
 * @param panels One entry per histogram.
 * @param opts Page title, description.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for no panels or a panel missing a class.
 * @example writeScoreHistograms('results/probe/errors.html', [{ title: 'VAE', normal: a, anomaly: b, threshold: t }]);
 * @category Viz
 */
export function writeScoreHistograms(
  outPath: string,
  panels: readonly { title: string; normal: readonly number[]; anomaly: readonly number[]; threshold?: number; xLabel?: string; logX?: boolean }[],
  opts: PageOptions,
): string {
  if (panels.length === 0) throw new ShapeError('writeScoreHistograms: need at least one panel');
  return writePlotlyPage(outPath, panels.map((p) => scoreHistogramFigure(p.normal, p.anomaly, { ...p, height: panels.length > 2 ? 340 : 420 })), opts);
}

/**
 * ROC and precision–recall curves of several detectors (two figures on one page). Each legend
 * entry is the detector's name with the metric of that plot, computed here: AUROC on the ROC plot,
 * average precision (AP) on the PR plot, whose chance level (the anomaly fraction) is drawn too.
 * @param outPath Destination `.html`.
 * @param curves `{ name, scores, labels }` per detector (each may score a different subset); the
 *   name should not carry a metric.
 * @param opts Page title, description.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for no curves; {@link "tfjs-lens"!DatasetError} for a one-class subset.
 * @example writeRocPr('results/probe/sms_spam/roc_pr.html', [{ name: 'VAE', scores, labels }], { title: 'ROC and PR curves' });
 * @category Viz
 */
export function writeRocPr(outPath: string, curves: readonly { name: string; scores: readonly number[]; labels: BinaryLabels }[], opts: PageOptions): string {
  if (curves.length === 0) throw new ShapeError('writeRocPr: need at least one curve');
  const roc = curves.map((c) => {
    const { fpr, tpr } = rocCurve(c.scores, c.labels);
    return { type: 'scatter', mode: 'lines', name: `${c.name} (AUROC ${rocAuc(c.scores, c.labels).toFixed(3)})`, x: fpr, y: tpr, line: { shape: 'hv' } };
  });
  const pr = curves.map((c) => {
    const { recall, precision } = prCurve(c.scores, c.labels);
    return { type: 'scatter', mode: 'lines', name: `${c.name} (AP ${averagePrecision(c.scores, c.labels).toFixed(3)})`, x: recall, y: precision, line: { shape: 'vh' } };
  });
  const first = curves[0] as (typeof curves)[number];
  const base = first.labels.filter((y) => y === 1).length / Math.max(1, first.labels.length);
  const prChance = { type: 'scatter', mode: 'lines', name: `chance (AP ${base.toFixed(3)})`, x: [0, 1], y: [base, base], line: { dash: 'dot', color: 'gray' } };
  const diag = { type: 'scatter', mode: 'lines', name: 'chance (AUROC 0.500)', x: [0, 1], y: [0, 1], line: { dash: 'dot', color: 'gray' } };
  const square = { xaxis: { title: { text: '' }, range: [0, 1] }, yaxis: { title: { text: '' }, range: [0, 1.02] } };
  const lay = (title: string, xl: string, yl: string): PlotlyJson => ({
    ...chartLayout({ title, xLabel: xl, yLabel: yl }),
    xaxis: { ...square.xaxis, title: { text: xl }, automargin: true },
    yaxis: { ...square.yaxis, title: { text: yl }, automargin: true },
  });
  return writePlotlyPage(outPath, [
    { data: [...roc, diag], layout: lay('ROC (legend: area under the curve)', 'false-positive rate', 'true-positive rate'), height: 600 },
    { data: [...pr, prChance], layout: lay('Precision–recall (legend: average precision)', 'recall', 'precision'), height: 600 },
  ], opts);
}
