/**
 * Attention patterns per layer and head: pick a layer and a head; the heatmap shows the weight of
 * each query (destination, rows) on each key (source, columns); hover shows the weight. Causal
 * models grey out the future positions they cannot attend to. The colour scale is fixed to [0, 1].
 */
import { fill, h, showTok } from '../dom.js';
import { heatmap } from '../heatmap.js';

/** Patterns [layer][head][query][key] and the tokens they are over. */
export interface AttentionData {
  readonly patterns: readonly (readonly (readonly (readonly number[])[])[])[];
  readonly tokens: readonly string[];
  readonly causal: boolean;
}

/** Render the layer/head pickers and the selected head's heatmap. */
export function renderAttention(container: HTMLElement, data: AttentionData, sel = { layer: 0, head: 0 }): void {
  const nLayers = data.patterns.length;
  const nHeads = data.patterns[0]?.length ?? 0;
  const layerSel = h('select', { id: 'attn-layer', 'aria-label': 'layer' }, ...Array.from({ length: nLayers }, (_, l) => h('option', { value: String(l) }, `layer ${l}`)));
  const headSel = h('select', { id: 'attn-head', 'aria-label': 'head' }, ...Array.from({ length: nHeads }, (_, i) => h('option', { value: String(i) }, `head ${i}`)));
  layerSel.value = String(sel.layer);
  headSel.value = String(sel.head);
  const plot = h('div', { class: 'plot', id: 'attn-plot' });
  const draw = (): void => {
    const layer = Number(layerSel.value);
    const head = Number(headSel.value);
    const values = data.patterns[layer]?.[head] ?? [];
    const tok = data.tokens.map((t, i) => `${showTok(t)} (${i})`);
    const svg = heatmap({
      values,
      rowLabels: data.tokens,
      colLabels: data.tokens,
      xTitle: 'key (source) token',
      yTitle: 'query (destination) token',
      scale: 'seq',
      vmin: 0,
      vmax: 1,
      legendTitle: 'attention',
      cell: data.tokens.length > 24 ? 16 : 22,
      masked: data.causal ? (r, c) => c > r : undefined,
      hover: (r, c, v) => `L${layer}H${head}: ${tok[r]} → ${tok[c]}: ${v.toFixed(4)}`,
    });
    fill(plot, h('p', { class: 'caption' }, `blocks.${layer}.attn.hook_pattern, head ${head}: each row sums to 1.`), svg);
  };
  layerSel.addEventListener('change', draw);
  headSel.addEventListener('change', draw);
  fill(container, h('div', { class: 'controls' }, h('label', {}, 'Layer ', layerSel), h('label', {}, 'Head ', headSel)), plot);
  draw();
}
