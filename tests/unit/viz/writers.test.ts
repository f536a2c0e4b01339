/**
 * Plot writers: pages that open offline (one shared plotly.min.js per folder by default, or plotly
 * inlined on request; no remote scripts), atomic writes, input checks.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError } from '../../../src/errors.js';
import { writeAttentionPatterns } from '../../../src/viz/attention.js';
import { writeBarChart, writeHistogram, writeLinePlot, writeScatterPlot } from '../../../src/viz/charts.js';
import { writeHeatmap, writePatchingHeatmap } from '../../../src/viz/heatmap.js';
import { plotlyJs, plotlyPageHtml, writePlotlyPage } from '../../../src/viz/html.js';
import { writeDlaBarChart, writeLogitLensPlot } from '../../../src/viz/lens_plots.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-viz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Remote resources a page could load: script src, link href, iframes, imports. */
const REMOTE = /<(script|link|iframe|img)[^>]+(src|href)\s*=\s*["']?https?:/i;

/** A page with plotly.js inlined: no script src at all, the whole bundle in the page. */
function expectInlined(path: string): string {
  const html = readFileSync(path, 'utf8');
  expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  expect(html).not.toMatch(/<script[^>]*\bsrc\s*=/i);
  expect(html).not.toMatch(REMOTE);
  expect(html).toContain(plotlyJs().slice(0, 200));
  expect(html.length).toBeGreaterThan(1_000_000);
  return html;
}

/**
 * A page that opens offline from its folder: no remote resources, and its one script src is a
 * relative path to a plotly.min.js that exists and is byte-identical to the installed bundle.
 */
function expectSelfContained(path: string): string {
  const html = readFileSync(path, 'utf8');
  expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  expect(html).not.toMatch(REMOTE);
  const srcs = [...html.matchAll(/<script[^>]*\bsrc\s*=\s*"([^"]+)"/gi)].map((m) => m[1] as string);
  expect(srcs).toHaveLength(1);
  expect(srcs[0]).toMatch(/^(\.\.\/)*plotly\.min\.js$/);
  const shared = resolve(dirname(path), srcs[0] as string);
  expect(readFileSync(shared, 'utf8')).toBe(readFileSync(plotlyBundlePath(), 'utf8'));
  expect(html.length).toBeLessThan(200_000); // the bundle is not inlined
  return html;
}

const plotlyBundlePath = (): string => createRequire(import.meta.url).resolve('plotly.js-dist-min');
const AXES = { xaxis: { title: { text: 'step' } }, yaxis: { title: { text: 'loss' } } };

describe('writePlotlyPage', () => {
  it('inlines plotly.js on request, creates folders, writes atomically and returns the absolute path', () => {
    const out = writePlotlyPage(join(dir, 'a', 'b', 'page.html'), { data: [{ type: 'scatter', y: [1, 3, 2] }], layout: AXES }, { title: 'T <1>', plotly: 'inline' });
    expect(isAbsolute(out)).toBe(true);
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['page.html']); // no temp file left
    const html = expectInlined(out);
    expect(html).toContain('<title>T &lt;1&gt;</title>');
    expect(html).toContain('Plotly.newPlot(\'plot-0\'');
    expect(plotlyJs()).toMatch(/plotly\.js v?4\.1\.2|4\.1\.2/);
  });

  it('escapes </script> and keeps NaN out of the JSON', () => {
    const html = plotlyPageHtml([{ data: [{ type: 'bar', x: ['</script><b>'], y: [Number.NaN] }], layout: AXES }], { title: 'bars' });
    expect(html).not.toContain('</script><b>');
    expect(html).toContain('\\u003c/script>\\u003cb>');
    expect(html).toContain('"y":[null]');
    expect(() => plotlyPageHtml([], { title: 'none' })).toThrow(ShapeError);
  });
});

