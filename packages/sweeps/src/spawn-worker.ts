import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { PROGRESS_PREFIX } from './worker-progress.js';

/**
 * Starts one worker process and follows it: its progress lines (PROGRESS_PREFIX + JSON) go to
 * `onProgress`, every other line to `logFile`, and the last lines are kept for the error report.
 */

const TAIL_LINES = 20;

export interface WorkerProcessOptions {
  command: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** In a process group of its own (see LocalPoolOptions.signal). */
  detached: boolean;
  onProgress: (step: number, totalSteps: number, figures: Record<string, unknown>) => void;
}

export interface WorkerEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: string;
  tail: string[];
}

/** Splits a byte stream into lines (the last, unfinished one is held until it ends). */
function lineReader(onLine: (line: string) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) onLine(line);
  };
}

export function spawnWorker(options: WorkerProcessOptions): {
  child: ChildProcess;
  ended: Promise<WorkerEnd>;
} {
  const [program, ...args] = options.command;
  const child = spawn(program!, args, {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached,
  });
  const tail: string[] = [];
  const keep = (line: string) => {
    appendFileSync(options.logFile, `${line}\n`);
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const onStdout = (line: string) => {
    if (!line.startsWith(PROGRESS_PREFIX)) return keep(line);
    try {
      const { step, totalSteps, ...figures } = JSON.parse(line.slice(PROGRESS_PREFIX.length)) as Record<
        string,
        number
      >;
      options.onProgress(step ?? 0, totalSteps ?? 0, figures);
    } catch {
      keep(line);
    }
  };
  child.stdout!.on('data', lineReader(onStdout));
  child.stderr!.on('data', lineReader(keep));
  const ended = new Promise<WorkerEnd>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, spawnError: error.message, tail }));
    child.on('close', (code, signal) => resolve({ code, signal, tail }));
  });
  return { child, ended };
}
