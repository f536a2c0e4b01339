/**
 * The probe's anomaly score for the text, with its token explanation: each token coloured by its
 * contribution to the score (diverging scale: red raises the score, blue lowers it).
 */
import { fill, h, showTok } from '../dom.js';
import { colourScale, inkOn } from '../heatmap.js';
import type { ProbeView } from '../types.js';

/** Draw the score and the coloured tokens. */
export function renderProbe(container: HTMLElement, r: ProbeView): void {
  const { colour, hi } = colourScale({ values: [r.contributions.map((c) => -c)], scale: 'div' });
  const flagged = r.threshold !== undefined && r.score > r.threshold;
  const chips = r.tokens.map((t, i) => {
    const c = r.contributions[i] ?? 0;
    const bg = colour(-c);
    return h('span', { class: 'chip', style: `background:${bg};color:${inkOn(bg)}`, title: `${showTok(t)}: contribution ${c.toFixed(4)}`, 'data-contribution': String(c) }, showTok(t));
  });
  fill(
    container,
    h(
      'p',
      { class: `score ${flagged ? 'flagged' : ''}` },
      `Anomaly score (${r.dataset} probe): `,
      h('b', { id: 'probe-score' }, r.score.toFixed(3)),
      r.threshold === undefined ? '' : ` (threshold ${r.threshold.toFixed(3)}: ${flagged ? 'anomalous' : 'normal'})`,
    ),
    h('div', { class: 'chips' }, ...chips),
    h('p', { class: 'caption' }, `Token explanation (${r.method}): red tokens raise the score, blue ones lower it, white is 0; the colour scale is symmetric, full colour at ±${hi.toPrecision(2)}; hover for values.`),
  );
}
