/**
 * loadCheckpointTensors: single file, sharded index, missing shard tensors/files, no weights;
 * readJsonFile errors.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, NotFoundError, WeightLoadError } from '../../../src/errors.js';
import { loadCheckpointTensors, parseShardIndex, readJsonFile } from '../../../src/io/checkpoint.js';
import { writeSafetensorsFile } from '../../../src/io/safetensors.js';
import { makeTempDir, removeDir } from './st_helpers.js';
import { bundledFixtureDir } from '../../helpers/fixtures.js';

const FIXTURES = bundledFixtureDir('gpt2-tiny');

let root: string;
beforeAll(async () => {
  root = await makeTempDir('ckpt');
});
afterAll(async () => {
  await removeDir(root);
});

/** A fresh subdirectory of the temp root. */
async function subdir(name: string): Promise<string> {
  const d = join(root, name);
  await mkdir(d, { recursive: true });
  return d;
}

/** Two-shard checkpoint: a, b in shard 1; c in shard 2. */
async function writeSharded(dir: string, weightMap: Record<string, string>): Promise<void> {
  await writeSafetensorsFile(join(dir, 'model-00001-of-00002.safetensors'), {
    a: { dtype: 'F32', shape: [2], data: [1, 2] },
    b: { dtype: 'I32', shape: [1], data: [5] },
  });
  await writeSafetensorsFile(join(dir, 'model-00002-of-00002.safetensors'), {
    c: { dtype: 'F16', shape: [2, 1], data: [0.5, -1] },
  });
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 14 }, weight_map: weightMap }));
}

const GOOD_MAP = {
  a: 'model-00001-of-00002.safetensors',
  b: 'model-00001-of-00002.safetensors',
  c: 'model-00002-of-00002.safetensors',
};

describe('loadCheckpointTensors', () => {
  it('loads a single-file checkpoint (gpt2-tiny fixture)', async () => {
    const tensors = await loadCheckpointTensors(FIXTURES);
    expect(tensors.size).toBe(28);
    expect(tensors.get('transformer.ln_f.weight')?.shape).toEqual([64]);
  });

  it('loads a sharded checkpoint, each name from its shard', async () => {
    const dir = await subdir('sharded');
    await writeSharded(dir, GOOD_MAP);
    const tensors = await loadCheckpointTensors(dir);
    expect([...tensors.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(Array.from(tensors.get('a')?.data ?? [])).toEqual([1, 2]);
    expect(tensors.get('b')?.data).toBeInstanceOf(Int32Array);
    expect(tensors.get('c')?.shape).toEqual([2, 1]);
    expect(Array.from(tensors.get('c')?.data ?? [])).toEqual([0.5, -1]);
  });

  it('prefers model.safetensors over an index when both exist', async () => {
    const dir = await subdir('both');
    await writeSharded(dir, GOOD_MAP);
    await copyFile(join(FIXTURES, 'model.safetensors'), join(dir, 'model.safetensors'));
    expect((await loadCheckpointTensors(dir)).size).toBe(28);
  });

  it('a name in weight_map missing from its shard → WeightLoadError listing it', async () => {
    const dir = await subdir('missing-tensor');
    await writeSharded(dir, { ...GOOD_MAP, d: 'model-00002-of-00002.safetensors', a: 'model-00002-of-00002.safetensors' });
    const p = loadCheckpointTensors(dir);
    await expect(p).rejects.toBeInstanceOf(WeightLoadError);
    await expect(loadCheckpointTensors(dir)).rejects.toThrow(
      /loadCheckpointTensors: tensors listed in .*index\.json not found in their shard — expected all 4 names, missing: a \(model-00002-of-00002\.safetensors\), d \(model-00002-of-00002\.safetensors\)/,
    );
  });

  it('a shard file named by the index is absent → WeightLoadError', async () => {
    const dir = await subdir('missing-shard');
    await writeSharded(dir, { ...GOOD_MAP, e: 'model-00003-of-00003.safetensors' });
    await expect(loadCheckpointTensors(dir)).rejects.toThrow(WeightLoadError);
    await expect(loadCheckpointTensors(dir)).rejects.toThrow(/missing shard files .*missing: model-00003-of-00003\.safetensors/);
  });

  it('no weights file → NotFoundError listing the files and the pytorch_model.bin note', async () => {
    const dir = await subdir('no-weights');
    await writeFile(join(dir, 'config.json'), '{}');
    await writeFile(join(dir, 'pytorch_model.bin'), 'x');
    await expect(loadCheckpointTensors(dir)).rejects.toBeInstanceOf(NotFoundError);
    await expect(loadCheckpointTensors(dir)).rejects.toThrow(
      /no weights in .*no-weights — expected model\.safetensors or model\.safetensors\.index\.json, found: config\.json, pytorch_model\.bin \[pytorch_model\.bin is not supported: convert/,
    );
    await expect(loadCheckpointTensors(join(root, 'does-not-exist'))).rejects.toThrow(/directory does not exist/);
  });

  it('bad index JSON → ConfigError; bad weight_map → WeightLoadError', async () => {
    const dir = await subdir('bad-index');
    await writeFile(join(dir, 'model.safetensors.index.json'), '{"weight_map": ');
    await expect(loadCheckpointTensors(dir)).rejects.toBeInstanceOf(ConfigError);
    await writeFile(join(dir, 'model.safetensors.index.json'), '{"weight_map": {"a": "../x.safetensors"}}');
    await expect(loadCheckpointTensors(dir)).rejects.toThrow(/bad shard file for 'a' .*got "\.\.\/x\.safetensors"/);
    expect(() => parseShardIndex({}, 'i.json')).toThrow(/parseShardIndex: bad weight_map in i\.json — expected a non-empty object/);
  });
});

describe('readJsonFile', () => {
  it('parses JSON, and raises ConfigError with the path on bad JSON', async () => {
    const dir = await subdir('json');
    await writeFile(join(dir, 'ok.json'), '{"n_layer": 2}');
    expect(await readJsonFile<{ n_layer: number }>(join(dir, 'ok.json'), 'model config')).toEqual({ n_layer: 2 });
    await writeFile(join(dir, 'bad.json'), '{n_layer: 2}');
    await expect(readJsonFile(join(dir, 'bad.json'), 'model config')).rejects.toBeInstanceOf(ConfigError);
    await expect(readJsonFile(join(dir, 'bad.json'), 'model config')).rejects.toThrow(
      /readJsonFile: model config at .*bad\.json is not valid JSON — /,
    );
    await expect(readJsonFile(join(dir, 'none.json'), 'model config')).rejects.toBeInstanceOf(NotFoundError);
  });
});
