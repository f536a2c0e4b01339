/**
 * Activation patching view: a clean and a corrupted prompt (same length), two answer tokens, and
 * the layer × position heatmap of the logit difference after patching the clean residual stream
 * (`blocks.L.hook_resid_pre` at one position) into the corrupted run. Diverging scale around 0.
 */
import type { PatchResult } from '../compute.js';
import { fill, h, showTok } from '../dom.js';
import { heatmap } from '../heatmap.js';

/** The form's fields. */
export interface PatchForm {
  readonly clean: HTMLInputElement;
  readonly corrupted: HTMLInputElement;
  readonly correct: HTMLInputElement;
  readonly incorrect: HTMLInputElement;
  readonly button: HTMLButtonElement;
  readonly out: HTMLDivElement;
  /** Show the inputs (decoders) or hide them (encoders). */
  readonly enable: (on: boolean) => void;
}

/** Build the form (values filled by the caller). */
export function renderPatchForm(container: HTMLElement): PatchForm {
  const input = (id: string, label: string, size: string): [HTMLLabelElement, HTMLInputElement] => {
    const i = h('input', { id, type: 'text', size, spellcheck: 'false' });
    return [h('label', { for: id }, label, i), i];
  };
  const [lc, clean] = input('patch-clean', 'Clean prompt', '60');
  const [lx, corrupted] = input('patch-corrupted', 'Corrupted prompt', '60');
  const [la, correct] = input('patch-correct', 'Answer A (correct)', '12');
  const [lb, incorrect] = input('patch-incorrect', 'Answer B (incorrect)', '12');
  const button = h('button', { id: 'patch-run', type: 'button' }, 'Patch');
  const out = h('div', { class: 'plot', id: 'patch-plot' });
  const grid = h('div', { class: 'form-grid' }, lc, lx);
  const row = h('div', { class: 'controls' }, la, lb, button, h('span', { class: 'hint' }, 'answers: one token (leading space matters) or #id; empty = from the prompts'));
  fill(container, grid, row, out);
  const enable = (on: boolean): void => {
    grid.hidden = !on;
    row.hidden = !on;
  };
  return { clean, corrupted, correct, incorrect, button, out, enable };
}

/** Draw a patching result. */
export function renderPatchResult(out: HTMLElement, r: PatchResult, decode: (id: number) => string): void {
  const a = showTok(decode(r.correct));
  const b = showTok(decode(r.incorrect));
  const m = Math.max(...r.values.flat().map(Math.abs));
  const digits = m >= 10 ? 1 : m >= 1 ? 2 : 3;
  const svg = heatmap({
    values: r.values,
    rowLabels: r.values.map((_, l) => `layer ${l}`),
    colLabels: r.tokens.map((t, i) => `${t} ${i}`),
    xTitle: 'position (clean token)',
    yTitle: 'patched blocks.L.hook_resid_pre',
    scale: 'div',
    legendTitle: `logit(${a})−logit(${b})`,
    cell: 30,
    cellW: digits === 3 ? 42 : 36,
    cellText: (_r, _c, v) => v.toFixed(digits).replace(/^-0\.0+$/, '0'),
    hover: (l, p, v) => `patch blocks.${l}.hook_resid_pre at position ${p} (${showTok(r.tokens[p] ?? '')}): logit diff ${v.toFixed(4)}`,
  });
  fill(
    out,
    h(
      'p',
      { class: 'caption' },
      `Metric: logit("${a}", #${r.correct}) − logit("${b}", #${r.incorrect}) at the last position. `,
      `Clean run ${r.cleanMetric.toFixed(3)}, corrupted run ${r.corruptedMetric.toFixed(3)}; each cell is the corrupted run with the clean residual stream patched in at one layer and position.`,
    ),
    svg,
  );
}
