/** Tiny DOM helpers shared by the views. */

/** Create an element with attributes (strings) and children (nodes or text). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** Replace a container's content. */
export function fill(container: HTMLElement, ...children: (Node | string)[]): void {
  container.replaceChildren(...children);
}

/** A notice paragraph (info or error) shown in place of a view. */
export function notice(text: string, kind: 'info' | 'error' = 'info'): HTMLParagraphElement {
  return h('p', { class: `notice ${kind}` }, text);
}

/** Visible form of a token string (leading space as ·, newline as ⏎). */
export function showTok(s: string): string {
  return s.replace(/\n/g, '⏎').replace(/ /g, '·');
}

/** Format a probability as a percentage. */
export function pct(p: number): string {
  return p >= 0.995 ? '100%' : p < 0.001 ? '<0.1%' : `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`;
}
