import type { MetricRecord } from '@fisherlab/storage';
import { RunDataError } from './errors.js';

export interface ParsedMetrics {
  records: MetricRecord[];
  /** True when the last line was cut off mid-write (run still going, or killed) and was skipped. */
  partialLastLine: boolean;
  /** Lines whose `kind` this reader does not know (written by a newer version); skipped. */
  unknownKinds: string[];
}

const KINDS = new Set(['train', 'fisher', 'eval', 'curvature']);

/**
 * Parses metrics.jsonl text. A partial last line is skipped and reported; a malformed line anywhere
 * else is an error naming the file and line, since the writer appends whole lines only.
 */
export function parseMetricsJsonl(text: string, file: string): ParsedMetrics {
  const lines = text.split('\n');
  const records: MetricRecord[] = [];
  const unknownKinds = new Set<string>();
  let partialLastLine = false;
  let lastNonEmpty = lines.length - 1;
  while (lastNonEmpty >= 0 && lines[lastNonEmpty]!.trim() === '') lastNonEmpty--;
  for (let i = 0; i <= lastNonEmpty; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const isLast = i === lastNonEmpty;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (isLast) {
        partialLastLine = true;
        continue;
      }
      throw new RunDataError(
        `${file}:${i + 1}: expected one JSON object per line, found ${JSON.stringify(line.slice(0, 60))}. ` +
          'Fix: delete or repair that line (only the last line may be cut off).',
      );
    }
    const record = checkRecord(value, `${file}:${i + 1}`);
    if (record === null) {
      unknownKinds.add(String((value as { kind?: unknown }).kind));
      continue;
    }
    records.push(record);
  }
  return { records, partialLastLine, unknownKinds: [...unknownKinds] };
}

function checkRecord(value: unknown, where: string): MetricRecord | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RunDataError(
      `${where}: expected a JSON object, found ${JSON.stringify(value)}. Fix: one record object per line.`,
    );
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.kind !== 'string') {
    throw new RunDataError(
      `${where}: key "kind": expected a string ('train' | 'fisher' | 'eval' | 'curvature'), found ${JSON.stringify(obj.kind)}. Fix: write records as in records.ts.`,
    );
  }
  if (!KINDS.has(obj.kind)) return null;
  for (const key of ['step', 'epoch'] as const) {
    if (typeof obj[key] !== 'number') {
      throw new RunDataError(
        `${where}: key "${key}": expected a number, found ${JSON.stringify(obj[key])}. Fix: every record carries step and epoch.`,
      );
    }
  }
  return obj as unknown as MetricRecord;
}
