import os from 'node:os';
import type { BackendReport } from '@fisherlab/engine';
import type { Command } from 'commander';

export interface DoctorReport {
  node: string;
  platform: string;
  cpus: number;
  memoryGiB: number;
  backend: BackendReport | { error: string };
  datasets: { name: string; found: string | null; note?: string }[];
}

/** Collects what `fisherlab doctor` prints: facts about this machine, each one checked, none assumed. */
export async function collectDoctorReport(
  locate: () => Promise<DoctorReport['datasets']>,
): Promise<DoctorReport> {
  let backend: DoctorReport['backend'];
  try {
    const { initBackend } = await import('@fisherlab/engine');
    backend = await initBackend();
  } catch (error) {
    backend = { error: error instanceof Error ? error.message : String(error) };
  }
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()} (${os.release()})`,
    cpus: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    backend,
    datasets: await locate(),
  };
}

/** '23.5 GiB: tensors are ...', or the reason alone where the backend cannot tell the size. */
function formatCeiling(ceiling: BackendReport['memoryCeiling']): string {
  if (ceiling.bytes === null) return ceiling.reason;
  return `${(ceiling.bytes / 2 ** 30).toFixed(1)} GiB (${ceiling.reason})`;
}

export function formatDoctorReport(report: DoctorReport): string {
  const lines = [
    `Node            ${report.node}`,
    `Platform        ${report.platform}`,
    `CPU cores       ${report.cpus}`,
    `Memory          ${report.memoryGiB} GiB`,
    '',
    'TensorFlow.js backends (tried in order):',
  ];
  if ('error' in report.backend) {
    lines.push(`  none could start: ${report.backend.error}`);
  } else {
    for (const attempt of report.backend.attempts) {
      lines.push(`  ${attempt.ok ? 'ok  ' : 'fail'} ${attempt.choice.padEnd(15)}${attempt.reason ?? ''}`);
    }
    const b = report.backend;
    const simd = b.simd === undefined ? '' : `, SIMD ${b.simd ? 'on' : 'off'}`;
    const threads = Number.isNaN(b.threads) ? 'managed by libtensorflow' : String(b.threads);
    lines.push(`  active: ${b.choice} (tfjs ${b.tfjsVersion}, threads ${threads}${simd})`);
    lines.push(`  device: ${b.device.description}`);
    lines.push(`  memory ceiling: ${formatCeiling(b.memoryCeiling)}`);
    if (b.requested !== 'auto') lines.push(`  (chosen by --backend / FISHERLAB_BACKEND=${b.requested})`);
    lines.push(
      b.native.active
        ? `  native kernels: on (${b.native.library}, ${b.native.threads} threads; FISHERLAB_NATIVE=off turns them off)${b.native.allocator ? `\n  memory: ${b.native.allocator}` : ''}`
        : `  native kernels: off (${b.native.reason})`,
    );
  }
  lines.push('', 'Datasets:');
  for (const d of report.datasets) {
    lines.push(`  ${d.name.padEnd(24)}${d.found ?? 'not found'}${d.note ? `  (${d.note})` : ''}`);
  }
  return lines.join('\n');
}

export function registerDoctor(program: Command, locate: () => Promise<DoctorReport['datasets']>): void {
  program
    .command('doctor')
    .description(
      'print the environment: Node, TensorFlow.js backends tried and why each failed, threads, datasets',
    )
    .option('--json', 'print one JSON object instead of text')
    .action(async (options: { json?: boolean }) => {
      const report = await collectDoctorReport(locate);
      console.log(options.json ? JSON.stringify(report, null, 2) : formatDoctorReport(report));
    });
}
