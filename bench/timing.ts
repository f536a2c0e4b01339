/**
 * The timing rule shared by the bench scripts (bench/common.ts `timeMedian`; bench/torch_ref.py
 * `time_median` follows it), kept free of imports so that bench/compare.ts can print it before any
 * backend loads.
 */

/**
 * Shortest timed sample in seconds. A workload faster than this is called several times per timed
 * run and the run's time divided by the count (as Python's `timeit` autorange does). On the shared
 * 2-vCPU machines this project runs on, single calls of one workload vary by up to 40% within
 * minutes on an otherwise idle machine (forward 1×128 at 2 threads: 0.30–0.43 s; the layer-0 probe:
 * 28–45 ms), so the median of three single calls measured the machine more than the code.
 * bench/torch_ref.py uses the same rule.
 */
export const MIN_SAMPLE_S = 1;

/**
 * Calls per timed run for a workload whose warm-up call took `warmupS` seconds: ⌈MIN_SAMPLE_S / warmupS⌉,
 * 1 to 100.
 * @param warmupS Seconds of the warm-up call.
 */
export function callsPerRun(warmupS: number): number {
  return Math.max(1, Math.min(100, Math.ceil(MIN_SAMPLE_S / Math.max(warmupS, 1e-6))));
}
