/** The linear modules a PEFT LoRA config adapts (no file system; shared by peft_io.ts and its browser twin). */
import { ConfigError } from '../../errors.js';
import { nearestNames } from '../../utils/nearest.js';
import type { LinearSlot } from './linear_slots.js';
import { isModuleToSave, isTargetModule, type PeftLoraConfig } from './peft_config.js';

/**
 * The modules a config adapts (targets that are not modules to save).
 * @param fn Caller name for errors.
 * @param c The config.
 * @param slots The model's linear modules.
 * @returns The targeted slots.
 * @throws {@link "tfjs-lens"!ConfigError} for a target entry that selects nothing, naming the nearest module path.
 */
export function targetedSlots(fn: string, c: PeftLoraConfig, slots: readonly LinearSlot[]): LinearSlot[] {
  const t = c.target_modules;
  const chosen = slots.filter((s) => isTargetModule(s.path, t) && !isModuleToSave(s.path, c.modules_to_save));
  const entries = t === null ? [] : typeof t === 'string' ? [t] : t;
  for (const e of entries) {
    if (!slots.some((s) => isTargetModule(s.path, typeof t === 'string' ? t : [e]))) {
      const near = nearestNames(e, slots.map((s) => s.path.split('.').pop() as string), 1)[0] ?? '';
      const example = slots.find((s) => s.path.endsWith(`.${near}`) || s.path === near)?.path ?? '(none)';
      throw new ConfigError(`${fn}: target module '${e}' matches no linear module of this model; nearest module path: '${example}' (target_modules are module-name suffixes or one regex over the path)`);
    }
  }
  return chosen;
}
