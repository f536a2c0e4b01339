/**
 * Nearest valid names by edit distance (Levenshtein), for "did you mean" hints in error messages.
 */

/**
 * Levenshtein distance: the fewest single-character insertions, deletions and substitutions that turn `a` into `b`.
 * @param a First string.
 * @param b Second string.
 * @returns The distance (0 when equal).
 * @example editDistance('gpt3', 'gpt2')  // 1
 * @category Utils
 */
export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] ?? 0;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] ?? 0;
      dp[j] = Math.min((dp[j] ?? 0) + 1, (dp[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length] ?? 0;
}

/**
 * The `k` valid names nearest to `name` by edit distance (for error messages).
 * @param name The name that was not found.
 * @param valid The valid names.
 * @param k How many to return.
 * @returns Up to `k` names, nearest first.
 * @example nearestNames('blocks.0.attn.hook_qq', model.hookDict.keys())  // ['blocks.0.attn.hook_q', …]
 * @category Hooks
 */
export function nearestNames(name: string, valid: Iterable<string>, k = 3): string[] {
  return [...valid]
    .map((v) => [v, editDistance(name, v)] as const)
    .sort((x, y) => x[1] - y[1])
    .slice(0, k)
    .map((x) => x[0]);
}

/**
 * The valid name nearest to `name` when it is close enough to be a likely typo (edit distance at most
 * max(2, a third of its length), ignoring case), else undefined.
 * @param name The name that was not found.
 * @param valid The valid names.
 * @returns The nearest valid name, or undefined when none is close.
 * @example closeName('gpt3', ['gpt2', 'llama-mini'])  // 'gpt2'
 * @category Utils
 */
export function closeName(name: string, valid: Iterable<string>): string | undefined {
  const [best] = nearestNames(name.toLowerCase(), [...valid].map((v) => v.toLowerCase()), 1);
  if (best === undefined) return undefined;
  const original = [...valid].find((v) => v.toLowerCase() === best);
  return editDistance(name.toLowerCase(), best) <= Math.max(2, Math.floor(best.length / 3)) ? original : undefined;
}
