/**
 * The one place tests find reference fixtures. Each fixture folder is a parameter: an environment
 * variable (e.g. GPT2_FIXTURE_DIR) points a whole run at another checkpoint of the same layout
 * (config.json, model.safetensors, reference.json, reference.safetensors); the default is the copy
 * under tests/fixtures/.
 */
import { resolve } from 'node:path';

/** Fixture folders the tests use, with the environment variable that overrides each. */
const FIXTURES = {
  'gpt2-tiny': 'GPT2_FIXTURE_DIR',
  'distilbert-tiny': 'DISTILBERT_FIXTURE_DIR',
  'bert-tiny': 'BERT_FIXTURE_DIR',
  'roberta-tiny': 'ROBERTA_FIXTURE_DIR',
  'llama-tiny': 'LLAMA_FIXTURE_DIR',
  'mistral-tiny': 'MISTRAL_FIXTURE_DIR',
  'qwen2-tiny': 'QWEN2_FIXTURE_DIR',
  'pythia-tiny': 'PYTHIA_FIXTURE_DIR',
  'seqcls-tiny/bert': 'SEQCLS_BERT_FIXTURE_DIR',
  'seqcls-tiny/distilbert': 'SEQCLS_DISTILBERT_FIXTURE_DIR',
  'seqcls-tiny/roberta': 'SEQCLS_ROBERTA_FIXTURE_DIR',
  'seqcls-tiny/llama': 'SEQCLS_LLAMA_FIXTURE_DIR',
  'lora-tiny/llama': 'LORA_LLAMA_FIXTURE_DIR',
  'lora-tiny/roberta': 'LORA_ROBERTA_FIXTURE_DIR',
} as const;

/** A fixture's name under tests/fixtures/. */
export type FixtureName = keyof typeof FIXTURES;

/**
 * Absolute path of a fixture folder: `$<ENV>` when set, else tests/fixtures/<name>.
 * @param name Fixture name, e.g. 'gpt2-tiny'.
 */
export function fixtureDir(name: FixtureName): string {
  return resolve(process.env[FIXTURES[name]] ?? `tests/fixtures/${name}`);
}

/** The default copy under tests/fixtures/ (for tests that build variants of the checkpoint files). */
export function bundledFixtureDir(name: FixtureName): string {
  return resolve(`tests/fixtures/${name}`);
}
