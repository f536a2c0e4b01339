/**
 * HookPoint on its own: a run applies a snapshot of the hook list (a hook that adds a hook to its own
 * point does not loop; the new one fires from the next run), a hook is never re-entered, and what a
 * hook does to its input or returns is checked (HookError naming the hook, expected vs got).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { HookError, InterpError } from '../../../src/errors.js';
import { HookPoint, type HookFn } from '../../../src/hooks/hook_point.js';
import { expectNoLeak } from '../../helpers/memory.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

/** Run `fn` on a fresh [2, 3] float32 activation inside a tidy (as the forward pass does). */
function runOn(hp: HookPoint): number[] {
  return tf.tidy(() => Array.from(hp.run(tf.ones([2, 3])).dataSync()));
}

describe('HookPoint.run applies a snapshot of its hooks', () => {
  it('a hook that adds a hook to its own point terminates; the new hook fires from the next run', () => {
    const hp = new HookPoint('blocks.0.hook_resid_pre');
    let added = 0;
    let fired = 0;
    const selfAdding: HookFn = () => {
      added += 1;
      hp.add(() => {
        fired += 1;
      });
    };
    hp.add(selfAdding);
    expectNoLeak(() => runOn(hp));
    expect([added, fired]).toEqual([1, 0]);
    runOn(hp);
    expect([added, fired]).toEqual([2, 1]); // the hook added in run 1 fires in run 2 (once)
  });

  it('a hook removed while the point runs still fires in this run, not in the next', () => {
    const hp = new HookPoint('hook_embed');
    let second = 0;
    hp.add(() => hp.remove());
    hp.add(() => {
      second += 1;
    });
    runOn(hp);
    expect(second).toBe(1);
    expect(hp.hasHooks()).toBe(false);
  });

  it('a hook is not re-entered by a run started from inside it; the other hooks fire', () => {
    const hp = new HookPoint('hook_embed');
    let outer = 0;
    let other = 0;
    hp.add((x) => {
      outer += 1;
      hp.run(x); // a nested pass over the same point (as a nested runWithCache would make)
    });
    hp.add(() => {
      other += 1;
    });
    expectNoLeak(() => runOn(hp));
    expect([outer, other]).toEqual([1, 2]);
  });

  it('replacements chain in order and keep the activation shape and dtype', () => {
    const hp = new HookPoint('hook_embed');
    hp.add((x) => tf.mul(x, 2));
    hp.add((x) => tf.add(x, 1));
    expect(expectNoLeak(() => runOn(hp))).toEqual([3, 3, 3, 3, 3, 3]);
  });
});

describe('HookPoint.run checks what a hook did (HookError naming the hook)', () => {
  const cases: [string, HookFn, RegExp][] = [
    ['disposes its input', function disposer(x) { x.dispose(); }, /hook 'disposer' \(#1\) at hook_embed: disposed its input \[2, 3\] float32/],
    ['returns a disposed tensor', function stale(x) { const t = tf.clone(x); t.dispose(); return t; }, /hook 'stale' \(#1\) at hook_embed: returned a disposed tensor; expected a live \[2, 3\] float32/],
    ['returns the wrong shape', function wide() { return tf.zeros([2, 4]); }, /hook 'wide' \(#1\) at hook_embed: returned shape \[2, 4\], expected \[2, 3\]/],
    ['returns the wrong dtype', function ints(x) { return tf.cast(x, 'int32'); }, /hook 'ints' \(#1\) at hook_embed: returned dtype int32, expected float32/],
    ['returns a non-tensor', (() => 3) as unknown as HookFn, /hook 'anonymous' \(#1\) at hook_embed: must return a tf.Tensor or nothing, got number/],
  ];

  it.each(cases)('a hook that %s', (_label, fn, message) => {
    const hp = new HookPoint('hook_embed');
    hp.add(fn);
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      runOn(hp);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HookError);
    expect(err).toBeInstanceOf(InterpError);
    expect((err as Error).message).toMatch(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('counts the hook’s position among the point’s hooks', () => {
    const hp = new HookPoint('blocks.1.attn.hook_z');
    hp.add(() => undefined);
    hp.add(() => tf.zeros([1]));
    expect(() => runOn(hp)).toThrow(/hook 'anonymous' \(#2\) at blocks\.1\.attn\.hook_z: returned shape \[1\], expected \[2, 3\]/);
  });
});
