/**
 * Self-contained Plotly pages: plotly.js (the `plotly.js-dist-min` bundle) is inlined, so a page
 * opens offline with no CDN. Every writer takes plain arrays (never tensors), creates the folder,
 * writes atomically (temp file + rename) and returns the path it wrote.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { ConfigError, ShapeError } from '../errors.js';

/**
 * A Plotly JSON object (trace, layout or config), passed to `Plotly.newPlot` as is.
 * @category Viz
 */
export type PlotlyJson = { readonly [key: string]: unknown };

/**
 * One figure on a page: Plotly traces, layout and config.
 * @category Viz
 */
export interface PlotlyFigure {
  /** Traces (`{type: 'scatter', x, y}`, `{type: 'heatmap', z}` …). */
  readonly data: readonly PlotlyJson[];
  /** Layout (title, axes, sliders, update menus …). */
  readonly layout?: PlotlyJson;
  /** Config (merged over `{responsive: true, displaylogo: false}`). */
  readonly config?: PlotlyJson;
  /** Height of the figure's div in pixels (default 520). */
  readonly height?: number;
}

/**
 * Page-level options of {@link writePlotlyPage}.
 * @category Viz
 */
export interface PageOptions {
  /** Page title (also the `<h1>`). */
  readonly title?: string;
  /** A paragraph of plain text under the title. */
  readonly description?: string;
}

let plotlySource: string | undefined;
let tmpCounter = 0;

/**
 * The plotly.js bundle's source, read once from `plotly.js-dist-min` (resolved from this module, so
 * it works from `src/` and `dist/`).
 * @returns The minified bundle, safe to inline in a `<script>` element.
 * @throws {@link "tfjs-lens"!ConfigError} if the package is not installed.
 * @example plotlyJs().length  // about 4.8 MB
 * @category Viz
 */
export function plotlyJs(): string {
  if (plotlySource !== undefined) return plotlySource;
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve('plotly.js-dist-min');
  } catch {
    throw new ConfigError("plotlyJs: the 'plotly.js-dist-min' package is not installed (npm install plotly.js-dist-min)");
  }
  plotlySource = readFileSync(path, 'utf8').replace(/<\/script/gi, '<\\/script');
  return plotlySource;
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
export function writeFileAtomic(path: string, text: string): string {
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
 * Build the HTML of a self-contained page with one or more Plotly figures (divs `plot-0`, `plot-1` …).
 * @param figures The figures.
 * @param opts Title and description.
 * @returns The HTML text.
 * @throws {@link "tfjs-lens"!ShapeError} with no figures.
 * @example const html = plotlyPageHtml([{ data: [{ type: 'scatter', y: [1, 3, 2] }] }]);
 * @category Viz
 */
export function plotlyPageHtml(figures: readonly PlotlyFigure[], opts: PageOptions = {}): string {
  if (figures.length === 0) throw new ShapeError('plotlyPageHtml: need at least one figure');
  const title = opts.title ?? 'tfjs-lens';
  const divs = figures.map((f, i) => `<div id="plot-${i}" class="plot" style="height:${f.height ?? 520}px"></div>`).join('\n');
  const calls = figures
    .map((f, i) => {
      const config = { responsive: true, displaylogo: false, ...(f.config ?? {}) };
      return `Plotly.newPlot('plot-${i}', ${scriptJson(f.data)}, ${scriptJson(f.layout ?? {})}, ${scriptJson(config)});`;
    })
    .join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;margin:1.5em;} .plot{width:100%;margin-bottom:1.5em;}</style>',
    `<script>${plotlyJs()}</script>`,
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    opts.description === undefined ? '' : `<p>${escapeHtml(opts.description)}</p>`,
    divs,
    `<script>${calls}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * Write a self-contained HTML page with Plotly figures (plotly.js inlined; no network needed).
 * @param outPath Destination `.html` file (folders are created).
 * @param figures One figure or several (stacked vertically).
 * @param opts Title and description.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} with no figures; Node's file-system errors.
 * @example writePlotlyPage('results/curve.html', { data: [{ type: 'scatter', y: [3, 2, 1] }] }, { title: 'Loss' });
 * @category Viz
 */
export function writePlotlyPage(outPath: string, figures: PlotlyFigure | readonly PlotlyFigure[], opts: PageOptions = {}): string {
  const list = Array.isArray(figures) ? (figures as readonly PlotlyFigure[]) : [figures as PlotlyFigure];
  return writeFileAtomic(outPath, plotlyPageHtml(list, opts));
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
