import { type BackendReport, type BackendRequest, initBackend } from '@fisherlab/engine';
import { UserError } from '../errors.js';

/**
 * Brings up the requested backend; a backend that cannot start (not installed, no GPU, a bad
 * FISHERLAB_BACKEND or FISHERLAB_NATIVE) is an environment error the user fixes, not a bug.
 */
export async function startBackend(request?: BackendRequest): Promise<BackendReport> {
  try {
    return await initBackend(request === undefined ? {} : { backend: request });
  } catch (error) {
    throw new UserError(`${(error as Error).message}; \`fisherlab doctor\` shows what each backend needs`);
  }
}
