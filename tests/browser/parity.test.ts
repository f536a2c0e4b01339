/**
 * The browser bundle (dist/browser/tfjs-lens.js) gives Node's numbers: the repo is served on
 * 127.0.0.1, headless Chromium imports the bundle, loads models/induction-2l and
 * models/distilbert-mini by URL and returns logits and hook activations, which must equal
 * `fromPretrained` in Node within 1e-4 (max abs diff printed). Also: a 404 URL gives a HubError
 * naming the URL, an HTML page instead of weights a typed error, the progress callback reaches the
 * total, fromPretrained in the browser throws the UsageError naming the URL loader, and the docs'
 * example page (docs/examples/browser_minimal.html) prints the top next tokens.
 * Skipped where /usr/bin/chromium is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookedEncoder, HookedTransformer, initBackend, tf } from '../../src/index.js';
import { loadSae } from '../../src/sae/io.js';
import { loadShippedSae } from '../../src/sae/shipped.js';
import { BetaVae } from '../../src/probe/beta_vae.js';
import { encodeBetaVae } from '../../src/probe/vae_codec.js';
import { vaeScores } from '../../src/probe/vae_scores.js';
import { serializeSafetensors } from '../../src/io/safetensors_bytes.js';
import { startStaticServer, type StaticServer } from '../helpers/static_server.js';
import { ensureBrowserBundle, REPO_ROOT } from '../helpers/browser_bundle.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const PROMPT = 'the cat sat on the mat. the cat sat on the';
const PATTERN = 'blocks.1.attn.hook_pattern';
const TEXT_ENC = 'the movie was great';
const ENC_HOOK = 'blocks.0.attn.hook_pattern';
const SAE_DIR = 'saes/distilbert-mini/blocks.0.attn.hook_q';
// The page imports the bundle and puts it on ((globalThis as PageGlobal).lens as Lens) (an import() inside page.evaluate would be rewritten by vitest).
const PAGE = '<!doctype html><meta charset="utf-8"><title>tfjs-lens</title><script type="module">import * as lens from "/dist/browser/tfjs-lens.js"; window.lens = lens;</script>';

/** The parts of the bundle's namespace the pages use (the page returns plain data). */
interface PageTensor { dataSync(): Float32Array; shape: number[]; dispose(): void }
interface PageCache { get(name: string): PageTensor; dispose(): void }
interface PageModel { runWithCache(input: string, opts: object): [PageTensor | undefined, PageCache]; toTokens(s: string): PageTensor; dispose(): void }
interface PageSae { cfg: { dIn: number }; encode(x: PageTensor): PageTensor; dispose(): void }
interface Lens {
  loadTransformerFromUrl(url: string, opts?: object): Promise<PageModel>;
  loadEncoderFromUrl(url: string, opts?: object): Promise<PageModel>;
  loadSaeFromUrl(url: string, opts?: object): Promise<PageSae>;
  loadShippedSaeFromUrl(saesUrl: string, model: string, hook: string, opts?: object): Promise<PageSae>;
  loadBetaVaeFromUrl(url: string, opts?: object): Promise<{ vae: { dispose(): void } }>;
  vaeScores(vae: unknown, rows: number[][]): { recon: number[]; negElbo: number[] };
  HookedTransformer: { fromPretrained(name: string): Promise<unknown> };
  tf: { getBackend(): string; tensor2d(v: number[][]): PageTensor; memory(): { numTensors: number } };
  initBrowserBackend(name: string): Promise<unknown>;
}
/** The page's global object (the module script sets `lens`). */
interface PageGlobal { lens?: Lens }

let browser: Browser | undefined;
let server: StaticServer | undefined;
let page: Page | undefined;
let vae: BetaVae | undefined;
const problems: string[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  await ensureBrowserBundle();
  const config = readFileSync(join(REPO_ROOT, 'models', 'induction-2l', 'config.json'), 'utf8');
  await initBackend(undefined, { quiet: true });
  vae = new BetaVae({ dIn: 6, hidden: [8], dLatent: 2 });
  const saved = encodeBetaVae(vae);
  server = await startStaticServer(REPO_ROOT, {
    files: {
      '/page.html': PAGE,
      '/broken/not-json/config.json': '<html><body>Sign in</body></html>',
      '/broken/bad-weights/config.json': config,
      '/broken/bad-weights/model.safetensors': 'this is not a safetensors file',
      '/vae/vae_config.json': JSON.stringify(saved.config),
      '/vae/vae_weights.safetensors': serializeSafetensors(new Map([...saved.tensors].map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }])), { format: saved.config.format }),
    },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(`${server.url}page.html`);
  await page.waitForFunction(() => (globalThis as PageGlobal).lens !== undefined, undefined, { timeout: 30_000 });
}, 60_000);

