import { traceFRows } from '../analysis/fisherTrace.js';
import { seedCurves } from '../analysis/seedCurves.js';
import type { RunTables } from '../read/readRuns.js';
import { CHART_CONFIG, type ChartOutcome, curvePanel, curveRows, VEGA_LITE_SCHEMA } from './chart.js';

const same = (g: string) => g;

/**
 * Figure 1, "Catastrophic Fisher explosion": Tr(F) on a log axis against epoch, one line per run group
 * (mean across seeds, ±1 sd band), beside the training and held-out accuracy of the same groups.
 */
export function fisherExplosionChart(tables: RunTables): ChartOutcome {
  const notes: string[] = [];
  const traceRows = curveRows(seedCurves(traceFRows(tables.fisher), 'traceF'), same, true);
  if (traceRows.length === 0) {
    return {
      chart: null,
      notes: [
        'Fisher explosion: no Tr(F) measurements found (fisher records with estimator exact, mc or minibatch).',
      ],
    };
  }
  let trainRows = curveRows(seedCurves(tables.evals, 'trainAccuracy'), same);
  let trainTitle = 'train accuracy';
  if (trainRows.length === 0) {
    trainRows = curveRows(seedCurves(tables.train, 'accuracy'), same);
    trainTitle = 'train accuracy (running, logged steps)';
    if (trainRows.length > 0)
      notes.push(
        'Fisher explosion: no evaluation of training accuracy; the train panel shows the running accuracy of logged steps.',
      );
  }
  let heldOutRows = curveRows(seedCurves(tables.evals, 'valAccuracy'), same);
  let heldOutTitle = 'validation accuracy';
  if (heldOutRows.length === 0) {
    heldOutRows = curveRows(seedCurves(tables.evals, 'testAccuracy'), same);
    heldOutTitle = 'test accuracy';
  }
  const panels = [
    curvePanel(traceRows, { title: 'Tr(F)', yTitle: 'Tr(F) (log scale)', colorTitle: 'group', log: true }),
  ];
  if (trainRows.length > 0)
    panels.push(
      curvePanel(trainRows, { title: trainTitle, yTitle: trainTitle, colorTitle: 'group', yDomain: [0, 1] }),
    );
  else notes.push('Fisher explosion: no training accuracy logged, so that panel is left out.');
  if (heldOutRows.length > 0)
    panels.push(
      curvePanel(heldOutRows, {
        title: heldOutTitle,
        yTitle: heldOutTitle,
        colorTitle: 'group',
        yDomain: [0, 1],
      }),
    );
  else notes.push('Fisher explosion: no validation or test accuracy logged, so that panel is left out.');
  return {
    chart: {
      id: 'fisher-explosion',
      title: 'Fisher explosion: Tr(F) and accuracy during training',
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        config: CHART_CONFIG,
        title: {
          text: 'Tr(F), train and held-out accuracy by run group',
          subtitle: 'mean across seeds, band ±1 sd',
        },
        hconcat: panels,
      },
    },
    notes,
  };
}
