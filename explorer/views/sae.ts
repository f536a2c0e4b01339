/**
 * SAE feature activations per token with a shipped SAE: a heatmap of the strongest features over
 * the text (feature × token) and each token's top features.
 */
import type { SaeResult } from '../compute.js';
import { fill, h, showTok } from '../dom.js';
import { heatmap } from '../heatmap.js';

/** Draw an SAE result. */
export function renderSae(container: HTMLElement, r: SaeResult, saeLabel: string, dashboard?: string): void {
  const parts: (Node | string)[] = [
    h(
      'p',
      { class: 'caption' },
      `${saeLabel} at ${r.hook}: the ${r.features.length} features with the highest activation on this text (hover for values); L0 per token ${Math.min(...r.l0)}–${Math.max(...r.l0)}.`,
      ...(dashboard === undefined ? [] : [' ', h('a', { href: dashboard, target: '_blank', rel: 'noopener' }, 'Feature dashboard (top contexts of each feature)')]),
    ),
  ];
  if (r.features.length > 0) {
    parts.push(
      heatmap({
        values: r.grid,
        rowLabels: r.features.map((f) => `#${f}`),
        colLabels: r.tokens.map((t, i) => `${t} ${i}`),
        xTitle: 'token',
        yTitle: 'SAE feature id',
        scale: 'seq',
        vmin: 0,
        legendTitle: 'activation',
        cell: 20,
        hover: (f, p, v) => `feature ${r.features[f]} on ${showTok(r.tokens[p] ?? '')} (${p}): ${v.toFixed(4)}`,
      }),
    );
  }
  const rows = r.tokens.map((t, p) =>
    h(
      'tr',
      {},
      h('td', { class: 'num' }, String(p)),
      h('td', {}, h('span', { class: 'chip' }, showTok(t))),
      h('td', { class: 'num' }, String(r.l0[p] ?? 0)),
      h('td', {}, ...(r.perToken[p] ?? []).map((f) => h('span', { class: 'feat', title: `activation ${f.act.toFixed(4)}` }, `#${f.id} `, h('b', {}, f.act.toFixed(2))))),
    ),
  );
  parts.push(h('table', { class: 'preds' }, h('thead', {}, h('tr', {}, h('th', {}, 'pos'), h('th', {}, 'token'), h('th', {}, 'L0'), h('th', {}, 'top features (activation)'))), h('tbody', {}, ...rows)));
  fill(container, ...parts);
}
