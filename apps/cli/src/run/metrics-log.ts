import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import type { MetricRecord } from '@fisherlab/analysis';
import { explainWriteError } from './files.js';

/**
 * metrics.jsonl, append-only. Each checkpoint stores `bytes()`; a resume truncates the file back to
 * that length, which drops the lines logged after the checkpoint (they are logged again, identically,
 * by the resumed run) and any partial line a kill left behind.
 */
export class MetricsLog {
  private fd: number;
  private length: number;

  private constructor(
    readonly file: string,
    resumeAt: number | undefined,
  ) {
    try {
      this.fd = openSync(file, existsSync(file) ? 'r+' : 'w+');
      const size = statSync(file).size;
      this.length = resumeAt === undefined ? 0 : Math.min(resumeAt, size);
      if (this.length !== size) ftruncateSync(this.fd, this.length);
    } catch (error) {
      throw explainWriteError(error, file);
    }
  }

  /** Starts a fresh log (an existing file is emptied). */
  static create(file: string): MetricsLog {
    return new MetricsLog(file, undefined);
  }

  /** Reopens a log for a resumed run, cut back to the length recorded at the checkpoint. */
  static resume(file: string, bytesAtCheckpoint: number): MetricsLog {
    return new MetricsLog(file, bytesAtCheckpoint);
  }

  append(record: MetricRecord): void {
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    try {
      let offset = 0;
      while (offset < line.length) {
        offset += writeSync(this.fd, line, offset, line.length - offset, this.length + offset);
      }
    } catch (error) {
      throw explainWriteError(error, this.file);
    }
    this.length += line.length;
  }

  /** Flushes to disk; called before a checkpoint records `bytes()`. */
  sync(): void {
    fsyncSync(this.fd);
  }

  bytes(): number {
    return this.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Reads the complete lines of a metrics log (a partial last line is ignored). */
export function readMetrics(file: string): MetricRecord[] {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  lines.pop(); // whatever follows the last newline is partial (or empty)
  return lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as MetricRecord);
}
