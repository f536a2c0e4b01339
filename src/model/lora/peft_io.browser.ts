/**
 * Browser twin of peft_io.ts (chosen by scripts/build_browser.ts): reading or writing a PEFT
 * adapter folder needs the file system, so both throw a {@link "tfjs-lens"!UsageError}.
 */
import { browserFsError } from '../../utils/browser_fs.js';
import type { LinearSlot } from './linear_slots.js';
import type { LoraAdapter } from './lora_adapter.js';

/** Not available in the browser (no file system). */
export async function readPeftAdapter(dir: string, _slots: readonly LinearSlot[]): Promise<LoraAdapter> {
  throw browserFsError('loadAdapter', dir, 'adapter folders need Node');
}

/** Not available in the browser (no file system). */
export async function writePeftAdapter(dir: string, _adapter: LoraAdapter): Promise<string> {
  throw browserFsError('saveAdapter', dir, 'adapter folders need Node');
}
export { targetedSlots } from './peft_targets.js';
