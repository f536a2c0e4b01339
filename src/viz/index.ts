/**
 * tfjs-lens/viz: self-contained Plotly HTML pages: attention patterns, patching heatmaps, logit lens, DLA, charts, probe and circuit plots.
 * @packageDocumentation
 * @module tfjs-lens/viz
 */
export { plotlyPageHtml, writePlotlyPage } from './html.js';
export type { PageOptions, PlotlyFigure, PlotlyJson } from './html.js';
export { writeBarChart, writeHistogram, writeLinePlot, writeScatterPlot } from './charts.js';
export type { ChartOptions, HistogramOptions, NamedValues, Series } from './charts.js';
export { WHITE_TO_BLUE, writeHeatmap, writePatchingHeatmap } from './heatmap.js';
export type { HeatmapOptions, PatchingHeatmapOptions } from './heatmap.js';
export { writeAttentionPatterns } from './attention.js';
export type { AttentionPlotOptions } from './attention.js';
export { writeDlaBarChart, writeLogitLensPlot } from './lens_plots.js';
export type { LogitLensPlotData } from './lens_plots.js';
export { writeLatentMap, writeRocPr, writeScoreHistograms, writeVaeHistory } from './probe_plots.js';
export { writeCircuitGraph } from './circuit_graph.js';
export type { CircuitGraphView, GraphEdgeView, GraphNodeView } from './circuit_graph.js';
export { circuitGraphFigure } from './circuit_graph.js';
