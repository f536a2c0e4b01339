/**
 * What every page promises (issue 16, "plots that tell the truth"), checked without a browser:
 * required titles and axis titles (ConfigError otherwise), heatmap colours fixed to the quantity's
 * range, readable log ticks, separate axes for different units, legends with their own metric,
 * circuit pages that state method and faithfulness, and one shared plotly.min.js per folder.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { SaeStepMetrics } from '../../../src/sae/train.js';
import { logAxis, writeHistogram, writeLinePlot } from '../../../src/viz/charts.js';
import { LOW_FAITHFULNESS, writeCircuitGraph, type CircuitGraphView } from '../../../src/viz/circuit_graph.js';
import { heatmapColors, writeHeatmap, writePatchingHeatmap } from '../../../src/viz/heatmap.js';
import { PLOTLY_FILE, plotlyPageHtml, writePlotlyPage, writeSharedPlotly, type PlotlyJson } from '../../../src/viz/html.js';
import { writeRocPr, writeVaeHistory } from '../../../src/viz/probe_plots.js';
import { writeSaeTrainingCurves } from '../../../src/viz/sae_plots.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-viz-guarantees-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The [data, layout] arguments of every Plotly.newPlot call on a page. */
function figures(path: string): { data: PlotlyJson[]; layout: PlotlyJson }[] {
  const html = readFileSync(path, 'utf8');
  return [...html.matchAll(/Plotly\.newPlot\('plot-\d+', (.*), (\{.*\}), (\{.*\})\);/g)].map((m) => ({
    data: JSON.parse(m[1] as string) as PlotlyJson[],
    layout: JSON.parse(m[2] as string) as PlotlyJson,
  }));
}

const text = (t: unknown): string => ((t as { text?: string } | undefined)?.text ?? '');
const axis = (layout: PlotlyJson, key: string): PlotlyJson => layout[key] as PlotlyJson;
const AXES = { xaxis: { title: { text: 'x' } }, yaxis: { title: { text: 'y' } } };

describe('titles are required', () => {
  it('a page without a title, a figure without axis titles, an auto-scaled heatmap: ConfigError', () => {
    const fig = { data: [{ type: 'scatter', y: [1, 2] }], layout: AXES };
    expect(() => plotlyPageHtml([fig], { title: '  ' })).toThrow(ConfigError);
    expect(() => plotlyPageHtml([fig], { title: '  ' })).toThrow(/needs a title/);
    expect(() => plotlyPageHtml([{ data: fig.data }], { title: 'T' })).toThrow(/x axis 'xaxis' has no title/);
    expect(() => plotlyPageHtml([{ ...fig, layout: { ...AXES, title: { text: 'A' } } }, fig], { title: 'T' })).toThrow(/figure 1 has no title/);
    const y2 = { data: [{ type: 'scatter', y: [1], yaxis: 'y2' }], layout: { ...AXES, yaxis2: { overlaying: 'y' } } };
    expect(() => plotlyPageHtml([y2], { title: 'T' })).toThrow(/y axis 'yaxis2' has no title/);
    const auto = { data: [{ type: 'heatmap', z: [[0.01, 0.06]], colorbar: { title: { text: 'score' } } }], layout: AXES };
    expect(() => plotlyPageHtml([auto], { title: 'T' })).toThrow(/colour range is not fixed/);
    const noBar = { data: [{ type: 'heatmap', z: [[0.01, 0.06]], zmin: 0, zmax: 1 }], layout: AXES };
    expect(() => plotlyPageHtml([noBar], { title: 'T' })).toThrow(/colour bar has no title/);
    // Nothing was written for a page that failed its checks.
    expect(() => writePlotlyPage(join(dir, 'bad', 'x.html'), auto, { title: 'T' })).toThrow(ConfigError);
    expect(() => readdirSync(join(dir, 'bad'))).toThrow();
  });

  it('a one-figure page lends the figure its title; every writer titles its axes', () => {
    const html = plotlyPageHtml([{ data: [{ type: 'scatter', y: [1] }], layout: AXES }], { title: 'Page title' });
    expect(html).toContain('"title":{"text":"Page title"}');
    const h = writeHistogram(join(dir, 'h.html'), [{ name: 'v', values: [1, 2, 2] }], { title: 'Histogram', xLabel: 'value' });
    const [f] = figures(h);
    expect(text(axis(f!.layout, 'yaxis')['title'])).toBe('count');
  });
});

