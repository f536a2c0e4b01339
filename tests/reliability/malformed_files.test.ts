/**
 * Malformed artefacts on disk (issue 18): SAE and β-VAE folders, checkpoints, tokenizer folders and
 * safetensors files written to a temp dir with one fault each. Every case asserts the typed error
 * class and a message fragment naming the offending file, tensor or field. The lazy backend start
 * of the loaders is checked in fresh child processes (no backend initialised there).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError, SafetensorsError, TokenizerError, WeightLoadError } from '../../src/errors.js';
import { loadCheckpointTensors } from '../../src/io/checkpoint.js';
import { parseSafetensors, readSafetensorsFile, writeSafetensorsFile, type TensorToWrite } from '../../src/io/safetensors.js';
import { BetaVae } from '../../src/probe/beta_vae.js';
import { loadBetaVae, saveBetaVae } from '../../src/probe/vae_io.js';
import { loadSae } from '../../src/sae/io.js';
import { loadTokenizer, shippedTokenizerDir } from '../../src/tokenizers/load.js';
import { bytesOf, rawSafetensors } from '../unit/io/st_helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'tfjs-lens-malformed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
/** A fresh folder under the temp dir. */
function freshDir(tag: string): string {
  const d = join(tmp, `${tag}-${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

const D_IN = 3;
const D_SAE = 4;
const fill = (len: number, v = 0.5): Float32Array => new Float32Array(len).fill(v);

/** A v6 SAELens cfg.json for a small SAE, with overrides. */
function cfgJson(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architecture: 'standard', d_in: D_IN, d_sae: D_SAE, dtype: 'float32', device: 'cpu',
    apply_b_dec_to_input: true, normalize_activations: 'none', reshape_activations: 'none',
    metadata: { sae_lens_version: '6.18.0', hook_name: 'blocks.0.hook_resid_pre' }, ...over,
  };
}

/** Write an SAE folder; `tensors` overrides/extends the standard weights. */
async function writeSae(cfg: Record<string, unknown> | string, tensors: Record<string, Float32Array> = {}): Promise<string> {
  const dir = freshDir('sae');
  writeFileSync(join(dir, 'cfg.json'), typeof cfg === 'string' ? cfg : JSON.stringify(cfg));
  const w: Record<string, Float32Array> = { W_enc: fill(D_IN * D_SAE), b_enc: fill(D_SAE), W_dec: fill(D_SAE * D_IN), b_dec: fill(D_IN), ...tensors };
  const shapes: Record<string, number[]> = { W_enc: [D_IN, D_SAE], b_enc: [D_SAE], W_dec: [D_SAE, D_IN], b_dec: [D_IN], threshold: [D_SAE] };
  const out: Record<string, TensorToWrite> = {};
  for (const [name, data] of Object.entries(w)) out[name] = { dtype: 'F32', shape: shapes[name] ?? [data.length], data };
  await writeSafetensorsFile(join(dir, 'sae_weights.safetensors'), out);
  return dir;
}

/** Run a TS module in a fresh Node process (no backend initialised; default backend choice); returns stdout/stderr/status. */
function runChild(lines: string[]): { status: number | null; stdout: string; stderr: string } {
  const script = join(tmp, `child-${n++}.mts`); // .mts: an ES module wherever the temp dir is (no package.json there)
  writeFileSync(script, `${lines.join('\n')}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, TFJS_LENS_BACKEND: '', TFJS_LENS_QUIET: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const src = (p: string): string => pathToFileURL(resolve(p)).href;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('backend starts on first use (fresh process)', () => {
  it('loadSae initialises the backend; new BetaVae before any init throws BackendError naming initBackend()', async () => {
    const dir = await writeSae(cfgJson());
    const r = runChild([
      `import { loadSae } from '${src('src/sae/io.ts')}';`,
      `import { BetaVae } from '${src('src/probe/beta_vae.ts')}';`,
      'try { new BetaVae({ dIn: 4, dLatent: 2, hidden: [3] }); console.log("vae: constructed"); }',
      'catch (e) { console.log(`vae: ${e.name}: ${e.message}`); }',
      `const sae = await loadSae(${JSON.stringify(dir)});`,
      'console.log(`sae: ${sae.cfg.dSae}`);',
      'const vae = new BetaVae({ dIn: 4, dLatent: 2, hidden: [3] });',
      'console.log(`vae after: ${vae.cfg.dLatent}`);',
    ]);
    expect(r.stderr).not.toMatch(/Error|backend found/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/vae: BackendError: BetaVae: no tfjs backend is initialised .*initBackend\(\)/);
    expect(r.stdout).toContain(`sae: ${D_SAE}`);
    expect(r.stdout).toContain('vae after: 2');
  }, 120_000);

  it('loadBetaVae initialises the backend', async () => {
    const dir = freshDir('vae');
    const vae = new BetaVae({ dIn: 4, dLatent: 2, hidden: [3] });
    await saveBetaVae(vae, dir);
    vae.dispose();
    const r = runChild([
      `import { loadBetaVae } from '${src('src/probe/vae_io.ts')}';`,
      `const { vae } = await loadBetaVae(${JSON.stringify(dir)});`,
      'console.log(`loaded ${vae.cfg.dIn}`);',
    ]);
    expect(r.stderr).not.toMatch(/Error|backend found/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('loaded 4');
  }, 120_000);
});

describe('SAE folders', () => {
  it('refuses NaN and Inf weights, naming the tensors; allowNonFinite loads them', async () => {
    const W_enc = fill(D_IN * D_SAE);
    W_enc[5] = Number.NaN;
    const b_dec = fill(D_IN);
    b_dec[2] = Number.POSITIVE_INFINITY;
    const dir = await writeSae(cfgJson(), { W_enc, b_dec });
    const err = await loadSae(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightLoadError);
    expect((err as Error).message).toMatch(/loadSae: non-finite weights in .*'W_enc' \(1 of 12, first NaN at index 5\).*'b_dec' \(1 of 3, first Infinity at index 2\).*allowNonFinite/);
    const sae = await loadSae(dir, { allowNonFinite: true });
    expect(sae.cfg.dSae).toBe(D_SAE);
    sae.dispose();
  });

  it('refuses a NaN JumpReLU threshold', async () => {
    const threshold = fill(D_SAE, 0.1);
    threshold[0] = Number.NaN;
    const dir = await writeSae(cfgJson({ architecture: 'jumprelu' }), { threshold });
    await expect(loadSae(dir)).rejects.toThrow(WeightLoadError);
    await expect(loadSae(dir)).rejects.toThrow(/non-finite weights .*'threshold'/);
  });

  it.each([
    ['apply_b_dec_to_input', 'no', /field 'apply_b_dec_to_input' must be a boolean, got string "no"/],
    ['apply_b_dec_to_input', 'yes', /field 'apply_b_dec_to_input' must be a boolean, got string "yes"/],
    ['apply_b_dec_to_input', 0, /field 'apply_b_dec_to_input' must be a boolean, got number 0/],
    ['apply_b_dec_to_input', '1', /field 'apply_b_dec_to_input' must be a boolean, got string "1"/],
    ['apply_b_dec_to_input', null, /field 'apply_b_dec_to_input' must be a boolean, got null/],
    ['d_in', '3', /field 'd_in' must be a finite number, got string "3"/],
    ['dtype', 32, /field 'dtype' must be a string, got number 32/],
    ['l1_coefficient', 'big', /field 'l1_coefficient' must be a finite number/],
  ])('cfg.json %s = %j → ConfigError naming the field', async (field, value, re) => {
    const dir = await writeSae(cfgJson({ [field]: value }));
    const err = await loadSae(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).toContain('cfg.json');
  });

  it('refuses non-finite numbers (JSON 1e999 parses as Infinity) and a topk rescale flag given as a string', async () => {
    const inf = await writeSae(JSON.stringify(cfgJson()).replace(`"d_in":${D_IN}`, '"d_in":1e999'));
    await expect(loadSae(inf)).rejects.toThrow(/field 'd_in' must be a finite number, got Infinity/);
    const topk = await writeSae(cfgJson({ architecture: 'topk', k: 2, rescale_acts_by_decoder_norm: 'true' }));
    await expect(loadSae(topk)).rejects.toThrow(ConfigError);
    await expect(loadSae(topk)).rejects.toThrow(/'rescale_acts_by_decoder_norm' must be a boolean/);
  });

  it('names the valid architectures for an unknown one', async () => {
    const dir = await writeSae(cfgJson({ architecture: 'transcoder' }));
    const err = await loadSae(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/architecture "transcoder" is not supported — expected one of 'standard', 'gated', 'jumprelu', 'topk', 'batchtopk'/);
  });

  it('explains a cfg.json holding Python NaN', async () => {
    const dir = await writeSae(JSON.stringify(cfgJson()).replace('}', ',"l1_coefficient":NaN}'));
    await expect(loadSae(dir)).rejects.toThrow(WeightLoadError);
    await expect(loadSae(dir)).rejects.toThrow(/cfg\.json is not valid JSON.*NaN or Infinity/);
  });
});

describe('β-VAE folders', () => {
  async function savedVae(): Promise<string> {
    const dir = freshDir('vae');
    const vae = new BetaVae({ dIn: 4, dLatent: 2, hidden: [3] });
    await saveBetaVae(vae, dir);
    vae.dispose();
    return dir;
  }

  it('refuses a NaN weight, naming it; allowNonFinite loads it', async () => {
    const dir = await savedVae();
    const path = join(dir, 'vae_weights.safetensors');
    const { tensors, metadata } = await readSafetensorsFile(path);
    const out: Record<string, TensorToWrite> = {};
    for (const [name, t] of tensors) out[name] = { dtype: 'F32', shape: t.shape, data: t.data };
    (out['fc_mu.weight']?.data as Float32Array)[1] = Number.NaN;
    await writeSafetensorsFile(path, out, metadata);
    const err = await loadBetaVae(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightLoadError);
    expect((err as Error).message).toMatch(/loadBetaVae: non-finite weights in .*vae_weights\.safetensors .*'fc_mu\.weight'/);
    const { vae } = await loadBetaVae(dir, { allowNonFinite: true });
    vae.dispose();
  });

  it('refuses batchNorm: "no" with a ConfigError naming the field', async () => {
    const dir = await savedVae();
    const path = join(dir, 'vae_config.json');
    const json = JSON.parse(readFileSync(path, 'utf8')) as { config: Record<string, unknown> };
    json.config['batchNorm'] = 'no';
    writeFileSync(path, JSON.stringify(json));
    const err = await loadBetaVae(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/batchNorm must be a boolean, got "no"/);
  });

  it('refuses a vae_config.json holding null', async () => {
    const dir = await savedVae();
    writeFileSync(join(dir, 'vae_config.json'), 'null');
    await expect(loadBetaVae(dir)).rejects.toThrow(WeightLoadError);
    await expect(loadBetaVae(dir)).rejects.toThrow(/vae_config\.json is not a tfjs-lens\/beta-vae@1 file/);
  });
});

describe('model checkpoints', () => {
  it('refuses Inf weights in model.safetensors, naming the tensor; allowNonFinite loads them', async () => {
    const dir = freshDir('ckpt');
    const w = fill(6);
    w[3] = Number.NEGATIVE_INFINITY;
    await writeSafetensorsFile(join(dir, 'model.safetensors'), { 'h.0.mlp.weight': { dtype: 'F32', shape: [2, 3], data: w }, 'ids': { dtype: 'I32', shape: [1], data: [7] } });
    const err = await loadCheckpointTensors(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightLoadError);
    expect((err as Error).message).toMatch(/loadCheckpointTensors: non-finite weights in .*'h\.0\.mlp\.weight' \(1 of 6, first -Infinity at index 3\)/);
    expect((await loadCheckpointTensors(dir, { allowNonFinite: true })).size).toBe(2);
  });
});

describe('tokenizer folders', () => {
  const bert = (): { model: { vocab: Record<string, number> | string[]; unk_token: string }; added_tokens: { content: string }[] } =>
    JSON.parse(readFileSync(join(shippedTokenizerDir('distilbert-base-uncased'), 'tokenizer.json'), 'utf8'));
  function writeFolder(files: Record<string, string>): string {
    const dir = freshDir('tok');
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }
  async function expectTokError(files: Record<string, string>, re: RegExp): Promise<void> {
    const err = await loadTokenizer(writeFolder(files)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenizerError);
    expect((err as Error).message).toMatch(re);
  }

  it('tokenizer.json holding null or a number', async () => {
    await expectTokError({ 'tokenizer.json': 'null' }, /tokenizer\.json must hold a JSON object — got null/);
    await expectTokError({ 'tokenizer.json': '3' }, /tokenizer\.json must hold a JSON object — got number 3/);
  });

  it('tokenizer_config.json / vocab.json holding null or an array', async () => {
    await expectTokError({ 'vocab.txt': '[PAD]\n[UNK]\nhi\n', 'tokenizer_config.json': 'null' }, /tokenizer_config\.json must hold a JSON object — got null/);
    await expectTokError({ 'vocab.json': '["a","b"]', 'merges.txt': 'a b\n' }, /vocab\.json must hold a JSON object — got an array/);
  });

  it('WordPiece tokenizer.json without [UNK]', async () => {
    const json = bert();
    delete (json.model.vocab as Record<string, number>)['[UNK]'];
    json.added_tokens = json.added_tokens.filter((t) => t.content !== '[UNK]');
    await expectTokError({ 'tokenizer.json': JSON.stringify(json) }, /tokenizer\.json .*lacks its unknown token "\[UNK\]"/);
  });

  it('vocab.txt without [UNK]', async () => {
    await expectTokError({ 'vocab.txt': '[PAD]\nhello\nworld\n' }, /vocab\.txt lacks its unknown token "\[UNK\]"/);
  });

  it('a vocab given as an array', async () => {
    const json = bert();
    json.model.vocab = Object.keys(json.model.vocab);
    await expectTokError({ 'tokenizer.json': JSON.stringify(json) }, /tokenizer\.json model\.vocab must be an object of token → id — got an array/);
  });

  it('a vocab id that is not an integer', async () => {
    const json = bert();
    (json.model.vocab as Record<string, number>)['hello'] = 1.5;
    await expectTokError({ 'tokenizer.json': JSON.stringify(json) }, /model\.vocab: id of token "hello" must be an integer ≥ 0 — got number 1\.5/);
  });

  it('a special token named by the config but absent from the vocabulary', async () => {
    await expectTokError(
      { 'vocab.txt': '[PAD]\n[UNK]\nhi\n', 'tokenizer_config.json': JSON.stringify({ mask_token: '[MASK]', cls_token: '<cls>' }) },
      /special tokens named by the config are not in the vocabulary of .*vocab\.txt — missing cls_token "<cls>", mask_token "\[MASK\]"/,
    );
  });
});

describe('safetensors byte ranges', () => {
  const f32 = (shape: number[], begin: number, end: number): unknown => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
  const data = (bytes: number): Uint8Array => bytesOf(new Float32Array(bytes / 4));
  function expectBad(file: Uint8Array, re: RegExp): void {
    const name = `bad-${n++}.safetensors`;
    expect(() => parseSafetensors(file, name)).toThrow(SafetensorsError);
    expect(() => parseSafetensors(file, name)).toThrow(re);
  }

  it('two tensors on the same bytes', () => {
    expectBad(rawSafetensors({ a: f32([2], 0, 8), b: f32([2], 0, 8) }, data(8)), /overlapping tensors in bad-\d+\.safetensors .*tensor '(a|b)' to begin at 8/);
  });

  it('a tensor nested inside another', () => {
    expectBad(rawSafetensors({ a: f32([4], 0, 16), b: f32([1], 4, 8) }, data(16)), /overlapping tensors .*tensor 'b' to begin at 16 \(end of tensor 'a'\), got 4/);
  });

  it('partly overlapping tensors', () => {
    expectBad(rawSafetensors({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, data(12)), /overlapping tensors .*tensor 'b' to begin at 8/);
  });

  it('a range whose length is not numel × dtype size', () => {
    expectBad(rawSafetensors({ a: f32([3], 0, 8) }, data(8)), /byte length mismatch for tensor 'a' .*expected 12 bytes \(3 × 4 for F32 \[3\]\), got 8/);
  });

  it('ranges that do not cover the whole data buffer', () => {
    expectBad(rawSafetensors({ a: f32([2], 0, 8) }, data(12)), /tensors do not cover the data buffer .*expected the last tensor to end at 12/);
  });

  it('the same faults read from disk', async () => {
    const path = join(freshDir('st'), 'overlap.safetensors');
    writeFileSync(path, rawSafetensors({ a: f32([2], 0, 8), b: f32([1], 4, 8) }, data(8)));
    await expect(readSafetensorsFile(path)).rejects.toThrow(SafetensorsError);
    await expect(readSafetensorsFile(path)).rejects.toThrow(/overlapping tensors in .*overlap\.safetensors/);
  });
});
