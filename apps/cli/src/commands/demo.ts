import { formatDuration } from '@fisherlab/training';
import type { Command } from 'commander';
import { wholeNumber } from '../config/flag-values.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      "reproduce the paper's three findings on the embedded Fashion-MNIST subset, then write DIR/report.html",
    )
    .option('--out <dir>', 'where the runs and the report go', 'fisherlab-demo')
    .option(
      '--quick',
      'fewer examples and epochs (seconds with the native tier): checks that everything runs, not the findings',
    )
    .option(
      '--seeds <n>',
      'seeds per arm (0 .. n-1; default 5, 2 with --quick): findings are paired differences across them',
      wholeNumber('--seeds', 1),
    )
    .option('--workers <n>', 'runs at a time (wasm uses one core per run)', wholeNumber('--workers', 1), 2)
    .option(
      '--tune',
      're-derive the protocol on this machine: grids over lr, the small-lr ratio, FP alpha and the penalty interval, every clean run trained until it fits; records grids and choices in packages/demo/tuning.json',
    )
    .action(
      async (options: { out: string; quick?: boolean; seeds?: number; workers: number; tune?: boolean }) => {
        if (options.tune) {
          const { describeTuning, tuneDemo } = await import('@fisherlab/demo');
          const tuning = await tuneDemo({ out: options.out, workers: options.workers });
          console.log(`\n${describeTuning(tuning).join('\n\n')}\n`);
          console.log(
            `chosen: tuned lr ${tuning.tunedLr} (${tuning.epochs.tuned} epochs), small lr ${tuning.smallLr} = tuned / ${tuning.smallLrDivisor} (${tuning.epochs.small} epochs), ` +
              `FP α ${tuning.fisherAlpha} every ${tuning.penaltyEvery} step(s), noisy pair ${tuning.epochs.noisy} epochs; written to packages/demo/tuning.json`,
          );
          return;
        }
        const { runDemo } = await import('@fisherlab/demo');
        const result = await runDemo({
          out: options.out,
          quick: Boolean(options.quick),
          ...(options.seeds === undefined ? {} : { seeds: options.seeds }),
          workers: options.workers,
        });
        console.log(`\n${result.table}\n\n${result.fit}\n`);
        const badge = { held: 'HELD        ', inconclusive: 'INCONCLUSIVE', 'not held': 'NOT HELD    ' };
        for (const f of result.findings)
          console.log(`${badge[f.verdict]} ${f.title}\n             ${f.text}`);
        console.log(`\nreport: ${result.reportPath}  (wall time ${formatDuration(result.seconds)})`);
      },
    );
}
