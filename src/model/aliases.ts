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
  gpt2: { hubId: 'gpt2', kind: 'decoder', description: 'GPT-2 small (124M)' },
  'gpt2-medium': { hubId: 'gpt2-medium', kind: 'decoder', description: 'GPT-2 medium (355M)' },
  'gpt2-large': { hubId: 'gpt2-large', kind: 'decoder', description: 'GPT-2 large (774M)' },
  'gpt2-xl': { hubId: 'gpt2-xl', kind: 'decoder', description: 'GPT-2 XL (1.5B)' },
  distilgpt2: { hubId: 'distilgpt2', kind: 'decoder', description: 'DistilGPT-2 (82M)' },
  'distilbert-base-uncased': { hubId: 'distilbert-base-uncased', kind: 'encoder', description: 'DistilBERT base, uncased' },
  'bert-base-uncased': { hubId: 'bert-base-uncased', kind: 'encoder', description: 'BERT base, uncased' },
  'bert-base-cased': { hubId: 'bert-base-cased', kind: 'encoder', description: 'BERT base, cased' },
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
          `train it with scripts/${nameOrPath === 'induction-2l' ? 'train_induction' : 'train_distilbert_mini'}.ts`,
      );
    }
    return dir;
  }
  return a.hubId ?? nameOrPath;
}
