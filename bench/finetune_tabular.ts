/**
 * Benchmark (issue 19, 8b): Pima Indians Diabetes and Breast Cancer Wisconsin (data/tabular/, UCI,
 * CC BY 4.0), rows textualised with data/schemas/*.json, → distilbert-mini and llama-mini with LoRA,
 * focal vs class-weighted loss, stratified k-fold (10% of each fold's training rows for validation),
 * next to classical supervised models on the same folds and the same numeric features (median
 * imputation and standardisation fitted on the fold's training rows): mljs logistic regression
 * (ml-logistic-regression), random forest (ml-random-forest) and CART (ml-cart), and scikit-learn
 * (LogisticRegression, RandomForestClassifier) when python3 can import it (bench/finetune_sklearn.py),
 * else a note. Thresholds and temperatures are chosen on each fold's validation rows, never on its
 * test rows. Progress on stderr; one markdown table on stdout, or one JSON object with --json; results
 * in results/finetune/tabular.{json,md}.
 * Resumable (the full grid takes ~1.5 h on 2 cores): each finished fine-tuning run is appended to
 * results/finetune/.progress/<name>.jsonl, keyed by everything that defines it (dataset, seed, fold,
 * the fold's row indices, model, loss, training spec); a later invocation with the same options reuses
 * those runs (the output says how many) and computes the rest. Runs are deterministic given their key
 * (re-computed runs reproduce stored ones to the last digit); `--fresh` ignores stored runs.
 * Run: npx tsx bench/finetune_tabular.ts [--datasets pima,breast_cancer] [--models distilbert-mini,llama-mini]
 *   [--losses focal,weighted] [--folds 5] [--seeds 0] [--epochs 3] [--name tabular] [--fresh] [--quick] [--json]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix } from 'ml-matrix';
import LogisticRegression from 'ml-logistic-regression';
import { RandomForestClassifier } from 'ml-random-forest';
import { DecisionTreeClassifier } from 'ml-cart';
import { initBackend } from '../src/backend/backend.js';
import { stratifiedKFold, type Fold } from '../src/data/kfold.js';
import { loadTabularSchema, readTabularCsv, type TabularDataset } from '../src/data/tabular.js';
import { textualizeRows } from '../src/data/textualize.js';
import { chooseThreshold, classificationReport } from '../src/evals/classification.js';
import { averagePrecision, rocAuc } from '../src/probe/metrics.js';
import { intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import { SHIPPED_TABULAR } from '../src/cli/commands/finetune_data.js';
import { sklearnAvailable } from '../src/cli/commands/bench_tabular_run.js';
import { loadClassifier, trainAndEvaluate, type Part, type RunSpec } from '../src/cli/commands/finetune_run.js';
import { packageRoot } from '../src/utils/package_root.js';
import { cell, choiceList, markdownTable, meanStd, numberList, progress, writeResults } from './finetune_common.js';

const NAME = 'bench/finetune_tabular';
const OPTIONS = {
  datasets: { type: 'string' }, models: { type: 'string' }, losses: { type: 'string' }, folds: { type: 'string' }, seeds: { type: 'string' },
  epochs: { type: 'string' }, 'max-len': { type: 'string' }, name: { type: 'string', default: 'tabular' }, fresh: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
} as const;

interface Result { dataset: string; seed: number; fold: number; method: string; f1: number | null; rocAuc: number | null; prAuc: number | null }

/** Numeric feature matrix (categoricals by their number, nulls → NaN). */
function features(d: TabularDataset): number[][] {
  const cols = d.schema.columns.filter((c) => c.kind !== 'id').map((c) => c.name);
  return d.rows.map((r) => cols.map((c) => { const x = r.values[c]; return typeof x === 'number' ? x : x === null ? NaN : Number(x); }));
}

/** Median-impute and standardise with the training rows' statistics. */
function prepare(X: number[][], train: readonly number[]): (rows: readonly number[]) => number[][] {
  const d = X[0]?.length ?? 0;
  const stats = Array.from({ length: d }, (_, j) => {
    const v = train.map((i) => X[i]?.[j] as number).filter(Number.isFinite).sort((a, b) => a - b);
    const med = v[Math.floor(v.length / 2)] ?? 0;
    const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
    const sd = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, v.length)) || 1;
    return { med, mean, sd };
  });
  return (rows) => rows.map((i) => (X[i] as number[]).map((x, j) => { const s = stats[j] as { med: number; mean: number; sd: number }; return ((Number.isFinite(x) ? x : s.med) - s.mean) / s.sd; }));
}

/** Test F1 at the validation-chosen threshold, ROC-AUC and PR-AUC of scores. */
function scoreBinary(valScores: number[], valY: number[], testScores: number[], testY: number[]): Pick<Result, 'f1' | 'rocAuc' | 'prAuc'> {
  const th = new Set(valY).size === 2 ? chooseThreshold(valScores, valY).threshold : 0.5;
  const pred = testScores.map((s) => (s > th ? 1 : 0));
  const y = testY as (0 | 1)[];
  const f1 = classificationReport(testY, pred, { nClasses: 2 }).perClass[1]?.f1 ?? 0; // F1 of the anomalous class
  return { f1, rocAuc: rocAuc(testScores, y), prAuc: averagePrecision(testScores, y) };
}

