/**
 * tfjs-lens explorer: pick a shipped model, type a text, and look at its tokens, attention
 * patterns, logit lens, next-token predictions, activation patching, SAE features and the probe's
 * anomaly score, all computed in the page by the library's browser bundle. Every file is fetched
 * by a relative URL, so the folder works from any static host. The numbers shown are also exposed on
 * `window.__explorer` (used by the browser tests).
 */
import { defaultAnswers, parseAnswer, patchResidPre, runDecoder, runEncoder, saeFeatures } from './compute.js';
import { fill, notice } from './dom.js';
import type { HookedEncoder, HookedTransformer, LensApi, LoadProgress, SparseAutoencoder } from './lens_api.js';
import { lens as library } from './lib.js';
import { probeForModel, type ProbeRunner } from './probe_loader.js';
import { saeForModel, type ShippedSae } from './sae_loader.js';
import { renderAttention } from './views/attention.js';
import { renderLogitLens, renderTopPredictions } from './views/lens.js';
import { renderPatchForm, renderPatchResult } from './views/patching.js';
import type { ExplorerHandle } from './types.js';
import { renderProbe } from './views/probe.js';
import { renderSae } from './views/sae.js';
import { renderTokens } from './views/tokens.js';

/** A shipped model and its default prompts. */
interface ModelEntry {
  readonly name: string;
  readonly kind: 'decoder' | 'encoder';
  readonly prompt: string;
  readonly clean?: string;
  readonly corrupted?: string;
}

const MODELS: readonly ModelEntry[] = [
  {
    name: 'induction-2l',
    kind: 'decoder',
    prompt: ' book night money power city food story book night money power city',
    clean: ' book night money power city food book night money power city',
    corrupted: ' book night money power city fire book night money power city',
  },
  { name: 'distilbert-mini', kind: 'encoder', prompt: 'Congratulations! You have won a free prize, call now to claim it.' },
  {
    name: 'llama-mini',
    kind: 'decoder',
    prompt: 'The company said on Monday that its profit rose.',
    clean: 'The company said on Monday. The company said on',
    corrupted: 'The company said on Tuesday. The company said on',
  },
];

