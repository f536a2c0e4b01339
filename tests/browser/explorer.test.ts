/**
 * The explorer page (explorer/ → dist/explorer/) in headless Chromium, served by scripts/explore.ts:
 * it loads the shipped induction-2l, runs a prompt, and the numbers it shows (read from
 * `window.__explorer`) equal the Node results for the same prompt: last-position logits over the whole
 * vocabulary, one `hook_pattern`, and the residual-stream patching heatmap (`getActPatchResidPre` with
 * the logit difference of the two answer tokens), within 1e-4. A screenshot of each view is written
 * to results/screenshots/explorer_<view>.png (to docs/img/, the docs' copies, when
 * TFJS_LENS_DOCS_IMG=1). Then distilbert-mini (encoder: SAE and probe views). Finally
 * `scripts/explore.ts --port 0 --json` starts, prints its URL, serves index.html and exits 0 on SIGINT.
 * The browser part is skipped where /usr/bin/chromium is absent.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExplorer, REPO_ROOT } from '../../explorer/build.js';
import type { ExplorerHandle } from '../../explorer/types.js';
import { serveExplorer, type ExploreServer } from '../../scripts/explore.js';
import { initBackend } from '../../src/backend/backend.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { logitDiffMetric } from '../../src/patching/metrics.js';
import { getActPatchResidPre } from '../../src/patching/presets.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const IMG = process.env['TFJS_LENS_DOCS_IMG'] === '1' ? join(REPO_ROOT, 'docs', 'img') : join(REPO_ROOT, 'results', 'screenshots');
const TEXT = ' book night money power city food story book night money power city';
const TOL = 1e-4;
/** Files the loaders may ask for and do without. */
const OPTIONAL_FILES = /\/(special_tokens_map\.json|tokenizer_config\.json|vocab\.json|merges\.txt|vocab\.txt|model\.safetensors\.index\.json)$/;

let browser: Browser | undefined;
let server: ExploreServer | undefined;
let page: Page | undefined;
const problems: string[] = [];
/** The page's global handle (typed without the DOM lib). */
type G = { __explorer?: ExplorerHandle };

beforeAll(async () => {
  if (!hasChromium) return;
  const { outDir } = await buildExplorer();
  server = await serveExplorer(outDir, 0);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // The URL tokenizer loader probes optional files (GET, 404 = absent): Chromium logs each 404 as a
  // console error, so those are checked by URL instead.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 404/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !OPTIONAL_FILES.test(r.url())) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith((server as ExploreServer).url) && !/^(blob|data):/.test(r.url())) problems.push(`remote request: ${r.url()}`);
  });
  mkdirSync(IMG, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Open the page on a model and wait until its run (and patching, for decoders) is shown. */
async function openModel(p: Page, model: string, decoder: boolean): Promise<void> {
  await p.goto(`${(server as ExploreServer).url}?model=${model}&text=${encodeURIComponent(model === 'induction-2l' ? TEXT : 'WINNER!! You have won a free prize, call 09061701461 now to claim.')}`);
  await p.waitForFunction(
    (dec) => {
      const x = (globalThis as unknown as G).__explorer;
      return x !== undefined && (x.status === 'error' || (x.status === 'ready' && x.run !== undefined && (!dec || x.patch !== undefined)));
    },
    decoder,
    { timeout: 60_000 },
  );
  // The progress line shows the bytes loaded of the total.
  expect(await p.locator('#load-text').textContent()).toMatch(/^\d+\.\d MB \/ \d+\.\d MB \(.+\)$/);
  const status = await p.evaluate(() => [(globalThis as unknown as Required<G>).__explorer.status, (globalThis as unknown as Required<G>).__explorer.error ?? '']);
  expect(status, 'page status').toEqual(['ready', '']);
}

async function shoot(p: Page, view: string): Promise<void> {
  await p.locator(`[data-view=${view}]`).screenshot({ path: join(IMG, `explorer_${view}.png`) });
}

const maxAbsDiff = (a: readonly number[], b: readonly number[]): number => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
};

