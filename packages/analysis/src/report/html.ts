import type { GroupSummary, RunSummary } from '../analysis/runSummary.js';
import type { MeanSpread } from '../analysis/stats.js';
import { type Chart, fmt } from '../charts/chart.js';
import type { RunInfo } from '../read/readRuns.js';
import { vendorScripts } from './vendorScripts.js';

/** A claim checked against the runs (computed by the caller, e.g. the demo), shown above the charts. */
export interface Finding {
  title: string;
  held: boolean;
  /** A three-way verdict where the caller has one ('inconclusive': right direction, interval includes zero). */
  verdict?: 'held' | 'inconclusive' | 'not held';
  text: string;
}

const BADGES = {
  held: ['held', '✓ held'],
  inconclusive: ['inconclusive', '~ inconclusive'],
  'not held': ['not-held', '✗ did not hold'],
} as const;

export interface ReportPage {
  title: string;
  generatedAt: string;
  sources: readonly string[];
  findings: readonly Finding[];
  notes: readonly string[];
  charts: readonly Chart[];
  summary: readonly RunSummary[];
  groups: readonly GroupSummary[];
  runs: readonly RunInfo[];
  /** The early phase in words (describeEarlyWindow). */
  earlyPhase: string;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON that is safe inside <script type="application/json">: "<" is written as \u003c. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
const at = (epoch: number | null) => (epoch === null ? '' : ` <span class="dim">@${fmt(epoch)}</span>`);
/** mean ± sd (n): fractions as '%' (accuracies) or ' pts' (accuracy differences), or plain numbers. */
const spread = (s: MeanSpread | null, unit: '%' | ' pts' | '') => {
  if (s === null) return '–';
  const f = (v: number) => (unit === '' ? fmt(v) : `${(v * 100).toFixed(1)}`);
  return `${f(s.mean)}${s.sd === null ? '' : ` ± ${f(s.sd)}`}${unit} <span class="dim">(n=${s.n})</span>`;
};

/** The self-contained report page: vega, vega-lite and vega-embed inlined, no network needed to view it. */
export function renderReportHtml(page: ReportPage): string {
  const { vega, vegaLite, vegaEmbed } = vendorScripts();
  const findings =
    page.findings.length === 0
      ? ''
      : `<section id="findings"><h2>Findings</h2><ul class="findings">${page.findings
          .map((f) => {
            const [cls, badge] = BADGES[f.verdict ?? (f.held ? 'held' : 'not held')];
            return `<li class="${cls}"><span class="badge">${badge}</span> <strong>${escapeHtml(f.title)}</strong><p>${escapeHtml(f.text)}</p></li>`;
          })
          .join('')}</ul></section>`;
  const notes =
    page.notes.length === 0
      ? ''
      : `<section id="notes"><h2>Notes</h2><ul class="notes">${page.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>`;
  const charts = page.charts
    .map(
      (c, i) =>
        `<section class="figure"><h2>${escapeHtml(c.title)}</h2><div id="chart-${i}" class="chart" data-chart="${escapeHtml(c.id)}"></div>` +
        `<script type="application/json" id="spec-${i}">${scriptJson(c.spec)}</script></section>`,
    )
    .join('\n');
  // Curvature columns only when some run probed flatness.
  const hasCurvature = page.summary.some((r) => r.finalTraceH !== null || r.finalTopEigenvalue !== null);
  const curvatureHead = hasCurvature ? '<th>final Tr(H) ± se</th><th>final top eigenvalue</th>' : '';
  const curvatureCell = (r: RunSummary) =>
    hasCurvature
      ? `<td>${fmt(r.finalTraceH)}${r.finalTraceHStdErr === null ? '' : ` ± ${fmt(r.finalTraceHStdErr)}`}</td><td>${fmt(r.finalTopEigenvalue)}</td>`
      : '';
  const runRows = page.summary
    .map((r) => {
      const status = `<span class="status status-${r.status}">${r.status}</span>${r.statusDetail ? `<div class="dim">${escapeHtml(r.statusDetail)}</div>` : ''}`;
      const se = r.maxTraceFStdErr === null ? '' : ` ± ${fmt(r.maxTraceFStdErr)}`;
      const earlySe = r.earlyMaxTraceFStdErr === null ? '' : ` ± ${fmt(r.earlyMaxTraceFStdErr)}`;
      return `<tr class="row-${r.status}"><td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.group)}</td><td>${r.seed ?? '–'}</td><td>${status}</td>
<td>${pct(r.finalTestAccuracy)}${at(r.finalEpoch)}</td><td>${pct(r.bestTestAccuracy)}${at(r.bestTestEpoch)}</td>
<td>${fmt(r.maxTraceF)}${se}${at(r.maxTraceFEpoch)}${r.estimator ? `<div class="dim">${escapeHtml(r.estimator)} estimator</div>` : ''}</td><td>${fmt(r.earlyMaxTraceF)}${earlySe}${at(r.earlyMaxTraceFEpoch)}</td>
<td>${r.gap === null ? '–' : `${(r.gap * 100).toFixed(1)} pts`}</td><td>${pct(r.finalTrainCleanAccuracy)} / ${pct(r.finalTrainNoisyAccuracy)}</td>${curvatureCell(r)}</tr>`;
    })
    .join('\n');
  const groupRows = page.groups
    .map(
      (g) =>
        `<tr><td>${escapeHtml(g.group)}</td><td>${g.finished} of ${g.runs}</td><td>${spread(g.finalTestAccuracy, '%')}</td><td>${spread(g.bestTestAccuracy, '%')}</td><td>${spread(g.maxTraceF, '')}</td><td>${spread(g.earlyMaxTraceF, '')}</td><td>${spread(g.gap, ' pts')}</td></tr>`,
    )
    .join('\n');
  const configs = page.runs
    .map(
      (r) =>
        `<details class="run-config"><summary>${escapeHtml(r.name)} <span class="status status-${r.status}">${r.status}</span> <span class="dim">${escapeHtml(r.dir)}</span></summary>` +
        `<pre>${escapeHtml(JSON.stringify({ config: r.config, meta: r.meta }, null, 2))}</pre></details>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1280px; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.dim { color: #777; font-size: 0.9em; }
.findings { list-style: none; padding: 0; } .findings li { border-left: 4px solid; padding: 0.3rem 0.8rem; margin: 0.5rem 0; }
.findings li p { margin: 0.2rem 0 0; }
.held { border-color: #2e7d32; background: #f1f8f1; } .not-held { border-color: #c62828; background: #fdf1f1; }
.inconclusive { border-color: #9a6700; background: #fdf8ec; } .inconclusive .badge { color: #9a6700; font-weight: 600; }
.held .badge { color: #2e7d32; font-weight: 600; } .not-held .badge { color: #c62828; font-weight: 600; }
.notes li { margin: 0.2rem 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { border-bottom: 1px solid #e5e5e5; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #fafafa; }
.status { font-weight: 600; } .status-completed { color: #2e7d32; } .status-running { color: #1565c0; }
.status-failed, .status-diverged { color: #c62828; } .status-interrupted, .status-unknown { color: #9a6700; }
.row-failed, .row-diverged { background: #fff5f5; } .row-running { background: #f3f8ff; }
.chart { overflow-x: auto; } pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; font-size: 12px; }
.chart-error { color: #c62828; }
</style>
</head>
<body>
<h1>${escapeHtml(page.title)}</h1>
<p class="dim">Generated ${escapeHtml(page.generatedAt)} from ${page.runs.length} run(s) in ${page.sources.map(escapeHtml).join(', ')}. Early phase: ${escapeHtml(page.earlyPhase)}. Accuracies are fractions shown as %; Tr(F) is the trace of the Fisher information on each run's tracking subset.</p>
${findings}
${notes}
${charts}
<section id="summary"><h2>Summary by run</h2>
<table><thead><tr><th>run</th><th>group</th><th>seed</th><th>status</th><th>final test acc</th><th>best test acc</th><th>max Tr(F) ± se</th><th>early max Tr(F) ± se</th><th>gap (train − test)</th><th>final train acc clean / noisy</th>${curvatureHead}</tr></thead>
<tbody>
${runRows}
</tbody></table>
<h2>Summary by group (mean ± sd across finished seeds)</h2>
<table><thead><tr><th>group</th><th>finished runs</th><th>final test acc</th><th>best test acc</th><th>max Tr(F)</th><th>early max Tr(F)</th><th>gap</th></tr></thead>
<tbody>
${groupRows}
</tbody></table>
</section>
<section id="configs"><h2>Run configs</h2>
${configs}
</section>
<script>${vega}</script>
<script>${vegaLite}</script>
<script>${vegaEmbed}</script>
<script>
for (const el of document.querySelectorAll('.chart')) {
  const spec = JSON.parse(document.getElementById('spec-' + el.id.slice('chart-'.length)).textContent);
  vegaEmbed(el, spec, { renderer: 'svg', actions: false }).catch((error) => {
    el.innerHTML = '<p class="chart-error">This chart could not be drawn: ' + String(error).replace(/</g, '&lt;') + '</p>';
    console.error(error);
  });
}
</script>
</body>
</html>
`;
}
