/**
 * Plotly pages that open offline: plotly.js (the `plotly.js-dist-min` bundle) is either written once
 * as `plotly.min.js` into the output folder and shared by its pages through a relative
 * `<script src>` (default), or inlined into a single self-contained page (`plotly: 'inline'`). Every
 * writer takes plain arrays (never tensors), checks each figure (titles, titled axes, fixed colour
 * ranges: `figure_checks.ts`), creates the folder, writes atomically (temp file + rename) and
 * returns the path it wrote.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { ConfigError, ShapeError } from '../errors.js';
import { checkFigure, titleText } from './figure_checks.js';
import type { PageOptions, PlotlyFigure } from './plotly_types.js';

export type { PageOptions, PlotlyFigure, PlotlyJson, PlotlyMode } from './plotly_types.js';

/** File name of the shared plotly.js bundle in an output folder. @category Viz */
export const PLOTLY_FILE = 'plotly.min.js';

let bundle: { path: string; raw: Buffer; sha256: string } | undefined;
let inlineSource: string | undefined;
let tmpCounter = 0;

function plotlyBundle(): { path: string; raw: Buffer; sha256: string } {
  if (bundle !== undefined) return bundle;
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve('plotly.js-dist-min');
  } catch {
    throw new ConfigError("plotlyJs: the 'plotly.js-dist-min' package is not installed (npm install plotly.js-dist-min)");
  }
  const raw = readFileSync(path);
  bundle = { path, raw, sha256: createHash('sha256').update(raw).digest('hex') };
  return bundle;
}

/**
 * The plotly.js bundle's source, read once from `plotly.js-dist-min` (resolved from this module, so
 * it works from `src/` and `dist/`), with `</script` escaped for inlining.
 * @returns The minified bundle, safe to inline in a `<script>` element.
 * @throws {@link "tfjs-lens"!ConfigError} if the package is not installed.
 * @example plotlyJs().length  // about 4.8 MB
 * @category Viz
 */
