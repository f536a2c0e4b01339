/**
 * The timing rule shared by the bench scripts (bench/common.ts `timeMedian`; bench/torch_ref.py
 * `time_median` follows it), kept free of imports so that bench/compare.ts can print it before any
 * backend loads.
 */

/**
 * Shortest timed sample in seconds. A workload faster than this is called several times per timed
 * run and the run's time divided by the count (as Python's `timeit` autorange does): the median of
 * three 30 ms calls on a shared 2-core machine measures the machine more than the code.
 * bench/torch_ref.py uses the same rule.
 */
export const MIN_SAMPLE_S = 0.25;

/**
 * Calls per timed run for a workload whose warm-up call took `warmupS` seconds: ⌈MIN_SAMPLE_S / warmupS⌉,
 * 1 to 100.
 * @param warmupS Seconds of the warm-up call.
 */
export function callsPerRun(warmupS: number): number {
  return Math.max(1, Math.min(100, Math.ceil(MIN_SAMPLE_S / Math.max(warmupS, 1e-6))));
}
