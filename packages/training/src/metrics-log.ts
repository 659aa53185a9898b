import { createHash, type Hash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { explainWriteError, IntegrityError, type MetricRecord } from '@fisherlab/storage';

/** What a checkpoint recorded about metrics.jsonl: its length and the SHA-256 of those bytes. */
export interface MetricsMark {
  bytes: number;
  /** Absent in checkpoints that recorded only the length. */
  sha256?: string;
  /** The checkpoint's step, for messages. */
  step: number;
}

/**
 * metrics.jsonl, append-only. Each checkpoint stores `bytes()` and `sha256()`; a resume checks that
 * the file still starts with exactly those bytes, then truncates it back to that length, which
 * drops the lines logged after the checkpoint (they are logged again, identically, by the resumed
 * run) and any partial line a kill left behind. A log that is missing, shorter, or different before
 * that point is refused: resuming would lose or garble records.
 */
export class MetricsLog {
  private fd: number;
  private length: number;
  private hash: Hash = createHash('sha256');

  private constructor(
    readonly file: string,
    resumeAt: MetricsMark | undefined,
  ) {
    if (resumeAt !== undefined && resumeAt.bytes > 0) checkPrefix(file, resumeAt, this.hash);
    try {
      this.fd = openSync(file, existsSync(file) ? 'r+' : 'w+');
      const size = statSync(file).size;
      this.length = resumeAt === undefined ? 0 : resumeAt.bytes;
      if (this.length !== size) ftruncateSync(this.fd, this.length);
    } catch (error) {
      throw explainWriteError(error, file);
    }
  }

  /** Starts a fresh log (an existing file is emptied). */
  static create(file: string): MetricsLog {
    return new MetricsLog(file, undefined);
  }

  /** Reopens a log for a resumed run, checked against and cut back to what the checkpoint recorded. */
  static resume(file: string, mark: MetricsMark): MetricsLog {
    return new MetricsLog(file, mark);
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
    this.hash.update(line);
  }

  /** Flushes to disk; called before a checkpoint records `bytes()`. */
  sync(): void {
    fsyncSync(this.fd);
  }

  bytes(): number {
    return this.length;
  }

  /** SHA-256 of everything appended so far (and of the prefix a resume kept). */
  sha256(): string {
    return this.hash.copy().digest('hex');
  }

  close(): void {
    closeSync(this.fd);
  }
}

const resumeFix =
  'restore metrics.jsonl from a backup, or train the run again into another output directory (resuming would leave its records out of step with the checkpoint)';

/** Checks that `file` starts with the bytes the checkpoint recorded, feeding them to `hash`. */
function checkPrefix(file: string, mark: MetricsMark, hash: Hash): void {
  const expected = `the ${mark.bytes} bytes recorded at the checkpoint of step ${mark.step}`;
  if (!existsSync(file)) throw new IntegrityError(file, expected, 'no such file', resumeFix);
  const size = statSync(file).size;
  if (size < mark.bytes)
    throw new IntegrityError(file, expected, `${size} bytes (lines were removed)`, resumeFix);
  const prefix = Buffer.alloc(mark.bytes);
  const fd = openSync(file, 'r');
  try {
    let offset = 0;
    while (offset < mark.bytes) {
      const read = readSync(fd, prefix, offset, mark.bytes - offset, offset);
      if (read === 0) break;
      offset += read;
    }
  } finally {
    closeSync(fd);
  }
  if (mark.sha256 !== undefined) {
    const sha = createHash('sha256').update(prefix).digest('hex');
    if (sha !== mark.sha256)
      throw new IntegrityError(
        file,
        `${expected} (SHA-256 ${mark.sha256.slice(0, 16)}…)`,
        'different content there (lines were changed, inserted or removed)',
        resumeFix,
      );
  } else if (prefix.at(-1) !== 0x0a) {
    throw new IntegrityError(file, `${expected}, ending with a whole line`, 'a cut line there', resumeFix);
  }
  hash.update(prefix);
}

/** Reads the complete lines of a metrics log (a partial last line is ignored). */
export function readMetrics(file: string): MetricRecord[] {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  lines.pop(); // whatever follows the last newline is partial (or empty)
  return lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as MetricRecord);
}
