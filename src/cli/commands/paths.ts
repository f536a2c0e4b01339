/** Paths of files that ship with the repository (resolved from this file, in src/ or dist/). */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository / package root (the folder holding package.json). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}

/** Default model of the demo: the tiny GPT-2 fixture (random weights) until a trained model ships. */
export function defaultDemoModel(): string {
  return join(packageRoot(), 'tests', 'fixtures', 'gpt2-tiny');
}
