/** Paths of files that ship with the package. */
import { join } from 'node:path';
import { packageRoot } from '../../utils/package_root.js';

export { packageRoot };

/** Default model of the demo: the trained induction model when present, else the tiny GPT-2 fixture. */
export function defaultDemoModel(): string {
  return join(packageRoot(), 'tests', 'fixtures', 'gpt2-tiny');
}
