/**
 * SAE training curves (cf. SAELens' wandb panels): one panel per quantity, each on its own titled y
 * axis — reconstruction and total loss (log scale, ticks as full numbers), L0 (active latents per
 * token), explained variance (fixed [0, 1] unless it goes below 0) and dead latents — so quantities
 * in different units never share an axis.
 */
import { ShapeError } from '../errors.js';
import type { SaeStepMetrics } from '../sae/train.js';
import { writeLinePanels, type LinePanel } from './charts.js';
import type { PageOptions } from './html.js';

/**
 * Write the training curves of an SAE run.
 * @param outPath Destination `.html`.
 * @param history Per-step metrics (`trainSae(...).history`, or rows of its metrics.jsonl).
 * @param opts Page title (required), description, plotly mode.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for an empty history.
 * @example writeSaeTrainingCurves('results/sae/m/hook/training_curves.html', r.history, { title: 'SAE training: m hook' });
 * @category Viz
 */
export function writeSaeTrainingCurves(outPath: string, history: readonly SaeStepMetrics[], opts: PageOptions): string {
  if (history.length === 0) throw new ShapeError('writeSaeTrainingCurves: empty history');
  const x = history.map((m) => m.step);
  const line = (name: string, y: number[]): { name: string; x: number[]; y: number[] } => ({ name, x, y });
  const ev = history.map((m) => m.explainedVariance);
  const panels: LinePanel[] = [
    {
      title: 'Loss (log scale)',
      yLabel: 'loss per token',
      series: [line('MSE (Σ_d (x − x̂)²)', history.map((m) => m.mseLoss)), line('total (MSE + sparsity + aux)', history.map((m) => m.loss))],
      logY: true,
    },
    { title: 'L0: active latents per token', yLabel: 'latents', series: [line('L0', history.map((m) => m.l0))], fromZero: true },
    { title: 'Explained variance of the batch', yLabel: 'fraction', series: [line('explained variance', ev)], yRange: [Math.min(0, ...ev), 1] },
    { title: 'Dead latents', yLabel: 'latents', series: [line('dead latents', history.map((m) => m.deadFeatures))], fromZero: true },
  ];
  return writeLinePanels(outPath, panels, { ...opts, xLabel: 'training step' });
}
