/**
 * Test helpers: hand-built safetensors files (arbitrary, possibly invalid, headers) and temp dirs.
 */
import { mkdtemp, readdir, lstat, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Bytes of a safetensors file with a raw header (object or string) and data buffer. */
export function rawSafetensors(
  header: unknown,
  data: Uint8Array = new Uint8Array(0),
  opts: { headerLength?: bigint; pad?: boolean } = {},
): Uint8Array {
  let headerBytes: Uint8Array;
  if (header instanceof Uint8Array) {
    headerBytes = header;
  } else {
    let text = typeof header === 'string' ? header : JSON.stringify(header);
    if (opts.pad === true) while (Buffer.byteLength(text) % 8 !== 0) text += ' ';
    headerBytes = new TextEncoder().encode(text);
  }
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, opts.headerLength ?? BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

/** Little-endian bytes of a typed array. */
export function bytesOf(a: Float32Array | Int32Array | Uint16Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Make a temp dir; returns its path. */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `tfjs-lens-${prefix}-`));
}

/** Remove a temp dir tree. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Every non-directory entry under `dir` (files and symlinks), as paths relative to `dir`. */
export async function listNonDirs(dir: string, rel = ''): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(dir, rel));
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = await lstat(join(dir, r));
    if (st.isDirectory()) out.push(...(await listNonDirs(dir, r)));
    else out.push(r);
  }
  return out;
}
