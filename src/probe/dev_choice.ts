/**
 * The one place the text benchmark makes a choice from labelled data: pick the candidate with the
 * highest ROC-AUC on the dev rows. It takes the rows' ids and refuses any id of the test part, so a
 * test (tests/unit/probe/protocol.test.ts) can check that no choice ever sees a test row.
 */
import { ConfigError, DatasetError } from '../errors.js';
import { rocAuc, type BinaryLabels } from './metrics.js';

/** Labelled dev rows a choice is made on. @category Probe */
export interface DevRows {
  /** Row ids (as in {@link ProbeSplits}). */
  readonly ids: readonly number[];
  /** 1 = anomaly. */
  readonly labels: BinaryLabels;
}

/** One candidate: its name and its scores on the dev rows (aligned with `ids`). @category Probe */
export interface DevCandidate {
  /** Candidate name (a detector, pooling or grid cell). */
  readonly name: string;
  /** Scores of the dev rows. */
  readonly scores: readonly number[];
}

/** What was chosen. @category Probe */
export interface DevChoice {
  /** The chosen candidate. */
  readonly name: string;
  /** Dev ROC-AUC of every candidate. */
  readonly devAuroc: Readonly<Record<string, number>>;
}

/**
 * Choose the candidate with the highest dev ROC-AUC (first one on ties).
 * @param rows Dev rows: ids and labels.
 * @param candidates Names and dev scores.
 * @param guard forbidden: ids that must not appear (the test part); onChoice: called with the ids
 *   each choice received (for tests).
 * @returns The chosen name and every candidate's dev AUROC.
 * @throws {@link "tfjs-lens"!DatasetError} if a row id is forbidden, or lengths differ;
 *   {@link "tfjs-lens"!ConfigError} for no candidates.
 * @example chooseOnDev({ ids, labels }, [{ name: 'mean', scores: a }, { name: 'sqrtn', scores: b }]).name
 * @category Probe
 */
export function chooseOnDev(rows: DevRows, candidates: readonly DevCandidate[], guard: { forbidden?: ReadonlySet<number>; onChoice?: (ids: readonly number[]) => void } = {}): DevChoice {
  if (candidates.length === 0) throw new ConfigError('chooseOnDev: need at least one candidate');
  const bad = guard.forbidden === undefined ? undefined : rows.ids.find((id) => guard.forbidden?.has(id));
  if (bad !== undefined) throw new DatasetError(`chooseOnDev: row ${bad} is a test row — choices are made on dev rows only`);
  guard.onChoice?.(rows.ids);
  const devAuroc: Record<string, number> = {};
  let best = candidates[0] as DevCandidate;
  for (const c of candidates) {
    if (c.scores.length !== rows.labels.length) throw new DatasetError(`chooseOnDev: candidate '${c.name}' has ${c.scores.length} scores for ${rows.labels.length} dev rows`);
    devAuroc[c.name] = rocAuc(c.scores, rows.labels);
    if ((devAuroc[c.name] as number) > (devAuroc[best.name] as number)) best = c;
  }
  return { name: best.name, devAuroc };
}