/** mljs models on one fold: scores of validation and test rows. */
function classical(X: number[][], y: number[], f: Fold, seed: number): Record<string, Pick<Result, 'f1' | 'rocAuc' | 'prAuc'>> {
  const prep = prepare(X, f.train);
  const [tr, va, te] = [prep(f.train), prep(f.val), prep(f.test)];
  const yTr = f.train.map((i) => y[i] as number);
  const [yVa, yTe] = [f.val.map((i) => y[i] as number), f.test.map((i) => y[i] as number)];
  const lr = new LogisticRegression({ numSteps: 2000, learningRate: 5e-3 });
  lr.train(new Matrix(tr), Matrix.columnVector(yTr));
  // One-vs-all: classifier c scores "not c" high, so class 1 ⇔ score of classifier 0 minus that of classifier 1.
  const lrScore = (rows: number[][]): number[] => {
    const m = new Matrix(rows);
    const [s0, s1] = [lr.classifiers[0]?.testScores(m) ?? [], lr.classifiers[1]?.testScores(m) ?? []];
    return s0.map((a, i) => a - (s1[i] as number));
  };
  const rf = new RandomForestClassifier({ nEstimators: 100, seed, replacement: true, maxFeatures: 0.7 });
  rf.train(tr, yTr);
  const cart = new DecisionTreeClassifier({ maxDepth: 5, minNumSamples: 5 });
  cart.train(tr, yTr);
  return {
    'mljs logistic regression': scoreBinary(lrScore(va), yVa, lrScore(te), yTe),
    'mljs random forest': scoreBinary(rf.predictProbability(va, 1), yVa, rf.predictProbability(te, 1), yTe),
    'mljs CART (depth 5)': scoreBinary(cart.predict(va), yVa, cart.predict(te), yTe),
  };
}

