/**
 * The written pages render in headless Chromium: each plot div gets Plotly's SVG, with no console
 * errors, no page errors and no remote requests, both with the shared plotly.min.js and inlined.
 * Skipped where /usr/bin/chromium is absent.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAttentionPatterns } from '../../../src/viz/attention.js';
import { writeHistogram, writeLinePlot } from '../../../src/viz/charts.js';
import { writePatchingHeatmap } from '../../../src/viz/heatmap.js';
import { plotlyPageHtml, writeFileAtomic } from '../../../src/viz/html.js';
import { writeDlaBarChart } from '../../../src/viz/lens_plots.js';
import { writeSaeTrainingCurves } from '../../../src/viz/sae_plots.js';
import type { SaeStepMetrics } from '../../../src/sae/train.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-render-'));
let browser: Browser | undefined;
const sae = Array.from({ length: 10 }, (_, s) => ({ step: s, tokens: s, loss: 80 - s, mseLoss: 70 - s, sparsityLoss: 1, auxLoss: 0, l0: 20 + s, explainedVariance: s / 10, deadFeatures: 10 - s, lr: 1e-3 }) as SaeStepMetrics);

beforeAll(async () => {
  if (!hasChromium) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Open a page offline; return console errors, page errors and failed/remote requests. */
async function render(path: string, divs: number): Promise<string[]> {
  const page = await (browser as Browser).newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`request: ${r.url()}`);
  });
  try {
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    for (let i = 0; i < divs; i++) await page.waitForSelector(`#plot-${i} svg.main-svg`, { timeout: 30_000 });
    expect(await page.locator('#plot-0 svg.main-svg').count()).toBeGreaterThan(0);
  } finally {
    await page.close();
  }
  return problems;
}

describe('pages render in headless Chromium', () => {
  it.skipIf(!hasChromium)('attention selector, attention grid, patching heatmap, line, histogram, DLA bars', async () => {
    const tokens = ['<bos>', 'When', ' Mary', ' and', ' John'];
    const pat = Array.from({ length: 4 }, (_, h) =>
      tokens.map((_, q) => tokens.map((_, k) => (k <= q ? (k === Math.max(0, q - (h % 2)) ? 0.7 : 0.3 / q || 1) : 0))),
    );
    const pages = [
      writeAttentionPatterns(join(dir, 'attn.html'), pat, { tokens, layer: 0, title: 'Attention' }),
      writeAttentionPatterns(join(dir, 'grid.html'), pat, { tokens, layer: 0, mode: 'grid', title: 'Attention grid' }),
      writePatchingHeatmap(join(dir, 'patch.html'), [[0.1, 0.2, 0.3, 0.4, 1], [0, 0, -0.5, 0.2, 0.9]], { kind: 'layerPos', tokens, title: 'Patching' }),
      writeLinePlot(join(dir, 'line.html'), [{ name: 'loss', y: [3, 2, 1] }], { logY: true, title: 'Loss', xLabel: 'step', yLabel: 'loss' }),
      writeHistogram(join(dir, 'hist.html'), [{ name: 'x', values: [1, 2, 2, 3, 3, 3] }], { title: 'Values', xLabel: 'x' }),
      writeDlaBarChart(join(dir, 'dla.html'), ['embed', 'pos_embed', 'L0H0'], [0.3, -0.1, 1.2]),
      writeSaeTrainingCurves(join(dir, 'sae.html'), sae, { title: 'SAE training' }),
      writeLinePlot(join(dir, 'inline.html'), [{ name: 'loss', y: [3, 2, 1] }], { title: 'Inline', xLabel: 'step', yLabel: 'loss', plotly: 'inline' }),
    ];
    for (const p of pages) expect(await render(p, p.endsWith('sae.html') ? 4 : 1), p).toEqual([]);
    // The shared plotly.min.js sits next to the pages, once.
    expect(readdirSync(dir).filter((f) => f.endsWith('.js'))).toEqual(['plotly.min.js']);
    // Without it a page shows a warning instead of throwing.
    const moved = join(dir, 'alone');
    mkdirSync(moved);
    const lonely = join(moved, 'line.html');
    writeFileSync(lonely, readFileSync(join(dir, 'line.html')));
    const page = await (browser as Browser).newPage();
    await page.goto(pathToFileURL(lonely).href, { waitUntil: 'load' });
    expect(await page.locator('p.warn').textContent()).toMatch(/plotly\.js did not load/);
    await page.close();
    // Control: the listeners do catch a failing script on an otherwise fine page.
    const html = plotlyPageHtml([{ data: [{ type: 'scatter', y: [1, 2] }], layout: { xaxis: { title: { text: 'x' } }, yaxis: { title: { text: 'y' } } } }], { title: 'Bad' }).replace('</body>', '<script>null.x</script></body>');
    const bad = writeFileAtomic(join(dir, 'bad.html'), html);
    expect((await render(bad, 1)).join('\n')).toMatch(/pageerror/);
  });
});
