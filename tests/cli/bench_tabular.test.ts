/**
 * `tfjs-lens bench tabular` as a user runs it (subprocess): two small ADBench sets, one seed, a small
 * tree count, a short β-VAE; --json prints exactly one JSON object with per-set mean ± std for every
 * detector that ran, a mean row, and the files it wrote; scores are sane (every ROC-AUC / PR-AUC in
 * [0, 1], our Isolation Forest on breastw > 0.9). scikit-learn's detectors join in when some python3
 * imports sklearn; otherwise the output carries a note saying they were skipped. Mistakes exit 2.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { runTabularBench, subsampleRows } from '../../src/cli/commands/bench_tabular_run.js';
import { expectNoLeak } from '../helpers/memory.js';
import { runCli, type CliRun as Run } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'tfjs-lens-bench-tabular-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (args: readonly string[]): Promise<Run> => runCli(args);

interface Stat { mean: number; std: number }
interface Cell { rocAuc: Stat; prAuc: Stat; seeds: number }
interface Summary {
  command: string;
  datasets: string[];
  seeds: number[];
  detectors: string[];
  results: Record<string, Record<string, Cell>>;
  mean: Record<string, { rocAuc: number; prAuc: number }>;
  runs: { dataset: string; seed: number; detector: string; rocAuc: number; prAuc: number }[];
  notes: string[];
  sklearn: { version: string; python: string } | null;
  ifVsSklearn: { ours: number; sklearn: number; diff: number; within002: boolean } | null;
  files: { json: string; markdown: string };
}

describe('tfjs-lens bench tabular', () => {
  it('two sets, one seed: one JSON object, every detector per set, a mean row, sane scores', async () => {
    const out = join(tmp, 'out');
    const r = await cli(['bench', 'tabular', '--datasets', 'breastw,wine', '--seeds', '0', '--trees', '25', '--vae-epochs', '3', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const s = JSON.parse(lines[0] as string) as Summary;
    expect(s.command).toBe('bench tabular');
    expect(s.datasets).toEqual(['breastw', 'wine']);
    expect(s.seeds).toEqual([0]);
    const ours = ['iforest', 'mahalanobis', 'knn', 'pca', 'beta_vae'];
    const expected = s.sklearn === null ? ours : [...ours, 'sk_iforest', 'sk_lof', 'sk_ocsvm'];
    expect(s.detectors).toEqual(expected);
    if (s.sklearn === null) expect(s.notes.join(' ')).toMatch(/scikit-learn skipped/);
    else expect(s.ifVsSklearn).not.toBeNull();
    for (const ds of s.datasets) {
      expect(Object.keys(s.results[ds] ?? {}).sort()).toEqual([...expected].sort());
      for (const det of expected) {
        const c = s.results[ds]?.[det] as Cell;
        expect(c.seeds).toBe(1);
        expect(c.rocAuc.std).toBe(0);
        for (const v of [c.rocAuc.mean, c.prAuc.mean]) expect(v >= 0 && v <= 1).toBe(true);
      }
    }
    expect(s.runs).toHaveLength(2 * expected.length);
    expect(s.runs.every((x) => x.rocAuc >= 0 && x.rocAuc <= 1 && x.prAuc >= 0 && x.prAuc <= 1)).toBe(true);
    expect(s.results['breastw']?.['iforest']?.rocAuc.mean).toBeGreaterThan(0.9);
    const meanIf = ((s.results['breastw']?.['iforest']?.rocAuc.mean ?? 0) + (s.results['wine']?.['iforest']?.rocAuc.mean ?? 0)) / 2;
    expect(s.mean['iforest']?.rocAuc).toBeCloseTo(meanIf, 3);
    expect(existsSync(s.files.json) && existsSync(s.files.markdown)).toBe(true);
    const md = readFileSync(s.files.markdown, 'utf8');
    expect(md).toMatch(/\| breastw \| \d\.\d{3} ± \d\.\d{3} \|/);
    expect(md).toMatch(/\| \*\*mean\*\* \|/);
    expect(r.stderr).toMatch(/bench tabular: breastw: 683 rows × 9/);
  }, 300_000);

  it('in process: the β-VAE path leaves no tensors behind; splits keep 30% of each class in the test part', async () => {
    await initBackend(undefined, { quiet: true });
    const res = expectNoLeak(() => runTabularBench({
      dataDir: join(process.cwd(), 'data', 'tabular', 'adbench'), datasets: ['wine'], seeds: [0], detectors: ['beta_vae', 'iforest'],
      trees: 10, vaeEpochs: 2, scaler: 'standard', maxRows: 10000, log: () => undefined,
    }));
    expect(res.runs.map((r) => r.detector)).toEqual(['beta_vae', 'iforest']);
    // wine: 129 rows, 10 anomalies → test = round(0.3 · 119) + round(0.3 · 10) = 36 + 3.
    expect(res.sizes['wine']).toMatchObject({ rows: 129, used: 129, d: 13, anomalies: 10, test: 39, train: 90 });
    const sub = subsampleRows(20, 10, 0);
    expect(sub).toHaveLength(10);
    expect(new Set(sub).size).toBe(10);
    expect(subsampleRows(20, 10, 0)).toEqual(sub);
  });

  it('mistakes exit 2 with one line naming the fix', async () => {
    const [a, b, c] = await Promise.all([
      cli(['bench', 'tabular', '--datasets', 'breastww']),
      cli(['bench', 'tabulr']),
      cli(['bench', 'tabular', '--detectors', 'iforest,lof']),
    ]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown --datasets entry 'breastww'; did you mean 'breastw'\?/);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/did you mean 'tabular'/);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/unknown --detectors entry 'lof'/);
  }, 120_000);
});
