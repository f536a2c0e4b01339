/**
 * Label configuration of a sequence-classification checkpoint (`*ForSequenceClassification`): the
 * `num_labels`, `id2label`, `label2id` and `problem_type` fields of its config.json, read as
 * Hugging Face `PretrainedConfig` reads them (id2label, when present, decides num_labels; both
 * absent means 2 labels `LABEL_0`, `LABEL_1`, which `save_pretrained` then leaves out of the file).
 */
import { ConfigError } from '../../errors.js';

/** HF `problem_type`: which loss `labels` get (undefined: decided per call, as HF). @category Model */
export type ProblemType = 'regression' | 'single_label_classification' | 'multi_label_classification';

const PROBLEM_TYPES: readonly ProblemType[] = ['regression', 'single_label_classification', 'multi_label_classification'];

/** The label fields of a config.json (HF `PretrainedConfig`, verbatim). @category Model */
export interface HfLabelFields {
  /** Number of labels (default 2; ignored when id2label is given, as HF). */
  num_labels?: number;
  /** Label names by class index (JSON keys are strings). */
  id2label?: Record<string, string>;
  /** Class index by label name (default: id2label inverted). */
  label2id?: Record<string, number>;
  /** 'regression', 'single_label_classification', 'multi_label_classification' or null. */
  problem_type?: string | null;
  /** Padding id: the decoder heads find the last real token from it. */
  pad_token_id?: number | number[] | null;
  /** HF model classes the checkpoint was saved from (e.g. `['LlamaForSequenceClassification']`). */
  architectures?: unknown;
}

/**
 * Whether config.json allows a sequence-classification head: `architectures` names a
 * `*ForSequenceClassification` class, or is absent (then the head's tensors decide). A checkpoint
 * saved from another class (`GPT2LMHeadModel`, `BertForMaskedLM`, …) never gets a head: tensors
 * such as `score.weight` in it are unexpected, as HF's loader reports them.
 * @param hf The config.json fields.
 * @returns True when a head may be read from the tensors.
 * @throws Never.
 * @example declaresClassifier({ architectures: ['GPT2LMHeadModel'] }); // false
 * @category Model
 */
export function declaresClassifier(hf: HfLabelFields): boolean {
  const a = hf.architectures;
  if (!Array.isArray(a) || a.length === 0) return true;
  return a.some((x) => typeof x === 'string' && x.endsWith('ForSequenceClassification'));
}

/**
 * Labels of a sequence-classification head (config.json's label fields in camelCase).
 * @category Model
 */
export interface LabelConfig {
  /** Number of outputs of the head (`num_labels`; 1 = regression unless problemType says otherwise). */
  readonly numLabels: number;
  /** Label name of each class index (`id2label`; default `LABEL_{i}`). */
  readonly id2label: Readonly<Record<number, string>>;
  /** Class index of each label name (`label2id`; default id2label inverted). */
  readonly label2id: Readonly<Record<string, number>>;
  /**
   * `problem_type` as config.json gives it; undefined: as HF decides per call — regression with
   * one label, single-label classification for integer class ids, multi-label for [batch, num_labels] targets.
   */
  readonly problemType: ProblemType | undefined;
}

/**
 * Read the label fields of a config.json.
 * @param hf Parsed config.json.
 * @param fn Caller name for errors.
 * @returns The label config.
 * @throws {@link "tfjs-lens"!ConfigError} for a non-integer or non-positive num_labels, id2label keys that are not
 *   0 … n−1, or an unknown problem_type.
 * @example labelConfigFromHf({ id2label: { '0': 'NEGATIVE', '1': 'POSITIVE' } }).numLabels  // 2
 * @category Model
 */
export function labelConfigFromHf(hf: HfLabelFields, fn = 'labelConfigFromHf'): LabelConfig {
  let id2label: Record<number, string>;
  if (hf.id2label !== undefined && hf.id2label !== null) {
    const entries = Object.entries(hf.id2label);
    id2label = {};
    for (const [k, v] of entries) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= entries.length || typeof v !== 'string') {
        throw new ConfigError(`${fn}: config.json id2label must map the indices 0 … ${entries.length - 1} to names, got ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
      }
      id2label[i] = v;
    }
  } else {
    const n = hf.num_labels ?? 2;
    if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${fn}: config.json num_labels must be a positive integer, got ${JSON.stringify(n)}`);
    id2label = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, `LABEL_${i}`]));
  }
  const numLabels = Object.keys(id2label).length;
  const label2id = hf.label2id ?? Object.fromEntries(Object.entries(id2label).map(([i, name]) => [name, Number(i)]));
  const pt = hf.problem_type ?? undefined;
  if (pt !== undefined && !PROBLEM_TYPES.includes(pt as ProblemType)) {
    throw new ConfigError(`${fn}: config.json problem_type '${pt}' is not one of ${PROBLEM_TYPES.join(', ')}`);
  }
  return { numLabels, id2label, label2id, problemType: pt as ProblemType | undefined };
}

/**
 * The label fields to write into a config.json (HF `save_pretrained` writes id2label/label2id
 * with string keys).
 * @param labels Label config.
 * @returns num_labels-free fields (HF derives num_labels from id2label), problem_type null when undefined.
 */
export function labelFieldsToHf(labels: LabelConfig): Required<Pick<HfLabelFields, 'id2label' | 'label2id' | 'problem_type'>> {
  return {
    id2label: Object.fromEntries(Object.entries(labels.id2label).map(([i, n]) => [String(i), n])),
    label2id: { ...labels.label2id },
    problem_type: labels.problemType ?? null,
  };
}
