/**
 * A small byte-level BPE trainer (the GPT-2 / Hugging Face `ByteLevel` + `BPE` scheme; Sennrich et
 * al. 2016, Radford et al. 2019): texts are split with GPT-2's regex, each piece becomes its UTF-8
 * bytes written in GPT-2's byte-to-unicode alphabet, and the most frequent adjacent pair is merged
 * until the vocabulary is full. Pair counts are updated incrementally (only the words holding the
 * merged pair are recounted), as HF `tokenizers`' BpeTrainer does. Ties go to the pair whose symbol
 * ids are smallest, so training is deterministic. Written here because the npm engine only encodes.
 */
import { GPT2_SPLIT } from '../../src/tokenizers/gpt2_bpe.js';

/**
 * GPT-2's reversible byte → printable character map (`bytes_to_unicode` in openai/gpt-2 encoder.py).
 * @returns 256 one-character strings, indexed by byte.
 */
export function bytesToUnicode(): string[] {
  const printable = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(printable(b) ? b : 256 + n++));
  return out;
}

/** A trained tokenizer: vocabulary (token → id) and merges in rank order. */
export interface TrainedBpe {
  /** Token → id: the 256 byte symbols (ids 0–255, byte order), then one per merge, then the special token. */
  readonly vocab: Record<string, number>;
  /** Merges in rank order, each `"left right"`. */
  readonly merges: string[];
  /** The special token (the last id). */
  readonly special: string;
}

/** Options of {@link trainByteLevelBpe}. */
export interface BpeTrainOptions {
  /** Total vocabulary, including the 256 bytes and the special token. */
  readonly vocabSize: number;
  /** The special token (default `<|endoftext|>`). */
  readonly special?: string;
  /** Smallest pair count that is still merged (default 2): training stops early below it. */
  readonly minFrequency?: number;
  /** Called every 250 merges. */
  readonly onProgress?: (merges: number) => void;
}

interface Word {
  syms: number[];
  readonly freq: number;
}

/** Pair (a, b) of symbol ids as one number; ids are < 2^20. */
const key = (a: number, b: number): number => a * 1048576 + b;

/** Word pieces of the texts (GPT-2 regex), in byte symbols, with their counts. */
function countWords(texts: readonly string[]): Word[] {
  const enc = new TextEncoder();
  const freq = new Map<string, number>();
  for (const t of texts) {
    for (const m of t.matchAll(GPT2_SPLIT)) freq.set(m[0], (freq.get(m[0]) ?? 0) + 1);
  }
  return [...freq.entries()].map(([w, f]) => ({ syms: Array.from(enc.encode(w)), freq: f }));
}

/**
 * Train byte-level BPE.
 * @param texts Training texts.
 * @param opts Vocabulary size, special token, minimum pair count, progress callback.
 * @returns Vocabulary and merges.
 */
export function trainByteLevelBpe(texts: readonly string[], opts: BpeTrainOptions): TrainedBpe {
  const special = opts.special ?? '<|endoftext|>';
  const minFrequency = opts.minFrequency ?? 2;
  const b2u = bytesToUnicode();
  const words = countWords(texts);
  const names = [...b2u]; // symbol id → its string
  const counts = new Map<number, number>(); // pair → occurrences
  const where = new Map<number, Set<number>>(); // pair → words that (may) hold it
  const addPairs = (w: number, sign: 1 | -1): void => {
    const { syms, freq } = words[w] as Word;
    for (let i = 0; i + 1 < syms.length; i++) {
      const k = key(syms[i] as number, syms[i + 1] as number);
      counts.set(k, (counts.get(k) ?? 0) + sign * freq);
      if (sign === 1) {
        let s = where.get(k);
        if (s === undefined) where.set(k, (s = new Set()));
        s.add(w);
      }
    }
  };
  words.forEach((_, w) => addPairs(w, 1));
  const merges: string[] = [];
  while (names.length < opts.vocabSize - 1) {
    let best = -1;
    let bestN = minFrequency - 1;
    for (const [k, n] of counts) if (n > bestN || (n === bestN && k < best)) [best, bestN] = [k, n];
    if (best < 0) break; // no pair occurs minFrequency times: stop early
    const a = Math.floor(best / 1048576);
    const b = best % 1048576;
    const ab = names.length;
    names.push((names[a] as string) + (names[b] as string));
    merges.push(`${names[a]} ${names[b]}`);
    for (const w of where.get(best) ?? []) {
      const s = (words[w] as Word).syms;
      if (!s.some((x, i) => x === a && s[i + 1] === b)) continue; // stale entry
      addPairs(w, -1);
      const next: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (s[i] === a && s[i + 1] === b) {
          next.push(ab);
          i++;
        } else next.push(s[i] as number);
      }
      (words[w] as Word).syms = next;
      addPairs(w, 1);
    }
    counts.delete(best);
    where.delete(best);
    if (merges.length % 250 === 0) opts.onProgress?.(merges.length);
  }
  const vocab: Record<string, number> = {};
  names.forEach((t, i) => (vocab[t] = i));
  vocab[special] = names.length;
  return { vocab, merges, special };
}

/**
 * A standard HF `tokenizer.json`: ByteLevel pre-tokenizer (GPT-2 regex, no prefix space), BPE model
 * with the vocabulary and merges, ByteLevel decoder, the special token as an added token.
 * @param bpe The trained tokenizer.
 * @returns JSON-serialisable object.
 */
export function tokenizerJson(bpe: TrainedBpe): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: bpe.vocab[bpe.special], content: bpe.special, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false,
      byte_fallback: false, vocab: bpe.vocab, merges: bpe.merges,
    },
  };
}