describe('chart writers', () => {
  it('line, scatter, histogram, bar', () => {
    const line = writeLinePlot(join(dir, 'line.html'), [{ name: 'loss', y: [3, 2, 1.5] }], { title: 'Loss', xLabel: 'step', yLabel: 'loss', logY: true });
    expect(expectSelfContained(line)).toContain('"type":"log"');
    const sc = writeScatterPlot(join(dir, 'roc.html'), [{ name: 'roc', x: [0, 0.5, 1], y: [0, 0.8, 1], text: ['a', 'b', 'c'] }], { title: 'ROC', xLabel: 'FPR', yLabel: 'TPR' });
    expect(expectSelfContained(sc)).toContain('"mode":"markers"');
    const hist = writeHistogram(join(dir, 'hist.html'), [{ name: 'a', values: [1, 2, 2, 3] }, { name: 'b', values: [2, 3] }], { title: 'Values', xLabel: 'value', nbins: 5 });
    expect(expectSelfContained(hist)).toContain('"nbinsx":5');
    const bar = writeBarChart(join(dir, 'bar.html'), ['x', 'x'], [{ name: 's', values: [1, -1] }], { title: 'Bars', xLabel: 'label', yLabel: 'value' });
    expect(expectSelfContained(bar)).toContain('"ticktext":["x","x"]');
    const o = { title: 't', xLabel: 'x', yLabel: 'y' };
    expect(() => writeLinePlot(join(dir, 'bad.html'), [{ name: 'l', x: [1, 2], y: [1] }], o)).toThrow(/2 x values and 1 y values/);
    expect(() => writeHistogram(join(dir, 'bad.html'), [], o)).toThrow(ShapeError);
    expect(() => writeBarChart(join(dir, 'bad.html'), ['a'], [{ name: 's', values: [1, 2] }], o)).toThrow(ShapeError);
    expect(existsSync(join(dir, 'bad.html'))).toBe(false);
  });
});

describe('heatmaps and analysis plots', () => {
  it('patching heatmaps [layer, pos] and [layer, head] carry axis labels', () => {
    const lp = writePatchingHeatmap(join(dir, 'p1.html'), [[0.1, 0.2, 0.9], [0, -0.4, 1]], { kind: 'layerPos', tokens: ['<bos>', 'the', 'the'], title: 'Residual patching' });
    const html = expectSelfContained(lp);
    expect(html).toContain('"ticktext":["0: <bos>","1: the","2: the"]'.replace(/</g, '\\u003c'));
    expect(html).toContain('"ticktext":["L0","L1"]');
    expect(html).toContain('"text":"position"');
    const lh = writePatchingHeatmap(join(dir, 'p2.html'), [[1, 2], [3, 4]], { kind: 'layerHead', title: 'Head patching' });
    expect(readFileSync(lh, 'utf8')).toContain('"ticktext":["H0","H1"]');
    expect(() => writePatchingHeatmap(join(dir, 'x.html'), [[1, 2], [3]], { kind: 'layerHead', title: 't' })).toThrow(/rectangular/);
    expect(() => writePatchingHeatmap(join(dir, 'x.html'), [[1, 2]], { kind: 'layerPos', tokens: ['a'], title: 't' })).toThrow(/1 tokens for 2 positions/);
    expect(() => writeHeatmap(join(dir, 'x.html'), [[1]], { xLabels: ['a', 'b'], title: 't', xLabel: 'x', yLabel: 'y', zLabel: 'z' })).toThrow(ShapeError);
  });

  it('attention patterns: selector and grid, [head][q][k] and [layer][head][q][k]', () => {
    const pat = [[[1, 0], [0.3, 0.7]], [[1, 0], [0.9, 0.1]]];
    const sel = writeAttentionPatterns(join(dir, 'attn.html'), pat, { tokens: ['A', 'B'], layer: 1, title: 'Attention' });
    const html = expectSelfContained(sel);
    expect(html).toContain('"updatemenus"');
    expect(html).toContain('"label":"L1H1"');
    const grid = writeAttentionPatterns(join(dir, 'grid.html'), [pat, pat], { tokens: ['A', 'B'], mode: 'grid', title: 'Attention grid' });
    const g = readFileSync(grid, 'utf8');
    expect(g).toContain('"xaxis":"x4"');
    expect(g).toContain('"text":"L1H1"');
    expect(() => writeAttentionPatterns(join(dir, 'x.html'), pat, { tokens: ['A'], title: 't' })).toThrow(/expected \[1, 1\]/);
  });

  it('logit-lens lines and DLA bars', () => {
    const lens = writeLogitLensPlot(join(dir, 'lens.html'), { labels: ['0_pre', 'final_post'], series: [{ name: 'rank', values: [10, 0] }] });
    expect(expectSelfContained(lens)).toContain('"x":["0_pre","final_post"]');
    const dla = writeDlaBarChart(join(dir, 'dla.html'), ['embed', 'L0H0'], [0.5, -0.25]);
    expect(expectSelfContained(dla)).toContain('"ticktext":["embed","L0H0"]');
    expect(() => writeLogitLensPlot(join(dir, 'x.html'), { labels: ['a'], series: [{ name: 'r', values: [1, 2] }] })).toThrow(ShapeError);
  });
});
