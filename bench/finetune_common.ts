/**
 * Helpers of bench/finetune_sms.ts and bench/finetune_tabular.ts: list options (`--seeds 0,1,2`),
 * mean ± std cells, the markdown table, progress on stderr, and the results file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../src/errors.js';
import { packageRoot } from '../src/utils/package_root.js';

/** A comma-separated list of numbers, checked. */
export function numberList(cmd: string, raw: string | undefined, name: string, dflt: readonly number[], check: (x: number) => boolean, what: string): number[] {
  if (raw === undefined) return [...dflt];
  const xs = raw.split(',').map((s) => s.trim());
  const bad = xs.find((s) => s === '' || !check(Number(s)));
  if (bad !== undefined) throw new UsageError(`${cmd}: --${name} must be comma-separated ${what}, got '${bad}' in '${raw}' (e.g. --${name} ${dflt.join(',')})`);
  return xs.map(Number);
}

/** A comma-separated list of choices, checked. */
export function choiceList<T extends string>(cmd: string, raw: string | undefined, name: string, allowed: readonly T[], dflt: readonly T[]): T[] {
  if (raw === undefined) return [...dflt];
  const xs = raw.split(',').map((s) => s.trim());
  const bad = xs.find((s) => !(allowed as readonly string[]).includes(s));
  if (bad !== undefined) throw new UsageError(`${cmd}: --${name} items must be among ${allowed.join(', ')}, got '${bad}'`);
  return xs as T[];
}

/** Mean and population std of finite values (NaN when none). */
export function meanStd(xs: readonly (number | null)[]): { mean: number; std: number; n: number } {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, std: Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length), n: v.length };
}

/** `0.912 ± 0.011` (or `–`). */
export function cell(m: { mean: number; std: number; n: number }): string {
  return m.n === 0 ? '–' : `${m.mean.toFixed(3)} ± ${m.std.toFixed(3)}`;
}

/** A markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Progress line on stderr. */
export function progress(name: string, s: string): void {
  process.stderr.write(`${name}: ${s}\n`);
}

/** Write results/finetune/<file> (JSON and markdown), returning the paths. */
export function writeResults(file: string, json: unknown, markdown: string): { json: string; markdown: string } {
  const dir = join(packageRoot(), 'results', 'finetune');
  mkdirSync(dir, { recursive: true });
  const paths = { json: join(dir, `${file}.json`), markdown: join(dir, `${file}.md`) };
  writeFileSync(paths.json, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(paths.markdown, `${markdown}\n`);
  return paths;
}
