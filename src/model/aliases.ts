/**
 * Short model names: the demo models shipped in this package (`models/…`, usable offline) and the
 * real hub checkpoints the architectures support (resolved through the HF cache or the hub).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { NotFoundError } from '../errors.js';
import { hubCacheDir } from '../io/hub.js';
import { repoCacheDir } from '../io/hub_cache.js';
import { closeName } from '../utils/nearest.js';
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

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** True when `name` reads as a file-system path rather than a hub id (`name` or `owner/name`). */
function looksLocal(name: string): boolean {
  if (/^(\.|\/|~|[A-Za-z]:)/.test(name) || name.includes('\\') || name.split('/').length > 2) return true;
  const owner = name.includes('/') ? name.split('/')[0] ?? '' : undefined;
  return owner !== undefined && isDir(owner); // `models/distilbert_mini`: `models` is a folder here
}

/** The nearest existing entry next to a missing path (`models/distilbert_mini` → `models/distilbert-mini`). */
function nearestSibling(path: string): string | undefined {
  const parent = dirname(path);
  if (!isDir(parent)) return undefined;
  const near = closeName(basename(path), readdirSync(parent).filter((e) => !e.startsWith('.')));
  if (near === undefined) return undefined;
  return parent === '.' && !path.startsWith('./') ? near : `${parent}/${near}`;
}

function shippedNames(): string[] {
  return Object.keys(MODEL_ALIASES).filter((k) => MODEL_ALIASES[k]?.shippedPath !== undefined);
}

function hubNames(): string[] {
  return Object.keys(MODEL_ALIASES).filter((k) => MODEL_ALIASES[k]?.hubId !== undefined);
}

/** The NotFoundError of a name that is neither a folder, an alias nor a plausible hub id. */
function unknownModel(name: string): NotFoundError {
  const shipped = shippedNames();
  if (looksLocal(name)) {
    const near = nearestSibling(name) ?? closeName(name.replace(/^.*[/\\]/, ''), shipped);
    const hint = near !== undefined ? `; did you mean '${near}'?` : `; the shipped models are ${shipped.join(', ')}`;
    return new NotFoundError(`resolveAlias: no model folder '${name}' (looked in ${resolve(name)}; a path is never looked up on the hub)${hint}`);
  }
  const lower = Object.keys(MODEL_ALIASES).find((k) => k.toLowerCase() === name.toLowerCase());
  const near = lower ?? closeName(name, Object.keys(MODEL_ALIASES));
  const hint = near !== undefined ? ` did you mean '${near}'${lower !== undefined ? ' (names are case-sensitive)' : ''}?` : '';
  return new NotFoundError(
    `resolveAlias: unknown model '${name}';${hint} shipped (offline): ${shipped.join(', ')}; ` +
      `hub (need the network once): ${hubNames().join(', ')}, or any hub id 'owner/name'; or the path of a model folder`,
  );
}

/**
 * Resolve a short name to a folder (shipped models) or hub id, checking names locally first: a path
 * that exists is used as is; an alias maps to its folder or hub id; only a plausible hub id (`owner/name`
 * whose owner is not a local folder, or a name already in the hub cache) passes through to the hub.
 * A local folder of the same name in the working directory wins, as in transformers.
 * @param nameOrPath Alias, folder or hub id.
 * @param opts `cacheDir`: the hub cache to look in for bare names (default {@link hubCacheDir}());
 *   `endpoint` (or `$HF_ENDPOINT`): a custom hub, to which bare names pass through.
 * @returns What to hand to the loader.
 * @throws {@link "tfjs-lens"!NotFoundError} for a shipped alias whose folder is missing; for a path-like name
 *   that does not exist (naming the nearest existing folder); for an unknown bare name (naming the nearest
 *   alias, `gpt3` → `gpt2`, `induction-2L` → `induction-2l`), all before any network access.
 * @example resolveAlias('distilbert-mini')   // '/…/tfjs-lens/models/distilbert-mini'
 * @example resolveAlias('gpt3')              // NotFoundError: resolveAlias: unknown model 'gpt3'; did you mean 'gpt2'? …
 * @category Model
 */
export function resolveAlias(nameOrPath: string, opts: { readonly cacheDir?: string | undefined; readonly endpoint?: string | undefined } = {}): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  const a = Object.hasOwn(MODEL_ALIASES, nameOrPath) ? MODEL_ALIASES[nameOrPath] : undefined;
  if (a === undefined) {
    // Absolute paths and '..' are refused by validateRepoId (ConfigError) before any I/O; other path-like names here.
    const refusedLater = /^(\/|~|[A-Za-z]:)/.test(nameOrPath) || nameOrPath.split(/[/\\]/).includes('..');
    if (!refusedLater && looksLocal(nameOrPath)) throw unknownModel(nameOrPath);
    const bare = !nameOrPath.includes('/');
    const cached = bare && nameOrPath !== '' && existsSync(repoCacheDir(resolve(opts.cacheDir ?? hubCacheDir()), nameOrPath));
    const customHub = opts.endpoint !== undefined || (process.env['HF_ENDPOINT'] ?? '') !== '';
    if (bare && !cached && !customHub) throw unknownModel(nameOrPath);
    return nameOrPath;
  }
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