afterAll(async () => {
  vae?.dispose();
  await browser?.close();
  await server?.close();
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

interface DecoderResult { logits: number[]; shape: number[]; pattern: number[]; patShape: number[]; backend: string; progress: [number, number | null][]; tokens: number[] }

describe('browser bundle parity with Node', () => {
  it.skipIf(!hasChromium)('induction-2l by URL: logits and blocks.1.attn.hook_pattern equal Node within 1e-4', async () => {
    const base = `${(server as StaticServer).url}models/induction-2l/`;
    const r = await (page as Page).evaluate(
      async ([baseUrl, prompt, hook]) => {
        const lens = ((globalThis as PageGlobal).lens as Lens);
        const progress: [number, number | null][] = [];
        const model = await lens.loadTransformerFromUrl(baseUrl, { onProgress: (p: { loaded: number; total?: number }) => progress.push([p.loaded, p.total ?? null]) });
        const [maybeLogits, cache] = model.runWithCache(prompt, { namesFilter: (n: string) => n === hook });
        const logits = maybeLogits as PageTensor;
        const pat = cache.get(hook);
        const ids = model.toTokens(prompt);
        const out = {
          logits: Array.from(logits.dataSync()), shape: logits.shape, pattern: Array.from(pat.dataSync()), patShape: pat.shape,
          backend: lens.tf.getBackend(), progress, tokens: Array.from(ids.dataSync()),
        };
        ids.dispose();
        logits.dispose();
        cache.dispose();
        model.dispose();
        return out;
      },
      [base, PROMPT, PATTERN] as const,
    ) as DecoderResult;
    expect(r.backend).toBe('wasm');
    const model = await HookedTransformer.fromPretrained(join(REPO_ROOT, 'models', 'induction-2l'), { quiet: true });
    const [logits, cache] = model.runWithCache(PROMPT, { namesFilter: (n) => n === PATTERN });
    const tokens = Array.from(model.toTokens(PROMPT).dataSync());
    expect(r.tokens).toEqual(tokens);
    expect(r.shape).toEqual(logits.shape);
    const dLogits = maxAbsDiff(r.logits, logits.dataSync());
    const dPattern = maxAbsDiff(r.pattern, cache.get(PATTERN).dataSync());
    console.log(`induction-2l browser vs Node: logits max |diff| ${dLogits.toExponential(2)}, ${PATTERN} max |diff| ${dPattern.toExponential(2)}`);
    expect(dLogits).toBeLessThan(1e-4);
    expect(dPattern).toBeLessThan(1e-4);
    logits.dispose();
    cache.dispose();
    model.dispose();
    // Progress: bytes only grow and the last report reaches the total.
    const last = r.progress.at(-1) as [number, number | null];
    expect(r.progress.length).toBeGreaterThan(1);
    expect(last[0]).toBe(last[1]);
    expect(problems).toEqual([]);
  }, 60_000);

  it.skipIf(!hasChromium)('distilbert-mini by URL: blocks.0.attn.hook_pattern equals Node within 1e-4', async () => {
    const base = `${(server as StaticServer).url}models/distilbert-mini/`;
    const r = await (page as Page).evaluate(
      async ([baseUrl, text, hook]) => {
        const lens = ((globalThis as PageGlobal).lens as Lens);
        await lens.initBrowserBackend('wasm');
        const before = lens.tf.memory().numTensors;
        const enc = await lens.loadEncoderFromUrl(baseUrl);
        const [out, cache] = enc.runWithCache(text, { namesFilter: (n: string) => n === hook, returnType: 'none' });
        const act = cache.get(hook);
        const res = { values: Array.from(act.dataSync()), shape: act.shape, leaked: 0 };
        out?.dispose?.();
        cache.dispose();
        enc.dispose();
        res.leaked = lens.tf.memory().numTensors - before;
        return res;
      },
      [base, TEXT_ENC, ENC_HOOK] as const,
    );
    const enc = await HookedEncoder.fromPretrained(join(REPO_ROOT, 'models', 'distilbert-mini'), { quiet: true });
    const [, cache] = enc.runWithCache(TEXT_ENC, { namesFilter: (n) => n === ENC_HOOK, returnType: 'none' });
    const want = cache.get(ENC_HOOK);
    expect(r.shape).toEqual(want.shape);
    expect(r.leaked).toBe(0); // load + runWithCache + dispose leave no tensors behind
    const d = maxAbsDiff(r.values, want.dataSync());
    console.log(`distilbert-mini browser vs Node: ${ENC_HOOK} max |diff| ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-4);
    cache.dispose();
    enc.dispose();
  }, 60_000);

  it.skipIf(!hasChromium)('saes/distilbert-mini/blocks.0.attn.hook_q by URL: encode equals loadSae in Node within 1e-4', async () => {
    const base = `${(server as StaticServer).url}${SAE_DIR}/`;
    const r = await (page as Page).evaluate(async ([baseUrl]) => {
      const sae = await ((globalThis as PageGlobal).lens as Lens).loadSaeFromUrl(baseUrl);
      const d = sae.cfg.dIn;
      const x = ((globalThis as PageGlobal).lens as Lens).tf.tensor2d([0, 1, 2].map((row) => Array.from({ length: d }, (_, i) => Math.sin(1 + row * d + i))));
      const f = sae.encode(x);
      const out = { values: Array.from(f.dataSync()), shape: f.shape };
      x.dispose();
      f.dispose();
      sae.dispose();
      return out;
    }, [base] as const);
    const sae = await loadSae(join(REPO_ROOT, SAE_DIR));
    const d = sae.cfg.dIn;
    const x = tf.tensor2d([0, 1, 2].map((row) => Array.from({ length: d }, (_, i) => Math.sin(1 + row * d + i))));
    const want = sae.encode(x);
    expect(r.shape).toEqual(want.shape);
    const diff = maxAbsDiff(r.values, want.dataSync());
    console.log(`${SAE_DIR} browser vs Node: encode max |diff| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    tf.dispose([x, want]);
    sae.dispose();
  }, 60_000);

  it.skipIf(!hasChromium)('shipped SAEs by name (loadShippedSaeFromUrl): encode equals loadShippedSae in Node; an unknown hook names the nearest', async () => {
    const saesUrl = `${(server as StaticServer).url}saes/`;
    const r = await (page as Page).evaluate(async ([u]) => {
      const lens = (globalThis as PageGlobal).lens as Lens;
      const sae = await lens.loadShippedSaeFromUrl(u, 'induction-2l', 'blocks.0.hook_resid_post');
      const d = sae.cfg.dIn;
      const x = lens.tf.tensor2d([0, 1].map((row) => Array.from({ length: d }, (_, i) => Math.cos(2 + row * d + i))));
      const f = sae.encode(x);
      const out = { values: Array.from(f.dataSync()), shape: f.shape };
      x.dispose();
      f.dispose();
      sae.dispose();
      let error = '';
      try {
        (await lens.loadShippedSaeFromUrl(u, 'induction-2l', 'blocks.0.hook_resid_pre')).dispose();
      } catch (e) {
        error = `${(e as Error).name}: ${(e as Error).message}`;
      }
      return { ...out, error };
    }, [saesUrl] as const);
    const sae = await loadShippedSae('induction-2l', 'blocks.0.hook_resid_post');
    const d = sae.cfg.dIn;
    const x = tf.tensor2d([0, 1].map((row) => Array.from({ length: d }, (_, i) => Math.cos(2 + row * d + i))));
    const want = sae.encode(x);
    expect(r.shape).toEqual(want.shape);
    expect(maxAbsDiff(r.values, want.dataSync())).toBeLessThan(1e-4);
    expect(r.error).toMatch(/^ConfigError: loadShippedSaeFromUrl: no shipped SAE of 'induction-2l' at hook 'blocks\.0\.hook_resid_pre' — did you mean 'blocks\.0\.hook_resid_post'\?/);
    tf.dispose([x, want]);
    sae.dispose();
  }, 60_000);

  it.skipIf(!hasChromium)('a β-VAE probe by URL (loadBetaVaeFromUrl): vaeScores equal Node within 1e-4', async () => {
    const rows = [0, 1, 2, 3].map((r) => Array.from({ length: 6 }, (_, i) => Math.cos(r * 6 + i)));
    const got = await (page as Page).evaluate(async ([baseUrl, x]) => {
      const lens = (globalThis as PageGlobal).lens as Lens;
      const { vae: v } = await lens.loadBetaVaeFromUrl(baseUrl);
      const sc = lens.vaeScores(v, x);
      v.dispose();
      return { recon: sc.recon, negElbo: sc.negElbo };
    }, [`${(server as StaticServer).url}vae/`, rows] as const);
    const want = vaeScores(vae as BetaVae, rows);
    const d = Math.max(maxAbsDiff(got.recon, want.recon), maxAbsDiff(got.negElbo, want.negElbo));
    console.log(`β-VAE browser vs Node: vaeScores max |diff| ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-4);
  }, 60_000);

  it.skipIf(!hasChromium)('bad URLs give typed errors naming the URL; fromPretrained names the URL loader', async () => {
    const url = (server as StaticServer).url;
    const errs = await (page as Page).evaluate(
      async ([root]) => {
        const lens = ((globalThis as PageGlobal).lens as Lens);
        const grab = async (f: () => Promise<unknown>): Promise<string> => {
          try {
            await f();
            return 'no error';
          } catch (e) {
            return `${(e as Error).name}: ${(e as Error).message}`;
          }
        };
        return [
          await grab(() => lens.loadTransformerFromUrl(`${root}models/no-such-model/`)),
          await grab(() => lens.loadTransformerFromUrl(`${root}docs/`)),
          await grab(() => lens.HookedTransformer.fromPretrained('gpt2')),
          await grab(() => lens.loadSaeFromUrl(`${root}models/induction-2l/`)),
          await grab(() => lens.loadTransformerFromUrl(`${root}broken/not-json/`)),
          await grab(() => lens.loadTransformerFromUrl(`${root}broken/bad-weights/`, { tokenizer: null })),
          await grab(() => lens.loadTransformerFromUrl('http://[bad')),
        ];
      },
      [url] as const,
    );
    expect(errs[0]).toMatch(new RegExp(`^HubError: .*${url}models/no-such-model/config\\.json.*HTTP 404`));
    expect(errs[1]).toMatch(/^HubError: .*docs\/config\.json/);
    expect(errs[2]).toMatch(/^UsageError: HookedTransformer\.fromPretrained\('gpt2'\).*loadTransformerFromUrl/);
    expect(errs[3]).toMatch(/^HubError: .*models\/induction-2l\/cfg\.json.*404/);
    expect(errs[4]).toMatch(/^ConfigError: .*model config at http:\/\/127\.0\.0\.1:\d+\/broken\/not-json\/config\.json is not valid JSON/);
    expect(errs[5]).toMatch(/^SafetensorsError: .*broken\/bad-weights\/model\.safetensors/);
    expect(errs[6]).toMatch(/^HubError: loadTransformerFromUrl: 'http:\/\/\[bad' is not a URL/);
  }, 60_000);

  it.skipIf(!hasChromium)('docs/examples/browser_minimal.html (cross-origin isolated: threaded wasm) prints the top 5 next tokens Node gives', async () => {
    const isolated = await startStaticServer(REPO_ROOT, { crossOriginIsolated: true });
    const p = await (browser as Browser).newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    try {
      await p.goto(`${isolated.url}docs/examples/browser_minimal.html`);
      await p.waitForSelector('#out[data-done]', { timeout: 30_000 });
      expect(`${await p.getAttribute('#out', 'data-done')}: ${await p.textContent('#out')}`).toMatch(/^true: /);
      const lines = ((await p.textContent('#out')) ?? '').split('\n');
      const shown = lines.slice(0, 5).map((l) => JSON.parse(l.split('\t')[0] as string) as string);
      const tokens = JSON.parse((await p.getAttribute('#out', 'data-tokens')) ?? '[]') as number[];
      const model = await HookedTransformer.fromPretrained(join(REPO_ROOT, 'models', 'induction-2l'), { quiet: true });
      const logits = model.forward(tf.tensor2d([tokens], [1, tokens.length], 'int32'));
      const n = logits.shape[1] as number;
      const last = Array.from(logits.slice([0, n - 1, 0], [1, 1, -1]).dataSync());
      const top = last.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5).map(([, i]) => model.toString(i));
      console.log(`browser_minimal.html top-5: ${JSON.stringify(shown)}; ${lines[5]}`);
      expect(shown).toEqual(top);
      expect(shown[0]).toBe(model.toString(tokens[5] as number)); // the induction answer is the top token
      logits.dispose();
      model.dispose();
      // A string, not a function: vitest would rewrite an import() in a function passed to evaluate.
      const info = (await p.evaluate("import('/dist/browser/tfjs-lens.js').then((m) => ({ ...m.backendInfo(), isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }))")) as Record<string, unknown>;
      console.log(`browser_minimal.html backend: ${JSON.stringify(info)}`);
      expect(info).toMatchObject({ name: 'wasm', isolated: true, simd: true });
      // The threaded-SIMD build ran; XNNPACK caps its pool at half the logical cores (1 on a 2-core machine).
      expect(isolated.requests).toContain('/dist/browser/tfjs-backend-wasm-threaded-simd.wasm');
      expect(info['threadCount']).toBe(Math.max(1, Math.floor(Math.min(8, info['cores'] as number) / 2)));
      expect(errors).toEqual([]);
    } finally {
      await p.close();
      await isolated.close();
    }
  }, 60_000);
});
