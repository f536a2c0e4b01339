/**
 * Safetensors files on disk (Node): read and atomic write. The in-memory parser and serialiser
 * live in safetensors_bytes.ts (re-exported here); the browser bundle swaps this module for
 * safetensors.browser.ts.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SafetensorsError, WeightLoadError } from '../errors.js';
import { parseHeader, readHeaderLength, stError } from './safetensors_header.js';
import { fsError, serializeSafetensors, toRawTensor, type RawTensor, type SafetensorsContents, type TensorToWrite } from './safetensors_bytes.js';

export { fsError, parseSafetensors, serializeSafetensors } from './safetensors_bytes.js';
export type { RawTensor, SafeDtype, SafetensorsContents, TensorToWrite } from './safetensors_bytes.js';

/** Read exactly `length` bytes at `position`, in chunks (a single read is capped at 2 GiB). */
async function readExactly(fh: FileHandle, length: number, position: number, source: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const chunk = Math.min(length - done, 1 << 30);
    const { bytesRead } = await fh.read(out, done, chunk, position + done);
    if (bytesRead === 0) {
      throw stError(source, 'unexpected end of file', `expected ${length} bytes at offset ${position}, got ${done}`);
    }
    done += bytesRead;
  }
  return out;
}

/**
 * Read a safetensors file from disk. Reads the header, then each tensor straight into its own
 * buffer (no second copy of the file in memory; files over 2 GiB work).
 * @param path - file path
 * @returns tensors (header order) and metadata
 * @throws {@link "tfjs-lens"!NotFoundError} when the file does not exist
 * @throws {@link "tfjs-lens"!SafetensorsError} when the file is malformed
 * @throws {@link "tfjs-lens"!WeightLoadError} for other I/O errors
 * @example
 * const { tensors, metadata } = await readSafetensorsFile('gpt2/model.safetensors');
 * @category IO
 */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fsError('readSafetensorsFile', path, err);
  }
  try {
    const size = (await fh.stat()).size;
    const prefix = await readExactly(fh, Math.min(8, size), 0, path);
    const n = readHeaderLength(prefix, size, path);
    const header = parseHeader(await readExactly(fh, n, 8, path), size - 8 - n, path);
    const byOffset = [...header.entries].sort((a, b) => a.begin - b.begin);
    const decoded = new Map<string, RawTensor>();
    for (const e of byOffset) {
      const raw = await readExactly(fh, e.end - e.begin, header.dataStart + e.begin, path);
      decoded.set(e.name, toRawTensor(e, raw, true, path));
    }
    const tensors = new Map<string, RawTensor>();
    for (const e of header.entries) tensors.set(e.name, decoded.get(e.name) as RawTensor);
    return { tensors, metadata: header.metadata };
  } catch (err) {
    if (err instanceof SafetensorsError) throw err;
    throw fsError('readSafetensorsFile', path, err);
  } finally {
    await fh.close();
  }
}

/**
 * Write a safetensors file atomically: serialise, write a temp file in the same directory,
 * then rename over `path` (the temp file is removed on failure).
 * @param path - destination file
 * @param tensors - name → tensor
 * @param metadata - optional `__metadata__`
 * @returns nothing
 * @throws {@link "tfjs-lens"!SafetensorsError} for invalid tensors (nothing is written)
 * @throws {@link "tfjs-lens"!WeightLoadError} for I/O errors (`path` is left untouched)
 * @example
 * await writeSafetensorsFile('saes/gpt2/sae.safetensors', { W_enc: { dtype: 'F32', shape: [4, 8], data } });
 * @category IO
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const e = new WeightLoadError(`writeSafetensorsFile: could not write ${path} — ${(err as Error).message}`);
    e.cause = err;
    throw e;
  }
}
