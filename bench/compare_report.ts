/**
 * Table and JSON rows of bench/compare.ts: per workload, our median seconds, PyTorch's, and the
 * ratio (ours / PyTorch: above 1 means we are slower), plus the backend / BLAS in use and the extra
 * figures both sides report (peak RSS after forward + runWithCache 1x128, cache size, patching check).
 */
import type { SideResult } from './compare_ours.js';
import { MIN_SAMPLE_S } from './timing.js';

/** Both sides at one thread count (PyTorch absent when it is not installed). */
export interface Pair {
  readonly threads: number;
  readonly ours: SideResult;
  readonly pytorch: SideResult | undefined;
}

/** One table row. */
export interface Row {
  readonly workload: string;
  readonly ours_s: number | null;
  readonly pytorch_s: number | null;
  /** ours / PyTorch. */
  readonly ratio: number | null;
}

/**
 * @param p Both sides at one thread count.
 * @returns One row per workload key either side reported, in our order.
 */
export function rowsFor(p: Pair): Row[] {
  const theirs = p.pytorch?.workloads ?? {};
  const keys = [...new Set([...Object.keys(p.ours.workloads), ...Object.keys(theirs)])];
  return keys.map((workload) => {
    const o = p.ours.workloads[workload];
    const t = theirs[workload];
    return {
      workload,
      ours_s: o ?? null,
      pytorch_s: t ?? null,
      ratio: o !== undefined && t !== undefined && t > 0 ? +(o / t).toFixed(2) : null,
    };
  });
}

/** 'wasm (simd=true, threads=false, 1 wasm thread)' or 'tensorflow via @tensorflow/tfjs-node'. */
export function describeBackend(s: SideResult): string {
  const b = (s['backend'] ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  if (b['simd'] !== undefined) parts.push(`simd=${String(b['simd'])}`);
  if (b['threads'] !== undefined) parts.push(`threads=${String(b['threads'])}`);
  if (b['wasm_threads_count'] !== undefined) parts.push(`${String(b['wasm_threads_count'])} wasm thread(s)`);
  const native = b['nativeMatmul'] as { blas?: string; threads?: number } | undefined;
  if (native !== undefined) parts.push(`native matmul: ${String(native.blas)}, ${String(native.threads)} thread(s)`);
  const matmul = b['matmul'] as { path?: string; reason?: string } | undefined;
  if (native === undefined && matmul?.path === 'wasm') parts.push(`matmul on wasm: ${String(matmul.reason)}`);
  const detail = parts.length > 0 ? ` (${parts.join(', ')})` : '';
  return `${String(b['tf_backend'] ?? b['name'])}${detail} via ${String(b['package'])}`;
}

/** 'OpenBLAS 0.3.21 (SkylakeX), torch 1.13.0a0 (Debian 1.13.1+dfsg-4)'. */
export function describeTorch(s: SideResult): string {
  const blas = (s['blas'] ?? {}) as Record<string, unknown>;
  const deb = s['debian_package'] !== undefined && s['debian_package'] !== null ? ` (Debian ${String(s['debian_package'])})` : '';
  return `BLAS ${String(blas['name'])}, torch ${String(s['torch'])}${deb}`;
}

const fmt = (x: number | null, d = 3): string => (x === null ? '-' : x.toFixed(d));

function extrasLine(label: string, s: SideResult): string {
  const e = s.extra;
  const rss = Object.entries(e).find(([k]) => k.startsWith('peak_rss_mb_after_'));
  const cache = Object.entries(e).find(([k]) => /^cache_.*_mb$/.test(k));
  const entries = Object.entries(e).find(([k]) => /^cache_.*_entries$/.test(k));
  const patch = e['patching'] as Record<string, unknown> | undefined;
  const bits = [
    rss ? `peak RSS after forward+cache ${rss[0].replace('peak_rss_mb_after_', '')}: ${Number(rss[1]).toFixed(0)} MB` : undefined,
    cache && entries ? `cache ${cache[0].slice(6, -3)}: ${String(entries[1])} tensors, ${String(cache[1])} MB` : undefined,
    patch ? `patching ${String(patch['forwards'])} forwards of ${String(patch['copies_per_forward'])} copies, check ${patch['ok'] === true ? 'ok' : 'FAILED'}` : undefined,
    `process peak RSS ${s.peak_rss_mb.toFixed(0)} MB`,
  ].filter((x) => x !== undefined);
  return `  ${label}: ${bits.join('; ')}`;
}

/**
 * Print one table per thread count on stdout.
 * @param pairs Results per thread count.
 * @param runs Timed runs per workload (median).
 */
export function printTable(pairs: readonly Pair[], runs: number): void {
  for (const p of pairs) {
    console.log(`\n== ${p.threads} thread(s), median of ${runs} run(s) after one warm-up (a workload under ${MIN_SAMPLE_S} s is called ⌈${MIN_SAMPLE_S} s / warm-up⌉ times per run)${p.ours.small ? ' [--small shapes]' : ''}`);
    const wasm = ((p.ours['backend'] ?? {}) as Record<string, unknown>)['tf_backend'] === 'wasm';
    const envThreads = wasm && p.ours['env_wasm_threads'] !== null ? `, TFJS_LENS_WASM_THREADS=${String(p.ours['env_wasm_threads'])}` : '';
    console.log(`ours:    ${describeBackend(p.ours)}${envThreads}`);
    console.log(`PyTorch: ${p.pytorch ? `${describeTorch(p.pytorch)}, ${p.pytorch.threads} thread(s)` : 'not run'}`);
    const rows = rowsFor(p);
    const w = Math.max(8, ...rows.map((r) => r.workload.length));
    console.log(`${'workload'.padEnd(w)}  ${'ours s'.padStart(9)}  ${'PyTorch s'.padStart(9)}  ${'ratio'.padStart(6)}`);
    for (const r of rows) {
      console.log(`${r.workload.padEnd(w)}  ${fmt(r.ours_s).padStart(9)}  ${fmt(r.pytorch_s).padStart(9)}  ${fmt(r.ratio, 2).padStart(6)}`);
    }
    console.log(extrasLine('ours', p.ours));
    if (p.pytorch) console.log(extrasLine('PyTorch', p.pytorch));
  }
  console.log('\nratio = ours / PyTorch (above 1: tfjs-lens is slower).');
}