describe.skipIf(!hasChromium)('explorer page in headless Chromium', () => {
  it('induction-2l: logits, hook_pattern and the patching heatmap equal Node; screenshots', async () => {
    const p = page as Page;
    await openModel(p, 'induction-2l', true);
    const got = await p.evaluate(() => {
      const x = (globalThis as unknown as Required<G>).__explorer;
      const r = x.run as NonNullable<ExplorerHandle['run']>;
      const pt = x.patch as NonNullable<ExplorerHandle['patch']>;
      return { ids: r.ids, logits: r.lastLogits ?? [], pattern1: r.patterns[1] ?? [], patch: pt.values, correct: pt.correct, incorrect: pt.incorrect, backend: x.backend };
    });
    const clean = await p.inputValue('#patch-clean');
    const corrupted = await p.inputValue('#patch-corrupted');
    await initBackend(undefined, { quiet: true });
    const model = await HookedTransformer.fromPretrained(join(REPO_ROOT, 'models', 'induction-2l'), { quiet: true });
    try {
      const tokens = model.toTokens(TEXT); // [1, pos]
      expect(got.ids).toEqual(Array.from(tokens.dataSync()));
      const [logits, cache] = model.runWithCache(tokens, { namesFilter: ['blocks.1.attn.hook_pattern'] });
      const n = got.ids.length;
      const nodeLast = Array.from(logits.slice([0, n - 1, 0], [1, 1, -1]).dataSync());
      const nodePattern = (cache.get('blocks.1.attn.hook_pattern').arraySync() as number[][][][])[0] as number[][][];
      logits.dispose();
      cache.dispose();
      tokens.dispose();
      const dLogits = maxAbsDiff(got.logits, nodeLast);
      const dPattern = maxAbsDiff(got.pattern1.flat(2), nodePattern.flat(2));
      // Patching: the same prompts and answers as the page, TL's get_act_patch_resid_pre.
      const cleanT = model.toTokens(clean);
      const corrT = model.toTokens(corrupted);
      const [cl, cleanCache] = model.runWithCache(cleanT, { namesFilter: (h) => h.endsWith('hook_resid_pre') });
      const patched = getActPatchResidPre(model, corrT, cleanCache, logitDiffMetric(got.correct, got.incorrect), { quiet: true });
      const nodePatch = patched.arraySync() as number[][];
      [cl, cleanCache, patched, cleanT, corrT].forEach((t) => t.dispose());
      const dPatch = maxAbsDiff(got.patch.flat(), nodePatch.flat());
      console.log(`explorer vs Node (${JSON.stringify(got.backend)}): logits ${n}×${got.logits.length} max|Δ| ${dLogits.toExponential(2)}, blocks.1.attn.hook_pattern max|Δ| ${dPattern.toExponential(2)}, resid_pre patching [${nodePatch.length}×${nodePatch[0]?.length}] max|Δ| ${dPatch.toExponential(2)}`);
      expect(got.logits.length).toBe(model.cfg.dVocab);
      expect(dLogits).toBeLessThan(TOL);
      expect(dPattern).toBeLessThan(TOL);
      expect(nodePatch.length).toBe(model.cfg.nLayers);
      expect(dPatch).toBeLessThan(TOL);
      // The heatmap shows those numbers: the SVG cells carry them, and hovering shows one.
      const cells = await p.locator('#patch-plot rect[data-v]').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-v'))));
      expect(maxAbsDiff(cells, nodePatch.flat())).toBeLessThan(TOL);
    } finally {
      model.dispose();
    }
    // Running again leaves no tensors behind (run, logit lens, patching, SAE all dispose theirs).
    const leak = await p.evaluate(async (text) => {
      const x = (globalThis as unknown as Required<G>).__explorer;
      const before = x.numTensors();
      await x.runText(text);
      return x.numTensors() - before;
    }, TEXT);
    expect(leak).toBe(0);
    // A two-token answer is refused with a message saying what to type.
    await p.fill('#patch-correct', ' food city');
    await p.click('#patch-run');
    await p.waitForSelector('#patch-plot .notice.error');
    expect(await p.locator('#patch-plot').textContent()).toMatch(/answer " food city" is 2 tokens .*type one token/);
    await p.fill('#patch-correct', '');
    await p.click('#patch-run');
    await p.waitForSelector('#patch-plot svg');
    await p.selectOption('#attn-layer', '1');
    await p.locator('#attn-plot rect[data-r="10"][data-c="3"]').hover();
    expect(await p.locator('#tooltip').textContent()).toMatch(/^L1H0: .* → .*: 0\.\d{4}$/);
    for (const v of ['tokens', 'attention', 'lens', 'predictions', 'patching', 'sae']) await shoot(p, v);
    expect(problems).toEqual([]);
  }, 80_000);

  it('distilbert-mini: encoder views, SAE and probe (or a clear message)', async () => {
    const p = page as Page;
    await openModel(p, 'distilbert-mini', false);
    const x = await p.evaluate(() => ({ n: (globalThis as unknown as Required<G>).__explorer.run?.tokens.length ?? 0, heads: (globalThis as unknown as Required<G>).__explorer.run?.patterns[0]?.length ?? 0, probe: (globalThis as unknown as Required<G>).__explorer.probe?.score }));
    const lensText = (await p.locator('#view-lens').textContent()) ?? '';
    expect(x.n).toBeGreaterThan(5);
    expect(x.heads).toBe(4);
    expect(lensText).toMatch(/encoder/);
    const probeText = (await p.locator('#view-probe').textContent()) ?? '';
    if (x.probe === undefined) expect(probeText).toMatch(/probe/i);
    else expect(Number.isFinite(x.probe)).toBe(true);
    const leak = await p.evaluate(async () => {
      const x = (globalThis as unknown as Required<G>).__explorer;
      const before = x.numTensors();
      await x.runText(x.run?.text ?? '');
      return x.numTensors() - before;
    });
    expect(leak).toBe(0);
    await shoot(p, 'probe');
    await p.locator('[data-view=attention]').screenshot({ path: join(IMG, 'explorer_attention_encoder.png') });
    if (await p.evaluate(() => (globalThis as unknown as Required<G>).__explorer.sae !== undefined)) await p.locator('[data-view=sae]').screenshot({ path: join(IMG, 'explorer_sae_encoder.png') });
    // An unknown model name gives a message naming the shipped ones, not a page error.
    await p.goto(`${(server as ExploreServer).url}?model=gpt-9`);
    await p.waitForFunction(() => (globalThis as unknown as G).__explorer?.status === 'error');
    expect(await p.locator('#status').textContent()).toMatch(/unknown model "gpt-9": pick one of induction-2l, distilbert-mini, llama-mini/);
    expect(problems).toEqual([]);
  }, 60_000);
});

describe('npm run explore', () => {
  it('starts, prints {url}, serves index.html with COOP/COEP, and exits 0 on SIGINT', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO_ROOT, 'scripts', 'explore.ts'), '--port', '0', '--json'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    const line = await new Promise<string>((ok, fail) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) ok(out.split('\n')[0] as string);
      });
      child.on('exit', (code) => fail(new Error(`explore exited ${code} before printing: ${err}`)));
    });
    const { url } = JSON.parse(line) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await res.text()).toContain('<title>tfjs-lens explorer</title>');
    expect((await fetch(`${url}..%2f..%2fpackage.json`)).status).not.toBe(200);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).not.toMatch(/\n\s+at /);
  }, 60_000);
});
