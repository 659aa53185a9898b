import { meanAndStandardError, weightedMeanAndStandardError } from './stats.js';
import type { LayerTraceEstimate } from './types.js';

/**
 * Collects per-unit (example or batch) trace values, split by layer, and summarizes them as mean and
 * standard error. The total of a unit is the sum of its layers, so layer means sum to the total mean.
 */
export class TraceAccumulator {
  private readonly layers = new Map<string, number[]>();
  private readonly totals: number[] = [];
  private readonly weights: number[] = [];

  /** Adds one unit per index of the arrays in `perLayer` (each [units]), with optional weights. */
  add(perLayer: ReadonlyMap<string, ArrayLike<number>>, weights?: ArrayLike<number>): void {
    const units = perLayer.values().next().value?.length ?? 0;
    const start = this.totals.length;
    for (let i = 0; i < units; i++) {
      this.totals.push(0);
      this.weights.push(weights ? weights[i]! : 1);
    }
    for (const [name, values] of perLayer) {
      let list = this.layers.get(name);
      if (!list) {
        list = new Array<number>(start).fill(0);
        this.layers.set(name, list);
      }
      for (let i = 0; i < units; i++) {
        list.push(values[i]!);
        this.totals[start + i]! += values[i]!;
      }
    }
  }

  summary(): { value: number; standardError: number; perLayer: Record<string, LayerTraceEstimate> } {
    const equalWeights = this.weights.every((w) => w === this.weights[0]);
    const summarize = (values: number[]) =>
      equalWeights ? meanAndStandardError(values) : weightedMeanAndStandardError(values, this.weights);
    const perLayer: Record<string, LayerTraceEstimate> = {};
    for (const [name, values] of this.layers) {
      const { mean, standardError } = summarize(values);
      perLayer[name] = { value: mean, standardError };
    }
    const { mean, standardError } = summarize(this.totals);
    return { value: mean, standardError, perLayer };
  }
}
