/**
 * tfjs-lens/io: checkpoint I/O: safetensors read/write, checkpoint tensors, 8-bit (int8) weight files, and the Hugging Face hub cache and download client.
 * @packageDocumentation
 * @module tfjs-lens/io
 */
export { parseSafetensors, serializeSafetensors, readSafetensorsFile, writeSafetensorsFile } from './safetensors.js';
export type { RawTensor, SafeDtype, SafetensorsContents, TensorToWrite } from './safetensors.js';
export { loadCheckpointTensors } from './checkpoint.js';
export { hubCacheDir, resolveModelDir, validateRepoId } from './hub.js';
export type { HubOptions, ResolvedModel } from './hub.js';
export {
  INT8_METADATA_KEY,
  INT8_METADATA_VALUE,
  INT8_SCALE_SUFFIX,
  defaultInt8Selector,
  dequantizeInt8Tensors,
  dequantizeRowsInt8,
  isInt8Safetensors,
  quantizeCheckpointTensors,
  quantizeRowsInt8,
  readInt8Safetensors,
  writeInt8Safetensors,
} from './int8.js';
export type { Int8Matrix, Int8Options, Int8Report, Int8Selector, QuantizedCheckpoint } from './int8.js';
