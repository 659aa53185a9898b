import { writeFileAtomic as writeFileAtomicSync } from '@fisherlab/storage';

/**
 * Writes `data` to `path` so that readers see either the old file or the complete new one (the
 * project's one atomic write, from @fisherlab/storage), as a promise for tfjs's async IO handlers.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  writeFileAtomicSync(path, data);
}
