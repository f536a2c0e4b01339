/**
 * A self-contained HTML page of SAE feature contexts (no scripts or external assets): per latent,
 * its density and top-activating contexts, each token shaded by the latent's activation (the
 * max token outlined), with the exact value in the tooltip.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsError } from '../io/safetensors.js';
import type { FeatureExample } from './features.js';

/** Options of {@link featureDashboardHtml}. @category SAE */
export interface FeatureDashboardOptions {
  /** Page title. */
  readonly title?: string;
  /** Token id → display text (default: the id in brackets). */
  readonly decode?: (id: number) => string;
  /** Firing frequency per latent, shown in each header. */
  readonly density?: ArrayLike<number>;
  /** Free text under the title (e.g. the SAE's folder and metrics). */
  readonly subtitle?: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function showToken(text: string): string {
  return esc(text.replace(/\n/g, '↵').replace(/ /g, '\u00a0'));
}

function exampleHtml(ex: FeatureExample, max: number, decode: (id: number) => string): string {
  const spans = ex.tokens.map((t, i) => {
    const a = ex.acts[i] ?? 0;
    const alpha = max > 0 ? Math.max(0, Math.min(1, a / max)) : 0;
    const cls = i === ex.center ? ' class="max"' : '';
    return `<span${cls} style="background:rgba(255,120,0,${alpha.toFixed(3)})" title="${esc(`${decode(t)} (id ${t}): ${a.toFixed(4)}`)}">${showToken(decode(t))}</span>`;
  });
  return `<div class="ex"><span class="act">${ex.activation.toFixed(3)}</span> <span class="meta">row ${ex.row}, pos ${ex.pos}</span><div class="toks">${spans.join('')}</div></div>`;
}

/**
 * Render top-activating contexts as one HTML page.
 * @param contexts Latent → examples (from {@link topActivatingContexts}).
 * @param opts Title, token decoder, densities, subtitle.
 * @returns The HTML document.
 * @example const html = featureDashboardHtml(ctx, { decode: (id) => tokenizer.decodeToken(id) });
 * @throws Never.
 * @category SAE
 */
export function featureDashboardHtml(contexts: Map<number, FeatureExample[]>, opts: FeatureDashboardOptions = {}): string {
  const decode = opts.decode ?? ((id: number) => `[${id}]`);
  const title = opts.title ?? 'SAE feature contexts';
  const sections = [...contexts.entries()].map(([f, exs]) => {
    const max = exs[0]?.activation ?? 0;
    const d = opts.density?.[f];
    const dens = d === undefined ? '' : ` · density ${(d as number).toExponential(2)}`;
    const body = exs.length === 0 ? '<p class="meta">never fired on this data</p>' : exs.map((e) => exampleHtml(e, max, decode)).join('\n');
    return `<section id="f${f}"><h2>Feature ${f}<span class="meta"> · max ${max.toFixed(3)}${dens}</span></h2>\n${body}</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
h2{font-size:1.05em;margin:1.4em 0 .4em;border-bottom:1px solid #ddd}
.meta{color:#888;font-weight:normal;font-size:.85em}
.ex{margin:.25em 0;font-size:.9em}
.act{display:inline-block;width:4.5em;text-align:right;font-variant-numeric:tabular-nums;color:#a40}
.toks{display:inline;font-family:ui-monospace,monospace;margin-left:.6em}
.toks span{padding:1px 0;border-radius:2px}
.toks span.max{outline:1px solid #a40}
</style></head><body>
<h1>${esc(title)}</h1>
${opts.subtitle !== undefined ? `<p class="meta">${esc(opts.subtitle)}</p>` : ''}
${sections.join('\n')}
</body></html>
`;
}

/**
 * Write the page to a file (folders created).
 * @param path Output .html path.
 * @param contexts Latent → examples.
 * @param opts As {@link featureDashboardHtml}.
 * @returns The path.
 * @throws {@link "tfjs-lens"!WeightLoadError} on I/O errors.
 * @example await writeFeatureDashboard('results/sae/features.html', ctx);
 * @category SAE
 */
export async function writeFeatureDashboard(path: string, contexts: Map<number, FeatureExample[]>, opts: FeatureDashboardOptions = {}): Promise<string> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, featureDashboardHtml(contexts, opts));
  } catch (err) {
    throw fsError('writeFeatureDashboard', path, err);
  }
  return path;
}
