/** Text → tokens: one chip per token with its position and id. */
import { fill, h, showTok } from '../dom.js';

/** Render the token chips. */
export function renderTokens(container: HTMLElement, tokens: readonly string[], ids: readonly number[]): void {
  const chips = tokens.map((t, i) =>
    h('span', { class: 'chip', title: `position ${i}, id ${ids[i] ?? '?'}`, 'data-id': String(ids[i] ?? '') }, h('sub', {}, String(i)), showTok(t), h('sup', {}, String(ids[i] ?? ''))),
  );
  fill(container, h('div', { class: 'chips' }, ...chips), h('p', { class: 'caption' }, `${tokens.length} tokens (subscript: position, superscript: token id).`));
}