describe('colour scales fixed to the quantity', () => {
  it("scores in [0, 1] ('unit') span exactly [0, 1], however small the scores", () => {
    const p = writeHeatmap(join(dir, 'scores.html'), [[0.01, 0.06], [0.02, 0.03]], { title: 'Induction', xLabel: 'head', yLabel: 'layer', zLabel: 'induction score', range: 'unit' });
    const t = figures(p)[0]!.data[0]!;
    expect([t['zmin'], t['zmax']]).toEqual([0, 1]);
    expect(text((t['colorbar'] as PlotlyJson)['title'])).toBe('induction score');
  });

  it("signed values ('signed', the default) get a diverging scale symmetric about 0", () => {
    const p = writePatchingHeatmap(join(dir, 'patch.html'), [[0.2, -0.5], [1.5, 0]], { kind: 'layerHead', title: 'Patching' });
    const t = figures(p)[0]!.data[0]!;
    expect([t['zmin'], t['zmax'], t['zmid']]).toEqual([-1.5, 1.5, 0]);
    expect(t['colorscale']).toBe('RdBu');
    expect(text((t['colorbar'] as PlotlyJson)['title'])).toBe('patched metric');
    expect(heatmapColors([[0, 0]], 'signed', 0, 'z')).toMatchObject({ zmin: -1, zmax: 1 }); // all zero: still a range
  });

  it('a fixed signed half-width ({ signed: 1 }) keeps a 0.33 recovery from looking like the full effect', () => {
    const p = writePatchingHeatmap(join(dir, 'patch_fixed.html'), [[0.08, 0.33], [0.23, 0]], { kind: 'layerHead', title: 'Patching', range: { signed: 1 } });
    const t = figures(p)[0]!.data[0]!;
    expect([t['zmin'], t['zmax'], t['zmid']]).toEqual([-1, 1, 0]);
    const wide = heatmapColors([[1.4, -0.2]], { signed: 1 }, 0, 'metric');
    expect([wide['zmin'], wide['zmax']]).toEqual([-1.4, 1.4]);
    expect(text((wide['colorbar'] as PlotlyJson)['title'])).toMatch(/widened from ±1/);
    expect(() => heatmapColors([[0]], { signed: 0 }, 0, 'metric')).toThrow(ConfigError);
  });

  it('a fixed range is widened (and says so), never clipped', () => {
    const c = heatmapColors([[-0.2, 0.5]], 'unit', 0, 'score');
    expect([c['zmin'], c['zmax']]).toEqual([-0.2, 1]);
    expect(text((c['colorbar'] as PlotlyJson)['title'])).toMatch(/widened from \[0, 1\]/);
  });
});

