/** The package root (the folder holding package.json), found from this file in src/ or dist/. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @returns Absolute path of the tfjs-lens package root.
 * @category Utils
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'index.ts')) || existsSync(join(dir, 'dist', 'index.js'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}
