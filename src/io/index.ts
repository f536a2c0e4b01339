/**
 * tfjs-lens/io: checkpoint I/O: safetensors read/write, checkpoint tensors, and the Hugging Face hub cache and download client.
 * @packageDocumentation
 * @module tfjs-lens/io
 */
export { parseSafetensors, serializeSafetensors, readSafetensorsFile, writeSafetensorsFile } from './safetensors.js';
export type { RawTensor, SafeDtype, SafetensorsContents, TensorToWrite } from './safetensors.js';
export { loadCheckpointTensors } from './checkpoint.js';
export { hubCacheDir, resolveModelDir, validateRepoId } from './hub.js';
export type { HubOptions, ResolvedModel } from './hub.js';
