/**
 * The rules every written figure obeys, checked before a page is written: a title, a title on every
 * axis a trace is drawn on, and for heatmaps a fixed colour range (zmin/zmax, or cmin/cmax of the
 * shared colour axis) and a titled colour bar. A figure that breaks one throws a ConfigError naming
 * the figure and the missing part, so no page can auto-scale its colours or leave an axis unnamed.
 */
import { ConfigError } from '../errors.js';
import type { PlotlyFigure, PlotlyJson } from './plotly_types.js';

/** Trace types drawn on x/y axes (the ones whose axes must be titled). */
const CARTESIAN = new Set(['scatter', 'scattergl', 'bar', 'histogram', 'heatmap', 'box', 'violin']);

const obj = (v: unknown): PlotlyJson | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as PlotlyJson) : undefined);

/**
 * The text of a Plotly title field (`'text'` or `{ text: 'text' }`).
 * @param t The title field.
 * @returns The text, or '' when absent.
 * @throws Never.
 * @example titleText({ text: 'Loss' })  // 'Loss'
 * @category Viz
 */
export function titleText(t: unknown): string {
  if (typeof t === 'string') return t.trim();
  const text = obj(t)?.['text'];
  return typeof text === 'string' ? text.trim() : '';
}

/** Layout key of an axis id: 'x' → 'xaxis', 'y3' → 'yaxis3'. */
const axisKey = (id: string): string => `${id[0]}axis${id.slice(1)}`;

function checkHeatmap(trace: PlotlyJson, layout: PlotlyJson, where: string): void {
  const axisId = typeof trace['coloraxis'] === 'string' ? trace['coloraxis'] : undefined;
  const axis = axisId === undefined ? undefined : obj(layout[axisId]);
  const [lo, hi] = axis === undefined ? [trace['zmin'], trace['zmax']] : [axis['cmin'], axis['cmax']];
  if (typeof lo !== 'number' || typeof hi !== 'number' || !(hi > lo)) {
    throw new ConfigError(`${where}: a heatmap's colour range is not fixed (zmin/zmax or the colour axis' cmin/cmax) — give the quantity's range, e.g. [0, 1] for scores or ±max for signed values`);
  }
  const bar = axis === undefined ? obj(trace['colorbar']) : obj(axis['colorbar']);
  if (trace['showscale'] !== false && titleText(bar?.['title']) === '') {
    throw new ConfigError(`${where}: a heatmap's colour bar has no title — name the quantity (zLabel)`);
  }
}

/**
 * Check one figure: a title, titled axes under every cartesian trace, fixed and titled heatmap
 * colour scales.
 * @param fig The figure.
 * @param where Prefix for messages (`fn: figure 0`).
 * @returns Nothing.
 * @throws {@link "tfjs-lens"!ConfigError} naming the first missing part.
 * @example checkFigure({ data: [], layout: { title: { text: 'Loss' } } }, 'f: figure 0');
 * @category Viz
 */
export function checkFigure(fig: PlotlyFigure, where: string): void {
  const layout = fig.layout ?? {};
  const title = titleText(layout['title']);
  if (title === '') throw new ConfigError(`${where} has no title — give every figure a title (layout.title.text)`);
  const named = `${where} ('${title}')`;
  for (const trace of fig.data) {
    const type = typeof trace['type'] === 'string' ? trace['type'] : 'scatter';
    if (!CARTESIAN.has(type)) continue;
    for (const dim of ['x', 'y'] as const) {
      const id = typeof trace[`${dim}axis`] === 'string' ? (trace[`${dim}axis`] as string) : dim;
      if (titleText(obj(layout[axisKey(id)])?.['title']) === '') {
        throw new ConfigError(`${named}: the ${dim} axis '${axisKey(id)}' has no title — pass ${dim}Label (or layout.${axisKey(id)}.title.text)`);
      }
    }
    if (type === 'heatmap') checkHeatmap(trace, layout, named);
  }
}
