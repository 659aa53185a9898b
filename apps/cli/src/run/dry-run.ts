import { dryRun as checkRun, type RunConfig } from '@fisherlab/training';
import { inCommandTerms } from './trainer.js';

/** The library's dry run, its refusals said in the command's flags. */
export async function dryRun(
  config: RunConfig,
  options: { resume?: boolean; overwrite?: boolean } = {},
): Promise<string> {
  try {
    return await checkRun(config, options);
  } catch (error) {
    throw inCommandTerms(error);
  }
}
