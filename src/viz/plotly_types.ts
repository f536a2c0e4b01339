/**
 * The plain-data types of the Plotly pages: a Plotly JSON object, one figure, and the page options
 * (title, text, facts, warning, and where plotly.js comes from).
 */

/**
 * A Plotly JSON object (trace, layout or config), passed to `Plotly.newPlot` as is.
 * @category Viz
 */
export type PlotlyJson = { readonly [key: string]: unknown };

/**
 * One figure on a page: Plotly traces, layout and config. Its layout needs a title, every axis a
 * trace is drawn on needs a title, and a heatmap needs a fixed colour range and a titled colour bar
 * (checked when the page is built; see `checkFigure`).
 * @category Viz
 */
export interface PlotlyFigure {
  /** Traces (`{type: 'scatter', x, y}`, `{type: 'heatmap', z}` …). */
  readonly data: readonly PlotlyJson[];
  /** Layout (title, axes, sliders, update menus …); a one-figure page without a title gets the page's. */
  readonly layout?: PlotlyJson;
  /** Config (merged over `{responsive: true, displaylogo: false}`). */
  readonly config?: PlotlyJson;
  /** Height of the figure's div in pixels (default 520). */
  readonly height?: number;
}

/**
 * How a page loads plotly.js. `'shared'` (default): one `plotly.min.js` is written (atomically,
 * reused when its content matches) into `plotlyDir` and referenced by a relative `<script src>`, so
 * the folder works offline with one copy for all its pages. `'inline'`: the bundle is inlined, the
 * page is one self-contained file (about 4.8 MB).
 * @category Viz
 */
export type PlotlyMode = 'shared' | 'inline';

/**
 * Page-level options of every page writer.
 * @category Viz
 */
export interface PageOptions {
  /** Page title (the `<title>` and the `<h1>`); required and not blank. */
  readonly title: string;
  /** A paragraph of plain text under the title. */
  readonly description?: string;
  /** Label–value rows shown as a table under the title (method, parameters, results …). */
  readonly facts?: readonly (readonly [string, string])[];
  /** A warning shown in a red box above the figures (e.g. a circuit with low faithfulness). */
  readonly warning?: string;
  /** Where plotly.js comes from (default 'shared'). */
  readonly plotly?: PlotlyMode;
  /**
   * Folder of the shared `plotly.min.js` (default: the page's folder). Give the output root to
   * share one copy between pages in subfolders (e.g. `results/probe` for `results/probe/<dataset>/`).
   */
  readonly plotlyDir?: string;
}
