import { describe, expect, it } from 'vitest';
import { parseMetricsJsonl } from './parseMetrics.js';

const line = (o: object) => `${JSON.stringify(o)}\n`;
const train = (step: number) => ({
  kind: 'train',
  step,
  epoch: step / 10,
  time: step,
  lr: 0.1,
  loss: 1,
  accuracy: 0.5,
  penalty: null,
});

describe('parseMetricsJsonl', () => {
  it('skips a cut-off last line and reports it', () => {
    const p = parseMetricsJsonl(line(train(1)) + line(train(2)) + '{"kind":"fisher","st', 'm.jsonl');
    expect(p.records.map((r) => r.step)).toEqual([1, 2]);
    expect(p.partialLastLine).toBe(true);
  });
  it('keeps a complete last line written without its newline, and ignores blank lines', () => {
    const p = parseMetricsJsonl(line(train(1)) + '\n' + JSON.stringify(train(2)), 'm.jsonl');
    expect(p.records.map((r) => r.step)).toEqual([1, 2]);
    expect(p.partialLastLine).toBe(false);
  });
  it('skips records of kinds it does not know, and names them', () => {
    const p = parseMetricsJsonl(
      line(train(1)) + line({ kind: 'gpu', step: 1, epoch: 0.1 }) + line(train(2)),
      'm.jsonl',
    );
    expect(p.records).toHaveLength(2);
    expect(p.unknownKinds).toEqual(['gpu']);
  });
  it('rejects a record without a numeric step, naming file, line and key', () => {
    expect(() =>
      parseMetricsJsonl(line(train(1)) + line({ kind: 'eval', epoch: 1 }), 'runs/a/metrics.jsonl'),
    ).toThrow(/runs\/a\/metrics\.jsonl:2: key "step": expected a number, found undefined/);
  });
  it('rejects a line that is not an object', () => {
    expect(() => parseMetricsJsonl('[1,2]\n' + line(train(1)), 'm.jsonl')).toThrow(
      /m\.jsonl:1: expected a JSON object, found \[1,2\]/,
    );
  });
});