/** scikit-learn on the same folds, or a note when no python3 (TFJS_LENS_PYTHON, python3, /usr/bin/python3) imports it. */
function sklearn(X: number[][], y: number[], folds: readonly Fold[], seed: number): { results: Record<string, Pick<Result, 'f1' | 'rocAuc' | 'prAuc'>>[]; note: string | null } {
  const py = sklearnAvailable('finetune_sklearn.py');
  if (!py.ok) return { results: [], note: py.note };
  const dir = mkdtempSync(join(tmpdir(), 'finetune-sklearn-'));
  try {
    writeFileSync(join(dir, 'in.json'), JSON.stringify({ X: X.map((r) => r.map((x) => (Number.isFinite(x) ? x : null))), y, folds, seed }));
    execFileSync(py.python, [py.script, join(dir, 'in.json'), join(dir, 'out.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
    const scores = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Record<string, { val: number[]; test: number[] }>[];
    return {
      note: `scikit-learn ${py.version} (${py.python})`,
      results: scores.map((byModel, k) => Object.fromEntries(Object.entries(byModel).map(([name, s]) => {
        const f = folds[k] as Fold;
        return [`scikit-learn ${name}`, scoreBinary(s.val, f.val.map((i) => y[i] as number), s.test, f.test.map((i) => y[i] as number))];
      }))),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Scores = Pick<Result, 'f1' | 'rocAuc' | 'prAuc'>;

/** Finished fine-tuning runs of earlier invocations (see the module comment), keyed by what defines each run. */
class Progress {
  private readonly done = new Map<string, Scores>();
  reused = 0;
  constructor(private readonly file: string, fresh: boolean) {
    if (fresh || !existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const { key, scores } = JSON.parse(line) as { key: string; scores: Scores };
        this.done.set(key, scores);
      } catch {
        // a line cut short by a killed run: that run is recomputed
      }
    }
  }

  static key(parts: Record<string, unknown>): string {
    return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  }

  get(key: string): Scores | undefined {
    const s = this.done.get(key);
    if (s !== undefined) this.reused++;
    return s;
  }

  add(key: string, scores: Scores): void {
    mkdirSync(join(this.file, '..'), { recursive: true });
    appendFileSync(this.file, `${JSON.stringify({ key, scores })}\n`);
  }
}

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const q = v.quick;
  const datasets = choiceList(NAME, v.datasets, 'datasets', ['pima', 'breast_cancer'] as const, ['pima', 'breast_cancer']);
  const models = choiceList(NAME, v.models, 'models', ['distilbert-mini', 'llama-mini'] as const, ['distilbert-mini', 'llama-mini']);
  const losses = choiceList(NAME, v.losses, 'losses', ['focal', 'weighted', 'ce'] as const, ['focal', 'weighted']);
  const k = intOption(NAME, v.folds, 'folds', { dflt: q ? 2 : 5, min: 2, max: 20 });
  const seeds = numberList(NAME, v.seeds, 'seeds', [0], (x) => Number.isInteger(x) && x >= 0, 'integers ≥ 0');
  const epochs = intOption(NAME, v.epochs, 'epochs', { dflt: q ? 1 : 3, min: 1 });
  const maxLen = intOption(NAME, v['max-len'], 'max-len', { dflt: 96, min: 8 });
  await initBackend(undefined, { quiet: true });
  // --name: the results file (results/finetune/<name>.{json,md}), so runs of parts of the grid do not overwrite each other.
  const name = /^[A-Za-z0-9_-]+$/.test(v.name) ? v.name : 'tabular';
  const outName = q ? `${name}_quick` : name;
  const stored = new Progress(join(packageRoot(), 'results', 'finetune', '.progress', `${outName}.jsonl`), v.fresh);
  const results: Result[] = [];
  const notes = new Set<string>();
  for (const dataset of datasets) {
    const schema = await loadTabularSchema(dataset);
    const full = await readTabularCsv(join(packageRoot(), 'data', 'tabular', SHIPPED_TABULAR[dataset] as string), schema);
    const data = q ? { ...full, rows: full.rows.filter((_, i) => i % 10 === 0) } : full; // --quick: every tenth row
    const texts = textualizeRows(data, { format: 'sentence' }).map((r) => r.text);
    const y = data.rows.map((r) => (r.anomaly ? 1 : 0));
    const X = features(data);
    for (const seed of seeds) {
      const folds = stratifiedKFold(y, { k, seed, valFraction: 0.1 });
      const sk = sklearn(X, y, folds, seed);
      if (sk.note !== null) notes.add(sk.note);
      for (const [fi, f] of folds.entries()) {
        const part = (idx: readonly number[]): Part => ({ texts: idx.map((i) => texts[i] as string), labels: idx.map((i) => y[i] as number) });
        for (const [method, m] of Object.entries({ ...classical(X, y, f, seed), ...(sk.results[fi] ?? {}) })) results.push({ dataset, seed, fold: fi, method, ...m });
        for (const model of models) {
          for (const loss of losses) {
            const spec: RunSpec = { mode: 'lora', lora: { r: 8, alpha: 16, dropout: 0.1 }, loss, focalGamma: 2, epochs, batch: 16, lr: 3e-3, maxLen, seed };
            const method = `${model} LoRA ${loss}`;
            const key = Progress.key({ dataset, quick: q, k, seed, fold: fi, rows: [f.train, f.val, f.test], model, spec });
            const done = stored.get(key);
            if (done !== undefined) {
              results.push({ dataset, seed, fold: fi, method, ...done });
              progress(NAME, `${dataset} seed ${seed} fold ${fi}: ${method}: stored run reused (test F1 ${done.f1?.toFixed(3)}, ROC-AUC ${done.rocAuc?.toFixed(3)})`);
              continue;
            }
            const clf = await loadClassifier(model, ['negative', 'positive'], seed);
            try {
              const r = trainAndEvaluate(clf, { train: part(f.train), val: part(f.val), test: part(f.test) }, spec, ['negative', 'positive'], { quiet: true });
              const scores: Scores = { f1: r.metrics.f1, rocAuc: r.metrics.rocAuc, prAuc: r.metrics.prAuc };
              results.push({ dataset, seed, fold: fi, method, ...scores });
              stored.add(key, scores);
              progress(NAME, `${dataset} seed ${seed} fold ${fi}: ${method}: test F1 ${r.metrics.f1?.toFixed(3)}, ROC-AUC ${r.metrics.rocAuc?.toFixed(3)} (${r.seconds.toFixed(1)} s)`);
            } finally {
              clf.dispose();
            }
          }
        }
      }
    }
  }
  const runs = { computed: results.filter((r) => r.method.includes(' LoRA ')).length - stored.reused, reusedFromEarlierInvocations: stored.reused };
  if (stored.reused > 0) notes.add(`${stored.reused} of ${runs.computed + stored.reused} fine-tuning runs were reused from earlier invocations of this command (results/finetune/.progress/${outName}.jsonl); --fresh recomputes them`);
  const groups = [...new Set(results.map((r) => `${r.dataset}\u0000${r.method}`))].map((g) => {
    const [dataset, method] = g.split('\u0000') as [string, string];
    const rs = results.filter((r) => r.dataset === dataset && r.method === method);
    return { dataset, method, n: rs.length, f1: meanStd(rs.map((r) => r.f1)), rocAuc: meanStd(rs.map((r) => r.rocAuc)), prAuc: meanStd(rs.map((r) => r.prAuc)) };
  });
  const md = [markdownTable(['data', 'method', 'runs (folds × seeds)', 'test F1', 'test ROC-AUC', 'test PR-AUC'], groups.map((g) => [g.dataset, g.method, String(g.n), cell(g.f1), cell(g.rocAuc), cell(g.prAuc)])), ...[...notes].map((n) => `\n${n}`)].join('\n');
  const config = { datasets, models, losses, folds: k, seeds, epochs, maxLen, quick: q };
  const files = writeResults(outName, { config, runs, table: groups, notes: [...notes], results }, md);
  if (v.json) process.stdout.write(`${JSON.stringify({ benchmark: 'finetune_tabular', config, runs, table: groups, notes: [...notes], files })}\n`);
  else console.log(md);
  return 0;
}

void runCliMain(NAME, main);