describe('axes and legends', () => {
  it('log axes label 70, 60, 50 as full numbers', () => {
    const a = logAxis([50, 55, 60, 70]);
    expect(a['type']).toBe('log');
    expect(a['ticktext']).toEqual(expect.arrayContaining(['50', '60', '70']));
    expect(logAxis([0.001, 0.5, 20])['ticktext']).toEqual(expect.arrayContaining(['0.001', '0.01', '0.1', '1', '10']));
    expect(logAxis([1e-9, 1e3])['ticktext']).toContain('1e-9');
    const narrow = logAxis([250.1, 264.2])['tickvals'] as number[]; // within one tick step: still labelled
    expect(narrow.length).toBeGreaterThanOrEqual(2);
    expect(narrow.every((t) => t >= 250.1 && t <= 264.2)).toBe(true);
    const p = writeLinePlot(join(dir, 'log.html'), [{ name: 'mse', y: [70, 60, 50] }], { title: 'MSE', xLabel: 'step', yLabel: 'MSE', logY: true });
    expect(axis(figures(p)[0]!.layout, 'yaxis')['ticktext']).toEqual(expect.arrayContaining(['50', '60', '70']));
  });

  it('SAE training curves: one titled y axis per quantity (MSE and L0 never share one)', () => {
    const history: SaeStepMetrics[] = Array.from({ length: 20 }, (_, s) => ({
      step: s, tokens: 1024 * (s + 1), loss: 80 - s, mseLoss: 70 - s, sparsityLoss: 5, auxLoss: 0, l0: 30 + s, explainedVariance: s / 20, deadFeatures: 20 - s, lr: 1e-3,
    } as SaeStepMetrics));
    const figs = figures(writeSaeTrainingCurves(join(dir, 'sae.html'), history, { title: 'SAE training' }));
    expect(figs).toHaveLength(4);
    const names = figs.map((f) => f.data.map((t) => t['name']));
    expect(names.findIndex((n) => n.some((x) => String(x).startsWith('MSE')))).not.toBe(names.findIndex((n) => n.includes('L0')));
    for (const f of figs) {
      expect(text(f.layout['title'])).not.toBe('');
      expect(text(axis(f.layout, 'yaxis')['title'])).not.toBe('');
      expect(text(axis(f.layout, 'xaxis')['title'])).toBe('training step');
    }
    expect(axis(figs[0]!.layout, 'yaxis')['ticktext']).toEqual(expect.arrayContaining(['60', '70']));
    expect(axis(figs[2]!.layout, 'yaxis')['range']).toEqual([0, 1]);
  });

  it('the PR legend shows average precision, the ROC legend AUROC', () => {
    const labels = [0, 0, 0, 1, 1, 0, 1, 0] as (0 | 1)[];
    const scores = [0.1, 0.2, 0.3, 0.9, 0.4, 0.5, 0.8, 0.05];
    const [roc, pr] = figures(writeRocPr(join(dir, 'rocpr.html'), [{ name: 'vae', scores, labels }], { title: 'ROC and PR' }));
    expect(roc!.data[0]!['name']).toMatch(/^vae \(AUROC 0\.\d{3}\)$/);
    expect(pr!.data[0]!['name']).toMatch(/^vae \(AP 0\.\d{3}\)$/);
    expect(pr!.data.map((t) => String(t['name'])).join(' ')).not.toMatch(/AUROC/);
  });

  it('right-hand axes get room for their ticks (automargin) and the legend sits below', () => {
    const history = Array.from({ length: 3 }, (_, e) => ({ epoch: e, beta: 0.1, loss: 3, recon: 2, kl: 1, valRecon: 2, valKl: 1, valLoss: 3, elapsedS: e }));
    for (const f of figures(writeVaeHistory(join(dir, 'vae.html'), history, { title: 'VAE' }))) {
      expect(axis(f.layout, 'yaxis2')).toMatchObject({ automargin: true, side: 'right' });
      expect(text(axis(f.layout, 'yaxis2')['title'])).not.toBe('');
      expect(f.layout['legend']).toMatchObject({ orientation: 'h' });
    }
  });
});

