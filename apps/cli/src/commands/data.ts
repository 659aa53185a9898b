import type { DownloadProgress } from '@fisherlab/datasets';
import { DATASET_NAMES, formatDuration } from '@fisherlab/training';
import { type Command, Option } from 'commander';
import { EXIT, UserError } from '../errors.js';

const MiB = 2 ** 20;

export function registerData(program: Command): void {
  const data = program.command('data').description('find, download and verify datasets');
  const nameArgument = (c: Command) =>
    c.argument('<name>', `dataset: ${DATASET_NAMES.filter((n) => n !== 'default').join(', ')}`);

  nameArgument(data.command('download'))
    .description(
      'download the official archive(s) with resume, check the published md5, extract, install atomically',
    )
    .option(
      '--root <dir>',
      'folder that receives <name>/ (default: $FISHERLAB_DATA, else ~/.cache/fisherlab/datasets)',
    )
    .option('--base-url <url>', 'fetch the archives from this mirror instead (same file names)')
    .option('--force', 'download again even when already installed')
    .action(async (name: string, options: { root?: string; force?: boolean; baseUrl?: string }) => {
      const started = Date.now();
      const tty = Boolean(process.stderr.isTTY);
      let lastPhase = '';
      const report = (p: DownloadProgress) => {
        const amount = `${(p.received / MiB).toFixed(1)}${p.total ? `/${(p.total / MiB).toFixed(1)}` : ''} MiB`;
        const percent = p.total ? ` ${((100 * p.received) / p.total).toFixed(0)}%` : '';
        if (tty) process.stderr.write(`\r\x1b[2K${p.phase} ${p.file}${percent} ${amount}`);
        else if (p.phase !== lastPhase) process.stderr.write(`${p.phase} ${p.file} ${amount}\n`);
        lastPhase = p.phase;
      };
      const done = () => tty && lastPhase && process.stderr.write('\n');
      try {
        const { downloadDataset } = await import('@fisherlab/datasets');
        const result = await downloadDataset(name, {
          ...(options.root ? { root: options.root } : {}),
          ...(options.force ? { force: true } : {}),
          ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
          onProgress: report,
        });
        done();
        console.log(
          result.alreadyPresent
            ? `${name} is already installed in ${result.dir} (use --force to download again)`
            : `${name} installed in ${result.dir} (${result.files.map((f) => `${f.filename} ${(f.bytes / MiB).toFixed(1)} MiB, md5 ok${f.resumedFrom ? `, resumed from ${(f.resumedFrom / MiB).toFixed(1)} MiB` : ''}`).join('; ')}) in ${formatDuration((Date.now() - started) / 1000)}`,
        );
      } catch (error) {
        done();
        throw new UserError(`download of ${name} failed: ${(error as Error).message}`);
      }
    });

  nameArgument(data.command('info'))
    .description('what FisherLab knows about a dataset and where it is on this machine')
    .option('--dir <dir>', 'look only in this directory')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { dir?: string; json?: boolean }) => {
      const { datasetInfo } = await import('@fisherlab/datasets');
      const info = await datasetInfo(name, options.dir ? { dir: options.dir } : {});
      if (options.json) {
        console.log(JSON.stringify(info, null, 2));
        return;
      }
      console.log(
        [
          `${info.name}: ${info.title}`,
          `  ${info.shape.height}x${info.shape.width}x${info.shape.channels}, ${info.numClasses} classes, ${info.counts.train} train / ${info.counts.test} test`,
          `  license: ${info.license}; ${info.homepage}`,
          `  found: ${info.dir ?? 'no'}${info.source ? ` (${info.source})` : ''}`,
          ...(info.dir
            ? []
            : [
                `  searched: ${info.searched.map((s) => s.path).join(', ')}`,
                `  get it: fisherlab data download ${info.name}`,
              ]),
        ].join('\n'),
      );
    });

  nameArgument(data.command('verify'))
    .description("check a dataset's files: presence, sizes, checksums, record counts")
    .option('--dir <dir>', 'look only in this directory')
    .addOption(new Option('--decode', 'TinyImageNet: decode every JPEG too'))
    .action(async (name: string, options: { dir?: string; decode?: boolean }) => {
      const { verifyDataset } = await import('@fisherlab/datasets');
      const report = await verifyDataset(name, {
        ...(options.dir ? { dir: options.dir } : {}),
        ...(options.decode ? { decode: true } : {}),
      });
      for (const check of report.checks)
        console.log(`${check.ok ? 'ok  ' : 'FAIL'} ${check.check}: ${check.detail}`);
      console.log(report.ok ? `${name}: verified in ${report.dir}` : `${name}: verification failed`);
      if (!report.ok) process.exitCode = EXIT.usage;
    });
}
