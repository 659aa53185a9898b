export const SCHEDULE_KINDS = ['constant', 'step', 'cosine'] as const;

/** The learning rate at a (fractional) epoch: warm-up, then constant, step or cosine decay. */
export interface ScheduleSettings {
  kind: (typeof SCHEDULE_KINDS)[number];
  warmupEpochs: number;
  milestones: number[];
  gamma: number;
}

export function learningRateAt(
  baseLr: number,
  schedule: ScheduleSettings,
  epoch: number,
  totalEpochs: number,
): number {
  if (schedule.warmupEpochs > 0 && epoch < schedule.warmupEpochs) {
    return (baseLr * epoch) / schedule.warmupEpochs;
  }
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'step': {
      const passed = schedule.milestones.filter((m) => epoch >= m).length;
      return baseLr * schedule.gamma ** passed;
    }
    case 'cosine': {
      const span = Math.max(totalEpochs - schedule.warmupEpochs, Number.EPSILON);
      const progress = Math.min(Math.max((epoch - schedule.warmupEpochs) / span, 0), 1);
      return 0.5 * baseLr * (1 + Math.cos(Math.PI * progress));
    }
  }
}
