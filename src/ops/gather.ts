/**
 * Row lookup with a gradient the wasm backend can run. tfjs's GatherV2 gradient needs the
 * UnsortedSegmentSum kernel, which tfjs-backend-wasm does not implement; scatterND (which sums
 * duplicate indices) gives the same gradient and is registered on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { itemAt } from '../utils/tensor_rank.js';
import { customGrad2 } from './custom_grad.js';

const gatherGrad = customGrad2((table, ids, save) => {
  save([ids]);
  const shape = table.shape;
  return {
    value: tf.gather(table, ids),
    gradFunc: (dy, saved) => {
      const idx = itemAt(saved, 0, 'gatherRows backward');
      const n = idx.size;
      const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
      const d = tf.scatterND(tf.reshape(idx, [n, 1]), tf.reshape(dy, [n, rowSize]), [shape[0] as number, rowSize]);
      return [tf.reshape(d, shape), tf.zerosLike(idx)];
    },
  };
});

/**
 * `tf.gather(table, ids)` along axis 0, differentiable with respect to `table` on every backend.
 * @param table [n_rows, ...].
 * @param ids int32 row indices [n].
 * @returns [n, ...].
 */
export function gatherRows(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  return gatherGrad(table, ids);
}
