/**
 * Short model names: the demo models shipped in this package (`models/…`, usable offline) and the
 * real hub checkpoints the architectures support (resolved through the HF cache or the hub).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from '../errors.js';
import { packageRoot } from '../utils/package_root.js';

/** One alias. @category Model */
interface ModelAlias {
  /** Folder inside the package, for shipped models. */
  readonly shippedPath?: string;
  /** Hub id, for hub models. */
  readonly hubId?: string;
  /** Which class loads it. */
  readonly kind: 'decoder' | 'encoder';
  /** What it is. */
  readonly description: string;
}

/** The alias table. @category Model */
export const MODEL_ALIASES: Readonly<Record<string, ModelAlias>> = {
  'induction-2l': { shippedPath: 'models/induction-2l', kind: 'decoder', description: '2-layer attention-only GPT-2-architecture model with an induction circuit (trained here)' },
  'distilbert-mini': { shippedPath: 'models/distilbert-mini', kind: 'encoder', description: 'small DistilBERT masked LM trained here on the shipped corpora' },
  'llama-mini': { shippedPath: 'models/llama-mini', kind: 'decoder', description: '4-layer Llama-architecture causal LM (GQA, rotary, SwiGLU) trained here on non-benchmark text' },
  gpt2: { hubId: 'gpt2', kind: 'decoder', description: 'GPT-2 small (124M)' },
  'gpt2-medium': { hubId: 'gpt2-medium', kind: 'decoder', description: 'GPT-2 medium (355M)' },
  'gpt2-large': { hubId: 'gpt2-large', kind: 'decoder', description: 'GPT-2 large (774M)' },
  'gpt2-xl': { hubId: 'gpt2-xl', kind: 'decoder', description: 'GPT-2 XL (1.5B)' },
  distilgpt2: { hubId: 'distilgpt2', kind: 'decoder', description: 'DistilGPT-2 (82M)' },
  'pythia-14m': { hubId: 'EleutherAI/pythia-14m', kind: 'decoder', description: 'Pythia 14M (GPT-NeoX)' },
  'pythia-70m': { hubId: 'EleutherAI/pythia-70m', kind: 'decoder', description: 'Pythia 70M (GPT-NeoX)' },
  'pythia-160m': { hubId: 'EleutherAI/pythia-160m', kind: 'decoder', description: 'Pythia 160M (GPT-NeoX)' },
  'pythia-410m': { hubId: 'EleutherAI/pythia-410m', kind: 'decoder', description: 'Pythia 410M (GPT-NeoX)' },
  'pythia-70m-deduped': { hubId: 'EleutherAI/pythia-70m-deduped', kind: 'decoder', description: 'Pythia 70M, deduplicated Pile' },
  'pythia-160m-deduped': { hubId: 'EleutherAI/pythia-160m-deduped', kind: 'decoder', description: 'Pythia 160M, deduplicated Pile' },
  'qwen2-0.5b': { hubId: 'Qwen/Qwen2-0.5B', kind: 'decoder', description: 'Qwen2 0.5B' },
  'qwen2.5-0.5b': { hubId: 'Qwen/Qwen2.5-0.5B', kind: 'decoder', description: 'Qwen2.5 0.5B' },
  'qwen2.5-0.5b-instruct': { hubId: 'Qwen/Qwen2.5-0.5B-Instruct', kind: 'decoder', description: 'Qwen2.5 0.5B Instruct' },
  'llama-3.2-1b': { hubId: 'meta-llama/Llama-3.2-1B', kind: 'decoder', description: 'Llama 3.2 1B (gated on the hub: needs HF_TOKEN)' },
  'tinyllama-1.1b': { hubId: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', kind: 'decoder', description: 'TinyLlama 1.1B chat (Llama architecture)' },
  'mistral-7b': { hubId: 'mistralai/Mistral-7B-v0.1', kind: 'decoder', description: 'Mistral 7B v0.1 (does not fit the wasm heap in float32)' },
  'roberta-base': { hubId: 'FacebookAI/roberta-base', kind: 'encoder', description: 'RoBERTa base' },
  'roberta-large': { hubId: 'FacebookAI/roberta-large', kind: 'encoder', description: 'RoBERTa large' },
  'distilbert-base-uncased': { hubId: 'distilbert-base-uncased', kind: 'encoder', description: 'DistilBERT base, uncased' },
  'bert-base-uncased': { hubId: 'bert-base-uncased', kind: 'encoder', description: 'BERT base, uncased' },
  'bert-base-cased': { hubId: 'bert-base-cased', kind: 'encoder', description: 'BERT base, cased' },
};

/** The script that trains each shipped model. */
const TRAIN_SCRIPT: Readonly<Record<string, string>> = {
  'induction-2l': 'train_induction', 'distilbert-mini': 'train_distilbert_mini', 'llama-mini': 'train_llama_mini',
};

/**
 * Resolve a short name to a folder (shipped models) or hub id; other strings pass through.
 * A local folder of the same name in the working directory wins, as in transformers.
 * @param nameOrPath Alias, folder or hub id.
 * @returns What to hand to the loader.
 * @throws {@link "tfjs-lens"!NotFoundError} for a shipped alias whose folder is missing.
 * @example resolveAlias('distilbert-mini')   // '/…/tfjs-lens/models/distilbert-mini'
 * @category Model
 */
export function resolveAlias(nameOrPath: string): string {
  const a = MODEL_ALIASES[nameOrPath];
  if (a === undefined || existsSync(nameOrPath)) return nameOrPath;
  if (a.shippedPath !== undefined) {
    const dir = join(packageRoot(), a.shippedPath);
    if (!existsSync(join(dir, 'config.json'))) {
      throw new NotFoundError(
        `resolveAlias: the shipped model '${nameOrPath}' is not in this build (${dir} is missing); ` +
          `train it with scripts/${TRAIN_SCRIPT[nameOrPath] ?? 'train_distilbert_mini'}.ts`,
      );
    }
    return dir;
  }
  return a.hubId ?? nameOrPath;
}
