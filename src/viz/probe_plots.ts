/**
 * Plots of the β-VAE probe benchmarks, as self-contained Plotly pages over plain arrays: the 2-D
 * (UMAP) latent map, the training history (reconstruction, KL, β), score histograms of normal vs
 * anomalous samples with the threshold, and ROC / precision–recall curves of several detectors.
 */
import { ShapeError } from '../errors.js';
import { prCurve, rocCurve, type BinaryLabels } from '../probe/metrics.js';
import type { VaeEpochRecord } from '../probe/vae_train.js';
import { chartLayout, type ChartOptions } from './charts.js';
import { writePlotlyPage, type PageOptions, type PlotlyFigure, type PlotlyJson } from './html.js';

const COLORS = { normal: '#2ca02c', anomaly: '#d62728' };

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
export function writeLatentMap(outPath: string, xy: readonly (readonly number[])[], labels: BinaryLabels, opts: PageOptions & { hover?: readonly string[] } = {}): string {
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
  return writePlotlyPage(outPath, { data, layout: chartLayout({ xLabel: 'UMAP 1', yLabel: 'UMAP 2' }), height: 640 }, opts);
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
export function writeVaeHistory(outPath: string, history: readonly VaeEpochRecord[], opts: PageOptions = {}): string {
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
      ...chartLayout({ title: 'Reconstruction and KL per epoch', xLabel: 'epoch', yLabel: 'reconstruction (SSE per sample)' }),
      yaxis2: { title: { text: 'KL per sample' }, overlaying: 'y', side: 'right' },
    },
  };
  const beta: PlotlyFigure = { data: [line('β', history.map((r) => r.beta)), line('loss', history.map((r) => r.loss), { yaxis: 'y2' })], layout: { ...chartLayout({ title: 'β schedule and training loss', xLabel: 'epoch', yLabel: 'β' }), yaxis2: { title: { text: 'recon + β·KL' }, overlaying: 'y', side: 'right' } }, height: 380 };
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
    layout: { ...chartLayout({ title: opts.title, xLabel, yLabel: 'density' }), barmode: 'overlay', shapes },
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
  opts: PageOptions = {},
): string {
  if (panels.length === 0) throw new ShapeError('writeScoreHistograms: need at least one panel');
  return writePlotlyPage(outPath, panels.map((p) => scoreHistogramFigure(p.normal, p.anomaly, { ...p, height: panels.length > 2 ? 340 : 420 })), opts);
}

/**
 * ROC and precision–recall curves of several detectors (two figures on one page).
 * @param outPath Destination `.html`.
 * @param curves `{ name, scores, labels }` per detector (each may score a different subset).
 * @param opts Page title, description.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for no curves; {@link "tfjs-lens"!DatasetError} for a one-class subset.
 * @example writeRocPr('results/probe/sms_spam/roc_pr.html', [{ name: 'VAE (AUROC 0.91)', scores, labels }]);
 * @category Viz
 */
export function writeRocPr(outPath: string, curves: readonly { name: string; scores: readonly number[]; labels: BinaryLabels }[], opts: PageOptions & ChartOptions = {}): string {
  if (curves.length === 0) throw new ShapeError('writeRocPr: need at least one curve');
  const roc = curves.map((c) => {
    const { fpr, tpr } = rocCurve(c.scores, c.labels);
    return { type: 'scatter', mode: 'lines', name: c.name, x: fpr, y: tpr, line: { shape: 'hv' } };
  });
  const pr = curves.map((c) => {
    const { recall, precision } = prCurve(c.scores, c.labels);
    return { type: 'scatter', mode: 'lines', name: c.name, x: recall, y: precision, line: { shape: 'vh' } };
  });
  const diag = { type: 'scatter', mode: 'lines', name: 'chance', x: [0, 1], y: [0, 1], line: { dash: 'dot', color: 'gray' } };
  const square = { xaxis: { title: { text: '' }, range: [0, 1] }, yaxis: { title: { text: '' }, range: [0, 1.02] } };
  const lay = (title: string, xl: string, yl: string): PlotlyJson => ({
    ...chartLayout({ title }),
    xaxis: { ...square.xaxis, title: { text: xl } },
    yaxis: { ...square.yaxis, title: { text: yl } },
  });
  return writePlotlyPage(outPath, [
    { data: [...roc, diag], layout: lay('ROC', 'false-positive rate', 'true-positive rate'), height: 600 },
    { data: pr, layout: lay('Precision–recall', 'recall', 'precision'), height: 600 },
  ], opts);
}
