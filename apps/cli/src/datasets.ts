import type { DoctorReport } from './commands/doctor.js';

/** Where each dataset FisherLab knows was found on this machine (for `doctor`). */
export async function locateDatasets(): Promise<DoctorReport['datasets']> {
  const { locateAllDatasets } = await import('@fisherlab/datasets');
  return locateAllDatasets();
}
