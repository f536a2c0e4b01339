/**
 * Build variants of the gpt2-tiny fixture checkpoint on disk (other key layouts, shards, F16,
 * broken ones) and Hugging Face cache folders by hand, for the model-level loading tests.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { readSafetensorsFile, writeSafetensorsFile, type RawTensor, type TensorToWrite } from '../../src/io/safetensors.js';

/** Tensors to write, by name. */
export type TensorSet = Map<string, TensorToWrite>;

/** The fixture's `model.safetensors` as writable tensors (stored dtype kept, F32 here). */
export async function fixtureTensors(fixtureDir: string): Promise<TensorSet> {
  const { tensors } = await readSafetensorsFile(join(fixtureDir, 'model.safetensors'));
  const out: TensorSet = new Map();
  for (const [name, t] of tensors) out.set(name, asWritable(t));
  return out;
}

function asWritable(t: RawTensor): TensorToWrite {
  if (t.dtype !== 'F32') throw new TypeError(`fixture tensor has dtype ${t.dtype}; expected F32`);
  return { dtype: 'F32', shape: [...t.shape], data: t.data };
}

/** Copy of `tensors` with every name passed through `rename` (names mapped to undefined are dropped). */
export function renamed(tensors: TensorSet, rename: (name: string) => string | undefined): TensorSet {
  const out: TensorSet = new Map();
  for (const [name, t] of tensors) {
    const to = rename(name);
    if (to !== undefined) out.set(to, t);
  }
  return out;
}

/** GPT-2's causal-mask buffers as the original hub checkpoints store them (F32, per layer). */
export function attnBuffers(nLayers: number, nCtx: number): TensorSet {
  const mask = new Float32Array(nCtx * nCtx);
  for (let i = 0; i < nCtx; i++) for (let j = 0; j <= i; j++) mask[i * nCtx + j] = 1; // tril(ones)
  const out: TensorSet = new Map();
  for (let l = 0; l < nLayers; l++) {
    out.set(`h.${l}.attn.bias`, { dtype: 'F32', shape: [1, 1, nCtx, nCtx], data: mask });
    out.set(`h.${l}.attn.masked_bias`, { dtype: 'F32', shape: [], data: [-1e4] });
  }
  return out;
}

/** Write `dir/config.json` (the fixture's, or `config`) and `dir/model.safetensors`; returns `dir`. */
export async function writeCheckpoint(
  dir: string,
  fixtureDir: string,
  tensors: TensorSet | undefined,
  config?: string,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  if (config === undefined) await copyFile(join(fixtureDir, 'config.json'), join(dir, 'config.json'));
  else await writeFile(join(dir, 'config.json'), config);
  if (tensors !== undefined) await writeSafetensorsFile(join(dir, 'model.safetensors'), tensors);
  return dir;
}

/**
 * Write a sharded checkpoint: `model.safetensors.index.json` + one file per group of names, as
 * `save_pretrained(max_shard_size=…)` does. Returns the shard file names.
 */
export async function writeSharded(dir: string, tensors: TensorSet, nShards: number): Promise<string[]> {
  const names = [...tensors.keys()].sort();
  const per = Math.ceil(names.length / nShards);
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  let totalSize = 0;
  for (let s = 0; s < nShards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(nShards).padStart(5, '0')}.safetensors`;
    const part: TensorSet = new Map();
    for (const n of names.slice(s * per, (s + 1) * per)) {
      const t = tensors.get(n) as TensorToWrite;
      part.set(n, t);
      weightMap[n] = file;
      totalSize += 4 * t.data.length;
    }
    await writeSafetensorsFile(join(dir, file), part);
    files.push(file);
  }
  const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify(index, null, 2));
  return files;
}

/**
 * A `huggingface_hub`-style cache entry made by hand: `models--{org}--{name}/refs/main` holding
 * `commit`, and `snapshots/{commit}/` with plain copies of `files` (no blobs, no symlinks).
 * @returns the snapshot directory
 */
export async function handMadeHubCache(
  cacheDir: string,
  repoId: string,
  commit: string,
  fixtureDir: string,
  files: readonly string[],
): Promise<string> {
  const repoDir = join(cacheDir, `models--${repoId.split('/').join('--')}`);
  const snap = join(repoDir, 'snapshots', commit);
  await mkdir(join(repoDir, 'refs'), { recursive: true });
  await mkdir(snap, { recursive: true });
  await writeFile(join(repoDir, 'refs', 'main'), commit);
  for (const f of files) await copyFile(join(fixtureDir, f), join(snap, f));
  return snap;
}

/** Assert `a` and `b` have equal length and |a - b| <= atol everywhere; returns the max abs difference. */
export function expectAllClose(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, what: string): number {
  expect(a.length, `${what}: length`).toBe(b.length);
  let maxAbs = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d <= maxAbs)) {
      maxAbs = Number.isNaN(d) ? Infinity : d;
      at = i;
    }
  }
  expect(maxAbs, `${what}: max abs diff ${maxAbs} at flat index ${at} (atol ${atol})`).toBeLessThanOrEqual(atol);
  return maxAbs;
}
