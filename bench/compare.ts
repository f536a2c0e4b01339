/**
 * tfjs-lens vs PyTorch on the same workloads: forward and runWithCache of a random GPT-2-small-shaped
 * model (1x128, 8x128), a resid_pre activation-patching sweep (1x16 prompt pair, logit difference),
 * one SAE training step (768 -> 6144, batch 4096; standard and topk) and DistilBERT probe-feature
 * extraction (hook_q of a layer, mask-mean-pooled, 32 texts x 128 tokens). Shapes: bench/workloads.json.
 *
 * Our side runs in this process (one thread count) or in one child process per thread count, with
 * TFJS_LENS_WASM_THREADS=<n> set before the backend loads (TFJS_LENS_BACKEND picks the backend; with
 * tfjs-node installed the same command reports backend 'tensorflow'). When `/usr/bin/python3 -c
 * 'import torch'` works, bench/torch_ref.py runs the PyTorch side with the same thread count
 * (torch.set_num_threads, OMP_NUM_THREADS / OPENBLAS_NUM_THREADS, OMP_WAIT_POLICY=PASSIVE and, on
 * AVX-512 CPUs, OPENBLAS_CORETYPE=SkylakeX). The two sides never run at the same time.
 *
 * Run: npx tsx bench/compare.ts [--threads 1,2] [--runs 5] [--only forward,cache,patching,sae,probe]
 *        [--small] [--json] [--no-torch] [--python /usr/bin/python3]
 * Each figure: the median of --runs timed runs after one warm-up call; a workload under MIN_SAMPLE_S
 * (bench/timing.ts, 1 s) is called several times per run (both sides).
 * --json prints ONE JSON object on stdout; progress goes to stderr. See docs/performance.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printTable, rowsFor, type Pair } from './compare_report.js';
import { MIN_SAMPLE_S } from './timing.js';
import type { SideResult } from './compare_ours.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] ?? dflt) : dflt;
};
const flag = (name: string): boolean => argv.includes(`--${name}`);

const GROUP_NAMES = ['forward', 'cache', 'patching', 'sae', 'probe'];
const THREADS = opt('threads', process.env['TFJS_LENS_WASM_THREADS'] ?? '1').split(',').map(Number);
const RUNS = Number(opt('runs', '5'));
const ONLY = opt('only', GROUP_NAMES.join(',')).split(',').filter((g) => g !== '');
const SMALL = flag('small');
const JSON_OUT = flag('json');
const PYTHON = opt('python', '/usr/bin/python3');
const TORCH_REF = fileURLToPath(new URL('./torch_ref.py', import.meta.url));

function validate(): void {
  const bad = ONLY.filter((g) => !GROUP_NAMES.includes(g));
  if (bad.length > 0) throw new Error(`compare: unknown workload(s) ${bad.join(', ')}; expected some of ${GROUP_NAMES.join(', ')}`);
  if (THREADS.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`compare: --threads must be positive integers, got ${opt('threads', '')}`);
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`compare: --runs must be a positive integer, got ${RUNS}`);
}

/** Run a command, pass its stderr through, parse the last line of its stdout as JSON. */
function runJson(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<SideResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`compare: ${cmd} ${args.join(' ')} exited with ${code}`));
      try {
        resolve(JSON.parse(last) as SideResult);
      } catch {
        reject(new Error(`compare: no JSON on stdout of ${cmd} ${args.join(' ')}: ${last.slice(0, 200)}`));
      }
    });
  });
}

const sideArgs = (t: number): string[] => ['--threads', String(t), '--runs', String(RUNS), '--only', ONLY.join(','), ...(SMALL ? ['--small'] : [])];

/** OpenBLAS/OpenMP settings for t threads (PyTorch's side; ours too with the native-matmul prototype). */
function blasEnv(t: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: String(t), OPENBLAS_NUM_THREADS: String(t) };
  if (process.env['OPENBLAS_CORETYPE'] === undefined && cpuHasAvx512()) env['OPENBLAS_CORETYPE'] = 'SkylakeX';
  return env;
}

/**
 * Our side for one thread count: in this process when it is the only one, else in a child. The
 * native matmul's OpenBLAS (docs/performance.md, "Native matmul") gets the same settings as PyTorch's.
 */
async function ours(t: number): Promise<SideResult> {
  // The native matmul (on unless TFJS_LENS_NATIVE_MATMUL=0) gets the same BLAS settings as PyTorch.
  const env: NodeJS.ProcessEnv = { TFJS_LENS_WASM_THREADS: String(t), ...blasEnv(t) };
  if (THREADS.length === 1 || flag('ours-only')) {
    Object.assign(process.env, env); // before the backend module (and OpenBLAS) loads
    const { runOurs } = await import('./compare_ours.js');
    return runOurs({ threads: t, runs: RUNS, small: SMALL, groups: ONLY });
  }
  const script = fileURLToPath(import.meta.url);
  return runJson(process.execPath, [...process.execArgv, script, '--ours-only', ...sideArgs(t)], { ...process.env, ...env });
}

function torchAvailable(): boolean {
  if (flag('no-torch')) return false;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  return r.status === 0;
}

function torchSide(t: number): Promise<SideResult> {
  return runJson(PYTHON, [TORCH_REF, ...sideArgs(t), '--json'], { ...process.env, ...blasEnv(t) });
}

function cpuHasAvx512(): boolean {
  const r = spawnSync('grep', ['-q', '-m1', 'avx512f', '/proc/cpuinfo']);
  return r.status === 0;
}

async function main(): Promise<void> {
  validate();
  // With --json (and in child mode) stdout carries only the JSON object: send stray logs to stderr.
  if (JSON_OUT || flag('ours-only')) console.log = (...a: unknown[]): void => console.error(...a);
  if (flag('ours-only')) {
    // Child mode: one thread count, our side only, one JSON line on stdout.
    process.stdout.write(`${JSON.stringify(await ours(THREADS[0] as number))}\n`);
    return;
  }
  const withTorch = torchAvailable();
  if (!withTorch) process.stderr.write(`compare: PyTorch not available via ${PYTHON} (or --no-torch); reporting our side only\n`);
  const pairs: Pair[] = [];
  for (const t of THREADS) {
    process.stderr.write(`compare: ${t} thread(s): ours\n`);
    const o = await ours(t);
    let p: SideResult | undefined;
    if (withTorch) {
      process.stderr.write(`compare: ${t} thread(s): PyTorch\n`);
      p = await torchSide(t);
    }
    pairs.push({ threads: t, ours: o, pytorch: p });
  }
  if (JSON_OUT) {
    const result = {
      bench: 'compare', runs: RUNS, min_sample_s: MIN_SAMPLE_S, small: SMALL, only: ONLY,
      results: pairs.map((pr) => ({ threads: pr.threads, rows: rowsFor(pr), ours: pr.ours, pytorch: pr.pytorch ?? null })),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    printTable(pairs, RUNS);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