declare global {
  interface Window {
    __explorer: ExplorerHandle;
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const views = {
  tokens: $('view-tokens'),
  attention: $('view-attention'),
  lens: $('view-lens'),
  preds: $('view-preds'),
  patching: $('view-patching'),
  sae: $('view-sae'),
  probe: $('view-probe'),
};
const statusEl = $<HTMLSpanElement>('status');
const progress = $<HTMLProgressElement>('load-progress');
const progressText = $<HTMLSpanElement>('load-text');
const picker = $<HTMLSelectElement>('model-picker');
const textBox = $<HTMLTextAreaElement>('text');
const runButton = $<HTMLButtonElement>('run');
const patchForm = renderPatchForm(views.patching);

let api: LensApi | undefined;
let current: { entry: ModelEntry; model: HookedTransformer | HookedEncoder; sae?: ShippedSae | string; probe?: ProbeRunner | string } | undefined;

const handle: ExplorerHandle = { status: 'starting', load, runText, runPatch, numTensors: () => library.tf.memory().numTensors };
window.__explorer = handle;

function setStatus(s: ExplorerHandle['status'], text: string): void {
  handle.status = s;
  document.body.dataset.status = s;
  statusEl.textContent = text;
  statusEl.className = `status ${s}`;
}

function fail(where: string, e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  handle.error = `${where}: ${msg}`;
  setStatus('error', handle.error);
  console.warn(handle.error);
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

function onProgress(p: LoadProgress): void {
  const file = p.url.split('/').pop() ?? '';
  if (p.total !== undefined && p.total > 0) {
    progress.max = p.total;
    progress.value = p.loaded;
  } else progress.removeAttribute('value');
  progressText.textContent = `${mb(p.loaded)}${p.total === undefined ? '' : ` / ${mb(p.total)}`} (${file})`;
}

/** Load a shipped model by name, with its SAE and probe when shipped. */
async function load(name: string): Promise<void> {
  const entry = MODELS.find((m) => m.name === name);
  if (entry === undefined) {
    fail('model', new Error(`unknown model "${name}": pick one of ${MODELS.map((m) => m.name).join(', ')}`));
    return;
  }
  let lens: LensApi;
  try {
    lens = await ensureApi();
  } catch (e) {
    fail('loading the tfjs-lens bundle (tfjs-lens.js next to this page)', e);
    return;
  }
  setStatus('loading', `loading ${name}…`);
  progressText.textContent = '';
  progress.hidden = false;
  progress.value = 0;
  current?.model.dispose();
  current = undefined;
  handle.model = undefined;
  const base = new URL(`models/${name}/`, document.baseURI).href;
  try {
    let model: HookedTransformer | HookedEncoder;
    if (entry.kind === 'decoder') model = await lens.loadTransformerFromUrl(base, { onProgress });
    else if (lens.loadEncoderFromUrl !== undefined) model = await lens.loadEncoderFromUrl(base, { onProgress });
    else throw new Error('this tfjs-lens bundle has no loadEncoderFromUrl');
    current = { entry, model };
    patchForm.enable(entry.kind === 'decoder');
    handle.backend = lens.backendInfo?.();
    handle.model = name;
    picker.value = name;
    textBox.value = entry.prompt;
    patchForm.clean.value = entry.clean ?? '';
    patchForm.corrupted.value = entry.corrupted ?? '';
    patchForm.correct.value = '';
    patchForm.incorrect.value = '';
    const cur = current;
    cur.sae = await saeForModel(lens, name, document.baseURI).catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
    cur.probe = await probeForModel(lens, name, document.baseURI).catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
    setStatus('ready', `${name} loaded (${entry.kind}, ${model.cfg.nLayers} layers × ${model.cfg.nHeads} heads)`);
  } catch (e) {
    fail(`loading ${name}`, e);
  } finally {
    progress.hidden = true;
  }
}

async function ensureApi(): Promise<LensApi> {
  if (api !== undefined) return api;
  await Promise.resolve();
  api = library;
  return library;
}

/** Run the current model on a text and redraw every view. */
async function runText(text: string): Promise<void> {
  const lens = await ensureApi();
  if (current === undefined) {
    fail('run', new Error('no model is loaded: pick one first'));
    return;
  }
  const { entry, model } = current;
  setStatus('running', `running ${entry.name}…`);
  await new Promise((r) => setTimeout(r, 0));
  try {
    const run = entry.kind === 'decoder' ? runDecoder(lens, model as HookedTransformer, text) : runEncoder(model as HookedEncoder, text);
    handle.run = run;
    renderTokens(views.tokens, run.tokens, run.ids);
    renderAttention(views.attention, { patterns: run.patterns, tokens: run.tokens, causal: entry.kind === 'decoder' });
    if (entry.kind === 'decoder') {
      if (run.lens !== undefined) renderLogitLens(views.lens, run.lens, run.tokens);
      else fill(views.lens, notice('This tfjs-lens bundle does not export logitLens.', 'error'));
      renderTopPredictions(views.preds, run.topPreds ?? [], run.tokens);
    } else {
      const why = `${entry.name} is an encoder (masked LM): the logit lens, next-token predictions and patching views are for decoders.`;
      fill(views.lens, notice(why));
      fill(views.preds, notice(why));
    }
    runSae(lens, text);
    await runProbe(text);
    if (entry.kind === 'decoder' && patchForm.clean.value !== '' && patchForm.corrupted.value !== '') await runPatch(patchForm.clean.value, patchForm.corrupted.value, patchForm.correct.value, patchForm.incorrect.value);
    else if (entry.kind !== 'decoder') fill(patchForm.out, notice('Activation patching is shown for decoders (induction-2l, llama-mini).'));
    setStatus('ready', `${entry.name}: ${run.tokens.length} tokens`);
  } catch (e) {
    fail('run', e);
  }
}

function runSae(lens: LensApi, text: string): void {
  if (current === undefined) return;
  const s = current.sae;
  handle.sae = undefined;
  if (s === undefined || typeof s === 'string') {
    fill(views.sae, notice(`No shipped SAE for ${current.entry.name}: ${s ?? 'none listed in saes/index.json'}.`));
    return;
  }
  try {
    const r = saeFeatures(lens, current.model, current.entry.kind, s.sae as SparseAutoencoder, s.hook, text);
    handle.sae = r;
    renderSae(views.sae, r, s.label, s.dashboard);
  } catch (e) {
    fill(views.sae, notice(`SAE: ${e instanceof Error ? e.message : String(e)}`, 'error'));
  }
}

async function runProbe(text: string): Promise<void> {
  if (current === undefined) return;
  const p = current.probe;
  handle.probe = undefined;
  if (p === undefined || typeof p === 'string') {
    fill(views.probe, notice(`No shipped probe for ${current.entry.name}: ${p ?? 'the anomaly probe ships with distilbert-mini'}.`));
    return;
  }
  try {
    const r = await p(current.model as HookedEncoder, text);
    handle.probe = r;
    renderProbe(views.probe, r);
  } catch (e) {
    fill(views.probe, notice(`Probe: ${e instanceof Error ? e.message : String(e)}`, 'error'));
  }
}

/** Run activation patching for the current decoder. */
async function runPatch(clean: string, corrupted: string, correct = '', incorrect = ''): Promise<void> {
  const lens = await ensureApi();
  if (current === undefined || current.entry.kind !== 'decoder') {
    fill(patchForm.out, notice('Activation patching needs a decoder model (induction-2l, llama-mini).', 'error'));
    return;
  }
  const model = current.model as HookedTransformer;
  patchForm.clean.value = clean;
  patchForm.corrupted.value = corrupted;
  try {
    const [da, db] = correct.trim() === '' || incorrect.trim() === '' ? defaultAnswers(lens, model, clean, corrupted) : [0, 0];
    const a = correct.trim() === '' ? da : parseAnswer(model, correct);
    const b = incorrect.trim() === '' ? db : parseAnswer(model, incorrect);
    patchForm.correct.value = model.tokenizer?.decodeToken(a) ?? `#${a}`;
    patchForm.incorrect.value = model.tokenizer?.decodeToken(b) ?? `#${b}`;
    const r = patchResidPre(lens, model, clean, corrupted, a, b);
    handle.patch = r;
    renderPatchResult(patchForm.out, r, (id) => model.tokenizer?.decodeToken(id) ?? `#${id}`);
  } catch (e) {
    handle.patch = undefined;
    fill(patchForm.out, notice(`Patching: ${e instanceof Error ? e.message : String(e)}`, 'error'));
  }
}

picker.replaceChildren(...MODELS.map((m) => Object.assign(document.createElement('option'), { value: m.name, textContent: `${m.name} (${m.kind})` })));
picker.addEventListener('change', () => void load(picker.value).then(() => runText(textBox.value)));
runButton.addEventListener('click', () => void runText(textBox.value));
textBox.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void runText(textBox.value);
});
patchForm.button.addEventListener('click', () => {
  setStatus('running', 'patching…');
  void runPatch(patchForm.clean.value, patchForm.corrupted.value, patchForm.correct.value, patchForm.incorrect.value).then(() => setStatus('ready', 'patched'));
});

const params = new URLSearchParams(location.search);
const first = params.get('model') ?? MODELS[0]?.name ?? 'induction-2l';
if (params.get('autorun') !== '0') {
  void load(first).then(async () => {
    if (current === undefined) return;
    const t = params.get('text');
    if (t !== null) textBox.value = t;
    await runText(textBox.value);
  });
} else {
  setStatus('ready', 'pick a model');
}
