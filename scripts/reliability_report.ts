/**
 * The reliability suite's table (issue 18): run tests/reliability/ (a loopback hub server injecting
 * faults, malformed files, hook abuse, hostile names, a soak) and count, per area, the cases that end
 * as documented (a typed error, a verified success or a documented behaviour) and the ones that do
 * not, by the failure kind in the first line of the assertion (hang = timeout, leak = tensor count,
 * partial file = `.incomplete`/temp file left, untyped = wrong error class, wrong output = any other).
 * The suite also runs in CI as part of `npm test`; this script only formats it.
 * Run: npx tsx scripts/reliability_report.ts [--soak 1000] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { soak: { type: 'string' }, json: { type: 'boolean', default: false } } });

/** The parts of vitest's JSON report read here. */
interface JsonReport {
  readonly testResults: readonly {
    readonly name: string;
    readonly assertionResults: readonly { readonly fullName: string; readonly status: string; readonly failureMessages: readonly string[]; readonly duration?: number }[];
  }[];
}

/** A failure's kind, from its message. */
function kind(message: string): string {
  if (/timed out|Test timed out/i.test(message)) return 'hang';
  if (/numTensors|leak/i.test(message)) return 'leak';
  if (/incomplete|\.tmp|partial/i.test(message)) return 'partial file';
  if (/toThrow|instanceOf|InstanceOf|TypeError|RangeError|Cannot read properties/.test(message)) return 'untyped error';
  return 'wrong output';
}

const AREAS: Record<string, string> = {
  'hub_faults.test.ts': 'hub download and cache faults',
  'hook_abuse.test.ts': 'hook abuse',
  'malformed_files.test.ts': 'malformed files and loader validation',
  'soak.test.ts': 'soak and hostile hook names',
};

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-reliability-'));
  const out = join(dir, 'report.json');
  const env = { ...process.env, ...(values.soak !== undefined ? { RELIABILITY_SOAK_ITERS: values.soak } : {}) };
  process.stderr.write('reliability: running tests/reliability (vitest) …\n');
  const t0 = performance.now();
  const r = spawnSync('npx', ['vitest', 'run', 'tests/reliability', '--reporter=json', `--outputFile=${out}`], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const seconds = (performance.now() - t0) / 1000;
  let report: JsonReport;
  try {
    report = JSON.parse(readFileSync(out, 'utf8')) as JsonReport;
  } catch (err) {
    process.stderr.write(`reliability: vitest wrote no report (exit ${r.status ?? 'signal'}): ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = report.testResults.map((f) => {
    const file = basename(f.name);
    const failed = f.assertionResults.filter((a) => a.status === 'failed');
    const kinds: Record<string, number> = {};
    for (const a of failed) {
      const k = kind(a.failureMessages[0] ?? '');
      kinds[k] = (kinds[k] ?? 0) + 1;
    }
    return {
      area: AREAS[file] ?? file, file, cases: f.assertionResults.length,
      as_documented: f.assertionResults.filter((a) => a.status === 'passed').length,
      failed: failed.length, skipped: f.assertionResults.filter((a) => a.status !== 'passed' && a.status !== 'failed').length,
      failures_by_kind: kinds, failed_cases: failed.map((a) => a.fullName),
    };
  });
  const sum = (k: 'cases' | 'as_documented' | 'failed' | 'skipped'): number => rows.reduce((s, x) => s + x[k], 0);
  const summary = {
    command: 'reliability_report', soak_rounds: Number(values.soak ?? process.env['RELIABILITY_SOAK_ITERS'] ?? 25), seconds: +seconds.toFixed(1),
    cases: sum('cases'), as_documented: sum('as_documented'), failed: sum('failed'), skipped: sum('skipped'), areas: rows,
  };
  if (summary.failed > 0) process.exitCode = 1;
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  console.log('| area | cases | as documented | failed | failures by kind |\n|---|---|---|---|---|');
  for (const x of rows) console.log(`| ${x.area} | ${x.cases} | ${x.as_documented} | ${x.failed} | ${Object.entries(x.failures_by_kind).map(([k, n]) => `${k} ${n}`).join(', ') || '—'} |`);
  console.log(`| **total** | ${summary.cases} | ${summary.as_documented} | ${summary.failed} | |`);
  for (const x of rows) for (const c of x.failed_cases) console.log(`failed: ${x.file}: ${c}`);
  console.log(`${summary.seconds} s (soak ${summary.soak_rounds} rounds)`);
}

main();
