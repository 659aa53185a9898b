import { describe, expect, it } from 'vitest';
import { applyLabelNoise, formatNoiseSpec, type LabelNoiseSpec, parseNoiseSpec } from './noise.js';

const labels = Int32Array.from({ length: 10_000 }, (_, i) => (i * 7) % 10);

describe('label noise', () => {
  it('symmetric: exactly round(p n) labels change, never to the same class, to every other class about equally', () => {
    const noise = applyLabelNoise(labels, 10, { mode: 'symmetric', fraction: 0.2, seed: 3 });
    expect(noise.changed).toBe(2000);
    let maskCount = 0;
    let maskErrors = 0;
    const targets = new Array<number>(10).fill(0);
    for (let i = 0; i < labels.length; i++) {
      // The mask is exactly the set of changed labels.
      if (noise.mask[i] !== (noise.labels[i] !== labels[i] ? 1 : 0) || noise.picked[i] !== noise.mask[i])
        maskErrors++;
      maskCount += noise.mask[i]!;
      if (noise.mask[i]) targets[(noise.labels[i]! - labels[i]! + 10) % 10]!++;
    }
    expect(maskErrors).toBe(0);
    expect(maskCount).toBe(2000);
    // Shift 0 (same class) never happens; shifts 1..9 about 2000 / 9 = 222 each.
    expect(targets[0]).toBe(0);
    for (const k of targets.slice(1)) expect(Math.abs(k - 222)).toBeLessThan(60);
    expect(noise.originalLabels).toEqual(labels);
    expect(labels[0]).toBe(0); // the input is untouched
  });

  it('uniform: round(p n) picked, about p(1 - 1/C) changed, the mask equal to the changed labels', () => {
    const noise = applyLabelNoise(labels, 10, { mode: 'uniform', fraction: 0.5, seed: 11 });
    const picked = noise.picked.reduce((a, b) => a + b, 0);
    expect(picked).toBe(5000);
    // Changed ~ Binomial(5000, 0.9): mean 4500, sd 21.
    expect(Math.abs(noise.changed - 4500)).toBeLessThan(110);
    let kept = 0;
    let errors = 0;
    for (let i = 0; i < labels.length; i++) {
      if (noise.mask[i] !== (noise.labels[i] !== labels[i] ? 1 : 0)) errors++;
      if (!noise.picked[i] && noise.labels[i] !== labels[i]) errors++;
      if (noise.picked[i] && !noise.mask[i]) kept++;
    }
    expect(errors).toBe(0);
    expect(kept).toBe(5000 - noise.changed);
  });

  it('flip map: round(p n_c) of each mapped class go to the target, other classes untouched', () => {
    const noise = applyLabelNoise(labels, 10, { mode: 'flip', fraction: 0.4, seed: 5, map: { 9: 1, 2: 0 } });
    const changedTo = new Map<string, number>();
    for (let i = 0; i < labels.length; i++) {
      if (!noise.mask[i]) continue;
      const key = `${labels[i]}>${noise.labels[i]}`;
      changedTo.set(key, (changedTo.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries(changedTo)).toEqual({ '9>1': 400, '2>0': 400 });
    expect(noise.id).toBe('flip:p=0.4:seed=5:map=2>0,9>1');
  });

  it('is deterministic in the seed, different across seeds', () => {
    const spec: LabelNoiseSpec = { mode: 'symmetric', fraction: 0.3, seed: 1 };
    expect(applyLabelNoise(labels, 10, spec).labels).toEqual(applyLabelNoise(labels, 10, { ...spec }).labels);
    expect(applyLabelNoise(labels, 10, spec).labels).not.toEqual(
      applyLabelNoise(labels, 10, { ...spec, seed: 2 }).labels,
    );
    expect(applyLabelNoise(labels, 10, { ...spec, fraction: 0 }).changed).toBe(0);
    expect(applyLabelNoise(labels, 10, { ...spec, fraction: 1 }).changed).toBe(10_000);
  });

  it('the spec has a stable text form that parses back; bad specs are refused with the fix', () => {
    const specs: LabelNoiseSpec[] = [
      { mode: 'symmetric', fraction: 0.2, seed: 0 },
      { mode: 'uniform', fraction: 1, seed: 42 },
      { mode: 'flip', fraction: 0.4, seed: 7, map: { 9: 1, 2: 0, 3: 5 } },
    ];
    for (const spec of specs) expect(parseNoiseSpec(formatNoiseSpec(spec))).toEqual(spec);
    expect(formatNoiseSpec(null)).toBe('none');
    expect(parseNoiseSpec('none')).toBeNull();
    expect(parseNoiseSpec('symmetric:0.2')).toEqual({ mode: 'symmetric', fraction: 0.2, seed: 0 });
    expect(() => parseNoiseSpec('gaussian:0.2')).toThrow(/unknown mode 'gaussian'.*Fix: write it like/);
    expect(() => parseNoiseSpec('flip:p=0.2')).toThrow(/flip needs map=/);
    expect(() => applyLabelNoise(labels, 10, { mode: 'symmetric', fraction: 1.5, seed: 0 })).toThrow(
      /fraction in \[0, 1\]/,
    );
    expect(() =>
      applyLabelNoise(labels, 10, { mode: 'flip', fraction: 0.5, seed: 0, map: { 3: 3 } }),
    ).toThrow(/3 -> 3/);
  });
});
