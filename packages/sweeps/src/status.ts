import { readPlan, runDirOf } from './plan.js';
import { checkStaleAfter, type RunRecordState, readRunState, type SweepRunState } from './run-state.js';

/** `sweep status`: what the run records of a planned sweep say, without asking any engine. */

export interface SweepRunStatus extends RunRecordState {
  index: number;
  id: string;
  name: string;
}

export interface SweepStatusReport {
  dir: string;
  sweep: string;
  total: number;
  /**
   * done = completed + diverged (both final); pending = never started + interrupted (both
   * resumable); damaged = a record that cannot be read (no engine starts them: repair them first).
   */
  summary: { done: number; running: number; failed: number; pending: number; damaged: number };
  counts: Record<SweepRunState, number>;
  runs: SweepRunStatus[];
}

const STATES: SweepRunState[] = [
  'completed',
  'diverged',
  'running',
  'failed',
  'interrupted',
  'pending',
  'damaged',
];

export function sweepStatus(
  dir: string,
  options: { now?: number; staleAfterMs?: number } = {},
): SweepStatusReport {
  const staleAfterMs = checkStaleAfter(options.staleAfterMs);
  const plan = readPlan(dir);
  const now = options.now ?? Date.now();
  const runs = plan.runs.map((run) => ({
    index: run.index,
    id: run.id,
    name: run.name,
    ...readRunState(runDirOf(dir, run), now, staleAfterMs),
  }));
  const counts = Object.fromEntries(
    STATES.map((s) => [s, runs.filter((r) => r.state === s).length]),
  ) as Record<SweepRunState, number>;
  return {
    dir,
    sweep: plan.sweep,
    total: runs.length,
    summary: {
      done: counts.completed + counts.diverged,
      running: counts.running,
      failed: counts.failed,
      pending: counts.pending + counts.interrupted,
      damaged: counts.damaged,
    },
    counts,
    runs,
  };
}

export function formatSweepStatus(report: SweepStatusReport, options: { all?: boolean } = {}): string {
  const { summary: s, counts: c } = report;
  const lines = [
    `sweep ${report.sweep} (${report.dir}): ${report.total} runs`,
    `  done ${s.done} (completed ${c.completed}, diverged ${c.diverged})  running ${s.running}  failed ${s.failed}  pending ${s.pending} (not started ${c.pending}, interrupted ${c.interrupted})${s.damaged ? `  DAMAGED ${s.damaged}` : ''}`,
  ];
  const shown = report.runs.filter((r) => options.all || (r.state !== 'completed' && r.state !== 'pending'));
  if (shown.length > 0) lines.push('');
  for (const r of shown) {
    const step = r.step !== undefined ? ` step ${r.step}` : '';
    lines.push(
      `  #${String(r.index).padEnd(4)} ${r.id}  ${r.state.padEnd(11)}${step}  ${r.name}${r.detail ? `\n         ${r.detail.replace(/\n/g, '\n         ')}` : ''}`,
    );
  }
  if (c.damaged > 0) {
    lines.push(
      '',
      'Damaged runs have a record that cannot be read; no engine starts them until it is restored or the run directory removed.',
    );
  }
  if (c.interrupted > 0 || c.failed > 0) {
    lines.push(
      '',
      'Interrupted and failed runs are taken up again by sweep run / sweep local, from their last checkpoint where they have one.',
    );
  }
  return lines.join('\n');
}