describe('circuit pages', () => {
  const view = (ratio: number): CircuitGraphView => ({
    nHeads: 1,
    nodes: [{ id: 'input', kind: 'input', layer: -1 }, { id: 'a0.0', kind: 'head', layer: 0, head: 0 }, { id: 'logits', kind: 'logits', layer: 1 }],
    edges: [{ id: 'input->a0.0<v>', from: 'input', to: 'a0.0', channel: 'v', score: 1 }, { id: 'a0.0->logits', from: 'a0.0', to: 'logits', score: 2 }],
    run: {
      method: 'eap', level: 'edge', ablation: 'resample', metric: { name: 'logit_diff', higherIsBetter: true, threshold: undefined, full: 3, circuit: 3 * ratio },
      faithfulness: { metric: 'logit_diff', full: 3, circuit: 3 * ratio, empty: 0.1, ratio }, settings: { topN: 12, seed: 0 }, forwardPasses: 3, totalEdges: 40,
    },
  });

  it('state the method, its parameters and faithfulness, and flag a low-faithfulness circuit', () => {
    const low = readFileSync(writeCircuitGraph(join(dir, 'eap_low.html'), view(0.004), { title: 'EAP circuit' }), 'utf8');
    expect(low).toMatch(/<th>method<\/th><td>eap: edge attribution patching/);
    expect(low).toMatch(/<th>parameters<\/th><td>topN = 12, seed = 0; search metric logit_diff/);
    expect(low).toMatch(/<th>kept<\/th><td>3 nodes, 2 of 40 edges/);
    expect(low).toMatch(/<th>faithfulness<\/th><td>0\.004 = circuit \/ full logit_diff/);
    expect(low).toMatch(/class="warn" role="alert">Low faithfulness \(0\.004 &lt; 0\.5\)/);
    expect(low).toContain('EAP circuit — faithfulness 0.004 (LOW)');
    const ok = readFileSync(writeCircuitGraph(join(dir, 'eap_ok.html'), view(0.9), { title: 'EAP circuit' }), 'utf8');
    expect(ok).not.toContain('role="alert"');
    expect(ok).toContain('EAP circuit — faithfulness 0.9"');
    expect(LOW_FAITHFULNESS).toBe(0.5);
  });
});

describe('one shared plotly.min.js per folder', () => {
  it('pages reference it relatively; it is written once and reused while its content matches', () => {
    const root = join(dir, 'out');
    const fig = { data: [{ type: 'scatter', y: [1, 2] }], layout: AXES };
    const a = writePlotlyPage(join(root, 'a.html'), fig, { title: 'A' });
    const shared = join(root, PLOTLY_FILE);
    const first = statSync(shared).mtimeMs;
    writePlotlyPage(join(root, 'b.html'), fig, { title: 'B' });
    expect(readdirSync(root).sort()).toEqual(['a.html', 'b.html', PLOTLY_FILE]);
    expect(statSync(shared).mtimeMs).toBe(first); // reused, not rewritten
    expect(readFileSync(a, 'utf8')).toContain(`<script src="${PLOTLY_FILE}"></script>`);
    expect(statSync(a).size).toBeLessThan(20_000);
    // Pages in subfolders share the output root's copy through a relative path.
    const sub = writePlotlyPage(join(root, 'ds', 'c.html'), fig, { title: 'C', plotlyDir: root });
    expect(readFileSync(sub, 'utf8')).toContain(`<script src="../${PLOTLY_FILE}"></script>`);
    expect(readdirSync(join(root, 'ds'))).toEqual(['c.html']);
    // A stale or truncated copy is replaced.
    writeFileSync(shared, 'truncated');
    expect(writeSharedPlotly(root)).toBe(shared);
    expect(statSync(shared).size).toBeGreaterThan(1_000_000);
    // The page says so when plotly.js is missing, instead of failing silently.
    expect(readFileSync(a, 'utf8')).toMatch(/typeof Plotly === 'undefined'/);
  });

  it("'inline' writes one self-contained page and no shared file", () => {
    const p = writePlotlyPage(join(dir, 'single', 'page.html'), { data: [{ type: 'scatter', y: [1] }], layout: AXES }, { title: 'Single', plotly: 'inline' });
    expect(readdirSync(join(dir, 'single'))).toEqual(['page.html']);
    expect(statSync(p).size).toBeGreaterThan(1_000_000);
  });
});
