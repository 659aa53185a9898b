import { formatNoiseSpec, type LabelNoiseSpec } from './noise.js';
import type { Dataset } from './types.js';

/** How the training data of a run was derived from a dataset: what run metadata should record. */
export interface DataDerivation {
  /** e.g. { kind: 'balanced', size: 1000, seed: 0 } or { kind: 'first', size: 1000 }. */
  subset?: { kind: 'first'; size: number } | { kind: 'balanced'; size: number; seed: number };
  /** Held-out validation examples taken from train. */
  validation?: { size: number; seed: number };
  noise?: LabelNoiseSpec | null;
}

export interface DataIdentity {
  /** One stable line, e.g. 'cifar100(fine)|subset=balanced:10000:seed=0|val=5000:seed=1|noise=symmetric:p=0.2:seed=0'. */
  id: string;
  dataset: string;
  counts: { train: number; test: number };
  checksums: Record<string, string>;
  derivation: DataDerivation;
}

/**
 * The identity of a run's data: the dataset (with its source checksums) plus every seeded step
 * applied to it. Two runs with the same `id` and checksums trained on the same examples and labels.
 */
export function dataIdentity(dataset: Dataset, derivation: DataDerivation = {}): DataIdentity {
  const labelKind = dataset.meta.notes?.find((n) => n.startsWith('labels: '))?.split(' ')[1];
  const parts = [labelKind ? `${dataset.name}(${labelKind})` : dataset.name];
  const { subset, validation, noise } = derivation;
  if (subset)
    parts.push(
      subset.kind === 'first'
        ? `subset=first:${subset.size}`
        : `subset=balanced:${subset.size}:seed=${subset.seed}`,
    );
  if (validation) parts.push(`val=${validation.size}:seed=${validation.seed}`);
  parts.push(`noise=${formatNoiseSpec(noise)}`);
  return {
    id: parts.join('|'),
    dataset: dataset.name,
    counts: dataset.meta.counts,
    checksums: dataset.meta.checksums,
    derivation,
  };
}
