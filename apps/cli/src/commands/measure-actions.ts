import type { TraceEstimator } from '@fisherlab/fisher';
import {
  evaluateSavedModel,
  type RunConfig,
  type SavedModelMeasurement,
  traceOfSavedModel,
} from '@fisherlab/training';

export interface MeasureOptions extends SavedModelMeasurement {
  estimator: TraceEstimator;
  seed: number;
  json?: boolean;
  backend: RunConfig['backend'];
}

export async function traceCommand(options: MeasureOptions): Promise<void> {
  const estimate = await traceOfSavedModel(options);
  if (options.json) {
    console.log(JSON.stringify(estimate));
    return;
  }
  const label = estimate.quantity === 'fisher' ? 'Tr(F)' : 'Tr(empirical Fisher)';
  console.log(
    `${label} = ${estimate.value.toPrecision(6)} ± ${estimate.standardError.toPrecision(3)} (${estimate.estimator}, ${estimate.examples} ${options.split} examples, ${estimate.ms.toFixed(0)} ms)`,
  );
  for (const [layer, v] of Object.entries(estimate.perLayer)) {
    console.log(`  ${layer.padEnd(28)} ${v.value.toPrecision(5)} ± ${v.standardError.toPrecision(3)}`);
  }
}

export async function evalCommand(options: MeasureOptions): Promise<void> {
  const out = await evaluateSavedModel(options);
  console.log(
    options.json
      ? JSON.stringify(out)
      : `${out.split}: loss ${out.loss.toFixed(4)}, accuracy ${(100 * out.accuracy).toFixed(2)}% on ${out.examples} examples`,
  );
}