export function plotlyJs(): string {
  inlineSource ??= plotlyBundle().raw.toString('utf8').replace(/<\/script/gi, '<\\/script');
  return inlineSource;
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON for a `<script>` body: no `</script>`, no raw U+2028/9; NaN/±Infinity become null. */
function scriptJson(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * Write `text` to `path` atomically: create the folder, write a temp file next to it, rename.
 * @param path Destination.
 * @param text Contents.
 * @returns The absolute path written.
 * @throws Node's file-system errors (the temp file is removed).
 * @example writeFileAtomic('results/a.json', '{}');
 * @category Viz
 */
export function writeFileAtomic(path: string, text: string | Uint8Array): string {
  const out = resolve(path);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.${Date.now()}.${tmpCounter++}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return out;
}

/**
 * Put the shared `plotly.min.js` into a folder: reused when a file with the same SHA-256 is already
 * there, else written atomically (so concurrent writers never leave a partial file).
 * @param dir The folder (created if needed).
 * @returns The absolute path of `dir/plotly.min.js`.
 * @throws {@link "tfjs-lens"!ConfigError} if plotly.js is not installed; Node's file-system errors.
 * @example writeSharedPlotly('results/probe')  // '/…/results/probe/plotly.min.js'
 * @category Viz
 */
export function writeSharedPlotly(dir: string): string {
  const b = plotlyBundle();
  const out = resolve(dir, PLOTLY_FILE);
  if (existsSync(out) && statSync(out).size === b.raw.length && createHash('sha256').update(readFileSync(out)).digest('hex') === b.sha256) {
    return out;
  }
  return writeFileAtomic(out, b.raw);
}

/** The figures with a one-figure page's title filled in, each checked. */
function checkedFigures(figures: readonly PlotlyFigure[], opts: PageOptions, fn: string): PlotlyFigure[] {
  if (figures.length === 0) throw new ShapeError(`${fn}: need at least one figure`);
  if (typeof opts.title !== 'string' || opts.title.trim() === '') {
    throw new ConfigError(`${fn}: the page needs a title (opts.title) that says what is plotted`);
  }
  const out = figures.map((f) =>
    figures.length === 1 && titleText(f.layout?.['title']) === '' ? { ...f, layout: { ...(f.layout ?? {}), title: { text: opts.title } } } : f,
  );
  out.forEach((f, i) => checkFigure(f, `${fn}: figure ${i}`));
  return out;
}

/** The head and body text around the figures: title, description, facts table, warning. */
function pageIntro(opts: PageOptions): string[] {
  const facts = opts.facts ?? [];
  const rows = facts.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return [
    `<h1>${escapeHtml(opts.title)}</h1>`,
    opts.description === undefined ? '' : `<p>${escapeHtml(opts.description)}</p>`,
    opts.warning === undefined ? '' : `<p class="warn" role="alert">${escapeHtml(opts.warning)}</p>`,
    facts.length === 0 ? '' : `<table class="facts">${rows}</table>`,
  ];
}

const STYLE =
  'body{font-family:system-ui,sans-serif;margin:1.5em;} .plot{width:100%;margin-bottom:1.5em;}' +
  ' .warn{border:2px solid #c00;background:#fee;color:#900;padding:.6em .9em;font-weight:600;}' +
  ' table.facts{border-collapse:collapse;margin:.5em 0 1em;} .facts th{text-align:left;padding:.15em 1em .15em 0;color:#555;font-weight:500;} .facts td{padding:.15em 0;}';

/**
 * Build the HTML of a page with one or more Plotly figures (divs `plot-0`, `plot-1` …).
 * @param figures The figures (each needs a title, titled axes and fixed heatmap colour ranges; a
 *   one-figure page lends the figure its title).
 * @param opts Title (required), description, facts, warning.
 * @param plotlySrc Relative URL of a shared `plotly.min.js`; omitted: plotly.js is inlined and the
 *   page is self-contained.
 * @returns The HTML text.
 * @throws {@link "tfjs-lens"!ShapeError} with no figures; {@link "tfjs-lens"!ConfigError} for a
 *   missing page or figure title, an untitled axis, or a heatmap without a fixed colour range.
 * @example const html = plotlyPageHtml([{ data: [{ type: 'scatter', y: [1, 3, 2] }], layout: { xaxis: { title: { text: 'step' } }, yaxis: { title: { text: 'loss' } } } }], { title: 'Loss' });
 * @category Viz
 */
export function plotlyPageHtml(figures: readonly PlotlyFigure[], opts: PageOptions, plotlySrc?: string): string {
  const figs = checkedFigures(figures, opts, 'plotlyPageHtml');
  const divs = figs.map((f, i) => `<div id="plot-${i}" class="plot" style="height:${f.height ?? 520}px"></div>`).join('\n');
  const calls = figs
    .map((f, i) => {
      const config = { responsive: true, displaylogo: false, ...(f.config ?? {}) };
      return `Plotly.newPlot('plot-${i}', ${scriptJson(f.data)}, ${scriptJson(f.layout ?? {})}, ${scriptJson(config)});`;
    })
    .join('\n');
  const missing = `document.body.insertAdjacentHTML('afterbegin', ${scriptJson(`<p class="warn">plotly.js did not load: keep ${plotlySrc ?? PLOTLY_FILE} next to this page.</p>`)});`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(opts.title)}</title>`,
    `<style>${STYLE}</style>`,
    plotlySrc === undefined ? `<script>${plotlyJs()}</script>` : `<script src="${escapeHtml(plotlySrc)}"></script>`,
    '</head><body>',
    ...pageIntro(opts),
    divs,
    `<script>\nif (typeof Plotly === 'undefined') { ${missing} } else {\n${calls}\n}\n</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * Write a page with Plotly figures that opens offline: by default it loads the folder's shared
 * `plotly.min.js` (written once, see {@link writeSharedPlotly}); with `plotly: 'inline'` it is one
 * self-contained file.
 * @param outPath Destination `.html` file (folders are created).
 * @param figures One figure or several (stacked vertically).
 * @param opts Title (required), description, facts, warning, `plotly` mode and `plotlyDir`.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} with no figures; {@link "tfjs-lens"!ConfigError} for a
 *   missing title, an untitled axis or an auto-scaled heatmap; Node's file-system errors.
 * @example writePlotlyPage('results/curve.html', { data: [{ type: 'scatter', y: [3, 2, 1] }], layout: { xaxis: { title: { text: 'step' } }, yaxis: { title: { text: 'loss' } } } }, { title: 'Loss' });
 * @category Viz
 */
export function writePlotlyPage(outPath: string, figures: PlotlyFigure | readonly PlotlyFigure[], opts: PageOptions): string {
  const list = Array.isArray(figures) ? (figures as readonly PlotlyFigure[]) : [figures as PlotlyFigure];
  const out = resolve(outPath);
  if ((opts.plotly ?? 'shared') === 'inline') return writeFileAtomic(out, plotlyPageHtml(list, opts));
  plotlyPageHtml(list, opts, PLOTLY_FILE); // check the figures before writing anything
  const shared = writeSharedPlotly(opts.plotlyDir ?? dirname(out));
  const src = relative(dirname(out), shared).split(sep).join('/');
  return writeFileAtomic(out, plotlyPageHtml(list, opts, src));
}

/**
 * Check a plain numeric matrix is rectangular.
 * @param z The matrix.
 * @param what Name for messages (`fn: argument`).
 * @returns [rows, columns].
 * @throws {@link "tfjs-lens"!ShapeError} for an empty or ragged matrix.
 * @example matrixShape([[1, 2], [3, 4]], 'f: z')  // [2, 2]
 * @category Viz
 */
export function matrixShape(z: readonly (readonly number[])[], what: string): [number, number] {
  const cols = z[0]?.length ?? 0;
  if (z.length === 0 || cols === 0 || z.some((r) => !Array.isArray(r) || r.length !== cols)) {
    throw new ShapeError(`${what} must be a non-empty rectangular number[][] (got ${z.length} rows)`);
  }
  return [z.length, cols];
}
