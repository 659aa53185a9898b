import type { Command } from 'commander';
import { positiveNumber } from '../config/flag-values.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description("the paper's figures from your runs: one self-contained HTML file (and SVGs)")
    .argument('<runs...>', 'run directories, or folders holding them at any depth')
    .option('-o, --out <file>', 'HTML report to write', 'report.html')
    .option('--svg <dir>', 'also write each chart as SVG into this folder')
    .option(
      '--early-epochs <e>',
      'early phase = epochs <= E, for early Tr(F)',
      positiveNumber('--early-epochs'),
    )
    .option('--title <text>', 'report title')
    .action(
      async (
        runs: string[],
        options: { out: string; svg?: string; earlyEpochs?: number; title?: string },
      ) => {
        const { buildReport } = await import('@fisherlab/analysis');
        const built = await buildReport({
          runs,
          out: options.out,
          ...(options.svg ? { svgDir: options.svg } : {}),
          ...(options.earlyEpochs ? { earlyEpochs: options.earlyEpochs } : {}),
          ...(options.title ? { title: options.title } : {}),
        });
        console.log(
          `report: ${built.htmlPath} (${built.summary.length} runs, ${built.charts.length} charts)`,
        );
        for (const svg of built.svgPaths) console.log(`svg: ${svg}`);
        const skipped = new Set(built.skipped.map((s) => s.dir));
        for (const s of built.skipped) console.error(`warning: left out ${s.dir}: ${s.reason}`);
        for (const note of built.notes)
          if (![...skipped].some((dir) => note.startsWith(`Run ${dir} was left out`)))
            console.log(`note: ${note}`);
      },
    );
}
