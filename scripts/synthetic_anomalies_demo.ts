/**
 * Synthetic anomalies on real text: the first N ham messages of the shipped SMS Spam Collection, a
 * seeded fraction turned into typos, format errors and semantic shifts (default lexicon), with the
 * counts per family and edit, the honest skip counts, and 3 examples per family.
 * Run: npx tsx scripts/synthetic_anomalies_demo.ts [--rows 500] [--fraction 0.6] [--seed 0] [--json]
 */
import { floatOption, intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import { loadSmsSpam } from '../src/data/corpora.js';
import { ANOMALY_TYPES } from '../src/data/anomalies/types.js';
import { makeAnomalyDataset } from '../src/data/synthetic_anomalies.js';

const NAME = 'scripts/synthetic_anomalies_demo';
const OPTIONS = {
  rows: { type: 'string' },
  fraction: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

async function main(): Promise<number> {
  const { values } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const rows = intOption(NAME, values.rows, 'rows', { dflt: 500, min: 1, max: 5000 });
  const fraction = floatOption(NAME, values.fraction, 'fraction', { dflt: 0.6, min: 0, max: 1 });
  const seed = intOption(NAME, values.seed, 'seed', { dflt: 0 });
  const ham = (await loadSmsSpam()).filter((r) => r.label === 'ham').slice(0, rows).map((r) => r.text);
  const ds = makeAnomalyDataset(ham, { fraction, seed });
  const examples = Object.fromEntries(ANOMALY_TYPES.map((t) => [t, ds.rows.filter((r) => r.type === t).slice(0, 3).map((r) => ({ edit: r.edit, detail: r.detail, original: r.original, text: r.text }))]));
  const out = { script: 'synthetic_anomalies_demo', corpus: 'sms_spam (ham)', sourceRows: ham.length, fraction, seed, counts: ds.counts, skipped: ds.skipped, examples };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return 0;
  }
  console.log(`${ham.length} ham messages, fraction ${fraction}, seed ${seed}: ${ds.counts.normal} normal, ${ds.counts.anomalous} anomalous, ${ds.skipped.total} skipped`);
  for (const t of ANOMALY_TYPES) {
    console.log(`\n${t}: ${ds.counts.byType[t]} made, ${ds.skipped.byType[t]} skipped (no place for any ${t} edit)`);
    for (const e of examples[t] ?? []) console.log(`  [${e.edit}] ${e.detail}\n    - ${e.original}\n    + ${e.text}`);
  }
  console.log(`\nper edit: ${JSON.stringify(ds.counts.byEdit)}`);
  return 0;
}

await runCliMain(NAME, main);
