/**
 * The run's independent random streams. Every random choice of a run is drawn from a seed derived
 * from (run seed, stream, step) with deriveSeed, so a resumed run replays the same choices without
 * carrying generator states, and adding draws to one stream never shifts another.
 */
export const STREAM = {
  init: 1,
  shuffle: 2,
  augment: 3,
  noise: 4,
  penaltyLabels: 5,
  traceLabels: 6,
  trackSubset: 7,
  curvature: 8,
  subset: 9,
  validation: 10,
} as const;
