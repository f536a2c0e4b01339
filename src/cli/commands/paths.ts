/** Paths of files that ship with the package. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../utils/package_root.js';

export { packageRoot };

/**
 * Default model of `demo` and `hooks`: the shipped, text-trained `llama-mini` (real predictions), else
 * (a build without it) the tiny GPT-2 test fixture.
 */
export function defaultDemoModel(): string {
  return existsSync(join(packageRoot(), 'models', 'llama-mini', 'config.json')) ? 'llama-mini' : join(packageRoot(), 'tests', 'fixtures', 'gpt2-tiny');
}
