/**
 * Every ```ts and ```bash block of README.md runs as written, offline (HF_HUB_OFFLINE=1), in this
 * checkout: TypeScript blocks are written to a scratch .mts file inside the repository (so
 * `import … from 'tfjs-lens'` resolves to the package itself, through `exports` and dist/) and run
 * with tsx; bash blocks run line by line, except the commands named in SKIP with the reason.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SCRATCH = join(ROOT, '.scratch-readme'); // gitignored (.scratch*/)
const run = promisify(execFile);
const ENV = { ...process.env, HF_HUB_OFFLINE: '1', TFJS_LENS_DEBUG: '' };

/** Commands not run here, with the reason. */
const SKIP: Readonly<Record<string, string>> = {
  'npm ci && npm start': 'reinstalls node_modules under the running suite and runs the probe benchmark (about 6 min; its parts have their own tests)',
  'npm test': 'runs the whole suite, this file included',
};

interface Block {
  readonly lang: 'ts' | 'bash';
  readonly code: string;
  readonly line: number;
}

function readmeBlocks(): Block[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(ts|typescript|bash|sh)\s*$/.exec(lines[i] as string);
    if (m === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && (lines[i] as string).trim() !== '```'; i++) body.push(lines[i] as string);
    blocks.push({ lang: m[1] === 'ts' || m[1] === 'typescript' ? 'ts' : 'bash', code: body.join('\n'), line: start + 1 });
  }
  return blocks;
}

/** The newest modification time under a folder (for a stale dist/). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const blocks = readmeBlocks();
const commands = blocks
  .filter((b) => b.lang === 'bash')
  .flatMap((b) => b.code.split('\n').map((l, k) => ({ cmd: l.replace(/\s+#.*$/, '').trim(), line: b.line + 1 + k })))
  .filter((c) => c.cmd !== '' && !c.cmd.startsWith('#'));

beforeAll(async () => {
  mkdirSync(SCRATCH, { recursive: true });
  // The set-up command (`npm ci`) builds dist/ through `prepare`; rebuild here when dist/ is missing or older than src/.
  const built = join(ROOT, 'dist', 'index.js');
  if (!existsSync(built) || statSync(built).mtimeMs < newest(join(ROOT, 'src'))) {
    // tsc emits even when it reports type errors elsewhere; the snippets below then say whether dist/ works.
    await run('npm', ['run', 'build', '--silent'], { cwd: ROOT, env: ENV, maxBuffer: 16 * 1024 * 1024 }).catch(() => undefined);
  }
  expect(existsSync(built)).toBe(true);
}, 300_000);

// The README's commands write under results/ as written; what they add there is removed afterwards,
// so a test run leaves results/ as it found it (entries that existed before are kept).
const RESULTS = join(ROOT, 'results');
const resultsBefore = new Set(existsSync(RESULTS) ? readdirSync(RESULTS) : []);

afterAll(() => {
  rmSync(SCRATCH, { recursive: true, force: true });
  if (!existsSync(RESULTS)) return;
  for (const e of readdirSync(RESULTS)) if (!resultsBefore.has(e)) rmSync(join(RESULTS, e), { recursive: true, force: true });
});

describe('README code blocks', () => {
  it('has the blocks this test expects (a ts example, the set-up and CLI commands)', () => {
    expect(blocks.some((b) => b.lang === 'ts' && b.code.includes("from 'tfjs-lens'"))).toBe(true);
    for (const skipped of Object.keys(SKIP)) expect(commands.map((c) => c.cmd)).toContain(skipped);
  });

  for (const [k, b] of blocks.entries()) {
    if (b.lang !== 'ts') continue;
    it(`ts block at README.md:${b.line} runs`, async () => {
      const file = join(SCRATCH, `snippet_${k}.mts`);
      writeFileSync(file, `${b.code}\n`);
      const { stderr } = await run(join(ROOT, 'node_modules', '.bin', 'tsx'), [file], { cwd: ROOT, env: ENV, maxBuffer: 16 * 1024 * 1024 });
      expect(stderr).not.toMatch(/Error/);
    }, 120_000);
  }

  for (const c of commands) {
    const reason = SKIP[c.cmd];
    if (reason !== undefined) {
      it.skip(`bash README.md:${c.line}: ${c.cmd} (${reason})`, () => undefined);
      continue;
    }
    it(`bash README.md:${c.line}: ${c.cmd}`, async () => {
      await run('bash', ['-c', c.cmd], { cwd: ROOT, env: ENV, maxBuffer: 16 * 1024 * 1024, timeout: 170_000 });
    }, 180_000);
  }
});
