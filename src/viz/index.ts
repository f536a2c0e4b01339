/**
 * tfjs-lens/viz: Plotly HTML pages that open offline (one shared plotly.min.js per output folder, or
 * self-contained): attention patterns, patching heatmaps, logit lens, DLA, charts, SAE training
 * curves, probe and circuit plots. Every page and figure has a title and titled axes; heatmap
 * colours are fixed to the quantity's range.
 * @packageDocumentation
 * @module tfjs-lens/viz
 */
export { PLOTLY_FILE, plotlyPageHtml, writePlotlyPage, writeSharedPlotly } from './html.js';
export type { PageOptions, PlotlyFigure, PlotlyJson, PlotlyMode } from './html.js';
export { writeBarChart, writeHistogram, writeLinePanels, writeLinePlot, writeScatterPlot } from './charts.js';
export type { ChartOptions, HistogramOptions, LinePanel, NamedValues, Series } from './charts.js';
export { WHITE_TO_BLUE, writeHeatmap, writePatchingHeatmap } from './heatmap.js';
export type { ColorRange, HeatmapOptions, PatchingHeatmapOptions, SignedRange } from './heatmap.js';
export { writeAttentionPatterns } from './attention.js';
export type { AttentionPlotOptions } from './attention.js';
export { writeDlaBarChart, writeLogitLensPlot } from './lens_plots.js';
export type { LogitLensPlotData } from './lens_plots.js';
export { writeLatentMap, writeRocPr, writeScoreHistograms, writeVaeHistory } from './probe_plots.js';
export { writeSaeTrainingCurves } from './sae_plots.js';
export { tokenExplanationFigures, writeTokenExplanation } from './token_explanation.js';
export type { SaeFeatureBar, SaeFeatureSection, TokenExplanationOptions, TokenStrip } from './token_explanation.js';
export { LOW_FAITHFULNESS, circuitGraphFigure, faithfulnessCurveFigure, writeCircuitGraph } from './circuit_graph.js';
export type { CircuitGraphView, CircuitRunView, GraphEdgeView, GraphNodeView } from './circuit_graph.js';
