/**
 * The probe's plot pages (UMAP latent map, training history, score histograms, ROC/PR curves) are
 * written from plain arrays, validate their input, and render in headless Chromium with no errors
 * and no network requests (skipped where /usr/bin/chromium is absent).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError } from '../../../src/errors.js';
import { umapEmbed } from '../../../src/probe/embed2d.js';
import type { VaeEpochRecord } from '../../../src/probe/vae_train.js';
import { seededRng } from '../../../src/utils/rng.js';
import { writeLatentMap, writeRocPr, writeScoreHistograms, writeVaeHistory } from '../../../src/viz/probe_plots.js';

const CHROMIUM = '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-probe-plots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rand = seededRng(3);
const labels = Array.from({ length: 60 }, (_, i) => (i < 40 ? 0 : 1) as 0 | 1);
const scores = labels.map((y) => rand() + y * 0.8);
const latent = { rows: 60, cols: 4, data: Float32Array.from({ length: 240 }, (_, i) => rand() + (labels[Math.floor(i / 4)] as number) * 2) };
const history: VaeEpochRecord[] = Array.from({ length: 12 }, (_, e) => ({ epoch: e, beta: Math.min(1, e / 4) * 0.3, loss: 10 / (e + 1), recon: 9 / (e + 1), kl: 1 + e / 10, valRecon: 9.5 / (e + 1), valKl: 1.1, valLoss: 10, elapsedS: e }));

function writeAll(): string[] {
  const xy = umapEmbed(latent, { seed: 0, nEpochs: 50 });
  expect(xy.length).toBe(60);
  expect(umapEmbed(latent, { seed: 0, nEpochs: 50 })).toEqual(xy); // seeded
  return [
    writeLatentMap(join(dir, 'latent.html'), xy, labels, { title: 'UMAP of the VAE latent', hover: labels.map((y, i) => `text ${i} (${y})`) }),
    writeVaeHistory(join(dir, 'history.html'), history, { title: 'history' }),
    writeScoreHistograms(join(dir, 'hist.html'), [{ title: 'vae', normal: scores.slice(0, 40), anomaly: scores.slice(40), threshold: 0.9, logX: true }], { title: 'Scores' }),
    writeRocPr(join(dir, 'roc.html'), [{ name: 'vae', scores, labels }, { name: 'subset', scores: scores.slice(30, 50), labels: labels.slice(30, 50) }], { title: 'ROC and PR' }),
  ];
}

describe('probe plots', () => {
  it('validate their input', () => {
    const t = { title: 't' };
    expect(() => writeLatentMap(join(dir, 'x.html'), [[0, 1]], [0, 1], t)).toThrow(ShapeError);
    expect(() => writeVaeHistory(join(dir, 'x.html'), [], t)).toThrow(ShapeError);
    expect(() => writeScoreHistograms(join(dir, 'x.html'), [{ title: 't', normal: [], anomaly: [1] }], t)).toThrow(ShapeError);
    expect(() => writeRocPr(join(dir, 'x.html'), [], t)).toThrow(ShapeError);
  });

  it('title every figure and axis, and show average precision (not AUROC) in the PR legend', () => {
    const pages = writeAll();
    const roc = readFileSync(pages[3] as string, 'utf8');
    expect(roc).toMatch(/"name":"vae \(AUROC 0\.\d{3}\)"/);
    expect(roc).toMatch(/"name":"vae \(AP 0\.\d{3}\)"/);
    for (const p of pages) {
      const html = readFileSync(p, 'utf8');
      expect(html).not.toMatch(/"title":\{"text":""\}/);
      expect(html).toContain('<script src="plotly.min.js"></script>');
    }
  });

  it.skipIf(!existsSync(CHROMIUM))('render in headless Chromium with no errors', async () => {
    const pages = writeAll();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      for (const [path, divs] of pages.map((p, i) => [p, i === 1 || i === 3 ? 2 : 1] as const)) {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('request', (r) => !/^(file|data):/.test(r.url()) && problems.push(`request ${r.url()}`));
        await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
        for (let i = 0; i < divs; i++) await page.waitForSelector(`#plot-${i} svg.main-svg`, { timeout: 30_000 });
        expect(problems, path).toEqual([]);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});
