/**
 * An uncaught error in a user script after the wasm backend started prints our typed error, not the
 * emscripten module's source: initBackend removes the module's rethrowing process-level handlers.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-uncaught-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('uncaught errors after initBackend', () => {
  it('a script that throws a HookNameError prints it first and only (< 2 KB of stderr, no wasm source)', () => {
    const src = (p: string): string => pathToFileURL(resolve(p)).href;
    const script = join(dir, 'throws.mts'); // .mts: an ES module wherever the temp dir is
    writeFileSync(script, [
      `import { initBackend } from '${src('src/backend/backend.ts')}';`,
      `import { HookNameError } from '${src('src/errors.ts')}';`,
      `await initBackend('wasm', { quiet: true });`,
      `throw new HookNameError("run: unknown hook 'blocks.0.hook_resid_prex'; did you mean 'blocks.0.hook_resid_pre'?");`,
      '',
    ].join('\n'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, TFJS_LENS_BACKEND: '' } });
    expect(r.status).toBe(1);
    expect(r.stderr.length).toBeLessThan(2048);
    expect(r.stderr).toContain("HookNameError: run: unknown hook 'blocks.0.hook_resid_prex'; did you mean 'blocks.0.hook_resid_pre'?");
    expect(r.stderr).not.toMatch(/ExitStatus|WebAssembly\.instantiate/);
  }, 90_000);
});
