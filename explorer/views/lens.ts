/**
 * Logit lens (the top token and its probability at each layer × position, read off the accumulated
 * residual stream through ln_final and the unembedding) and the model's top next-token predictions
 * per position. Decoders only.
 */
import { fill, h, pct, showTok } from '../dom.js';
import { heatmap } from '../heatmap.js';
import type { LensData, TopToken } from '../types.js';

/** Render the logit-lens heatmap (colour = probability of the top token, text = the token). */
export function renderLogitLens(container: HTMLElement, lens: LensData, tokens: readonly string[]): void {
  const values = lens.top.map((row) => row.map((t) => t.prob));
  const svg = heatmap({
    values,
    rowLabels: lens.labels,
    colLabels: tokens.map((t, i) => `${t} ${i}`),
    xTitle: 'position (input token)',
    yTitle: 'residual stream (layer)',
    scale: 'seq',
    vmin: 0,
    vmax: 1,
    legendTitle: 'top-1 prob',
    cell: 26,
    cellW: 58,
    cellText: (r, c) => showTok(lens.top[r]?.[c]?.token ?? '').slice(0, 7),
    hover: (r, c) => {
      const t = lens.top[r]?.[c];
      return `${lens.labels[r]} at position ${c} (${showTok(tokens[c] ?? '')}): top "${showTok(t?.token ?? '')}" (id ${t?.id}) p=${(t?.prob ?? 0).toFixed(4)}`;
    },
  });
  fill(container, h('p', { class: 'caption' }, 'Each cell: the most likely next token if the model stopped at that layer (accumulated residual stream → ln_final → W_U), coloured by its probability.'), svg);
}

/** Render the top-k next-token predictions at each position as a table. */
export function renderTopPredictions(container: HTMLElement, preds: readonly (readonly TopToken[])[], tokens: readonly string[]): void {
  const k = preds[0]?.length ?? 0;
  const head = h('tr', {}, h('th', {}, 'pos'), h('th', {}, 'input token'), ...Array.from({ length: k }, (_, i) => h('th', {}, `#${i + 1}`)));
  const rows = preds.map((p, pos) =>
    h(
      'tr',
      {},
      h('td', { class: 'num' }, String(pos)),
      h('td', {}, h('span', { class: 'chip' }, showTok(tokens[pos] ?? ''))),
      ...p.map((t) => h('td', { title: `id ${t.id}, p=${t.prob.toFixed(5)}` }, h('span', { class: 'pred', style: `--p:${t.prob}` }, showTok(t.token)), ' ', h('span', { class: 'prob' }, pct(t.prob)))),
    ),
  );
  fill(container, h('table', { class: 'preds' }, h('thead', {}, head), h('tbody', {}, ...rows)));
}
