import { link, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePaperLikeRuns } from '../fixtures/paperRuns.js';
import { curveRecords, runConfig, runMeta, writeRun } from '../fixtures/runFixtures.js';
import { type BuiltReport, buildReport } from './buildReport.js';

const OUTPUT = path.resolve(import.meta.dirname, '../../test-output');
const CHROMIUM = process.env.FISHERLAB_CHROMIUM ?? '/usr/bin/chromium';

let root: string;
let report: BuiltReport;
/** A directory holding only a crashed run and a running one. */
let troubled: BuiltReport;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-report-'));
  await writePaperLikeRuns(path.join(root, 'runs'));
  await mkdir(OUTPUT, { recursive: true });
  report = await buildReport({
    runs: path.join(root, 'runs'),
    out: path.join(OUTPUT, 'report.html'),
    svgDir: path.join(OUTPUT, 'svg'),
    earlyEpochs: 2,
    title: 'Report test </script><b>',
    findings: [
      { title: 'Small lr explodes Tr(F) early', held: true, text: 'max Tr(F) 1000 vs 300 at the tuned lr.' },
      { title: 'FP beats the tuned lr', held: false, text: '82% vs 86%.' },
    ],
    notes: ['A note from the caller.'],
  });

  const records = curveRecords({
    epochs: 3,
    traceF: (e) => 30 * 2 ** e,
    test: (e) => 0.2 * e,
    train: (e) => 0.25 * e,
  });
  await writeRun(path.join(root, 'troubled/crashed'), {
    config: runConfig({ name: 'crashed', lr: 1, epochs: 10 }),
    meta: runMeta('crashed', 'failed', { error: { message: 'out of memory', step: 150 } }),
    records: records.filter((r) => r.epoch <= 1.5),
  });
  await writeRun(path.join(root, 'troubled/running'), {
    config: runConfig({ name: 'running', lr: 0.1, epochs: 10 }),
    meta: runMeta('running', 'running'),
    records,
    partialTail: '{"kind":"train","st',
  });
  troubled = await buildReport({
    runs: path.join(root, 'troubled'),
    out: path.join(OUTPUT, 'crashed-and-running.html'),
  });
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('buildReport', () => {
  it('replaces report.html whole: a reader of the old file never sees it emptied or half written', async () => {
    // A hard link keeps the old file reachable, as an open reader (or a browser tab) does: writing
    // in place (truncate, then write) would change what it reads; an atomic rename cannot.
    const out = path.join(root, 'atomic', 'report.html');
    await buildReport({ runs: path.join(root, 'troubled'), out, title: 'first' });
    const oldView = path.join(root, 'atomic', 'old-view.html');
    await link(out, oldView);
    await buildReport({ runs: path.join(root, 'troubled'), out, title: 'second' });
    const old = await readFile(oldView, 'utf8');
    expect(old).toMatch(/<title>first<\/title>/);
    expect(old.trimEnd().endsWith('</html>')).toBe(true);
    expect(await readFile(out, 'utf8')).toMatch(/<title>second<\/title>/);
    expect((await readdir(path.join(root, 'atomic'))).sort()).toEqual(['old-view.html', 'report.html']);
  });

  it('names an --out that is a directory (a WriteError, not a crash)', async () => {
    const out = path.join(root, 'a-directory');
    await mkdir(out);
    await expect(buildReport({ runs: path.join(root, 'troubled'), out })).rejects.toMatchObject({
      name: 'WriteError',
      message: expect.stringMatching(/a-directory: this path is a directory/),
    });
  });

  it('draws all four figures and writes their SVGs', async () => {
    expect(report.charts.map((c) => c.id)).toEqual([
      'fisher-explosion',
      'penalty-vs-lr',
      'memorization',
      'early-fisher-vs-accuracy',
    ]);
    expect(report.svgPaths).toHaveLength(4);
    for (const file of report.svgPaths) expect((await readFile(file, 'utf8')).startsWith('<svg')).toBe(true);
  });
  it('says which runs failed or are still running, and what was cut off', () => {
    const notes = report.notes.join('\n');
    expect(notes).toMatch(/^A note from the caller\./);
    expect(notes).toMatch(/Run crashed failed: loss became NaN at step 160 in loss/);
    expect(notes).toMatch(/Run running is running \(last logged epoch 2 of 6\)/);
    expect(notes).toMatch(/running: the last line of metrics\.jsonl was cut off/);
    const statuses = Object.fromEntries(report.summary.map((r) => [r.runId, r.status]));
    expect(statuses).toMatchObject({ crashed: 'failed', running: 'running', 'tuned/s1': 'completed' });
    expect(report.correlation.excluded.map((e) => e.runId).sort()).toEqual(['crashed', 'running']);
  });
  it('a directory with only a crashed and a running run still gives a report that says so', () => {
    expect(troubled.charts.map((c) => c.id)).toEqual(['fisher-explosion']);
    const notes = troubled.notes.join('\n');
    expect(notes).toMatch(/Run crashed failed: out of memory at step 150 \(last logged epoch 1\.5 of 10\)/);
    expect(notes).toMatch(/Run running is running \(last logged epoch 3 of 10\)/);
    expect(notes).toMatch(/Run running: the last line of metrics\.jsonl was cut off/);
    expect(notes).toMatch(/Early Tr\(F\) vs test accuracy: needs at least 2 finished runs.*found 0/);
    expect(troubled.groups.every((g) => g.finished === 0 && g.finalTestAccuracy === null)).toBe(true);
  });
  it('inlines the scripts and escapes what could end a script element', async () => {
    const html = await readFile(report.htmlPath, 'utf8');
    // Booleans, not toContain: a failure would otherwise print the whole 900 kB page.
    expect(/<script[^>]+src=/.test(html)).toBe(false);
    expect(html.includes('<b>')).toBe(false);
    // The fixture's runs probed flatness, so the summary shows it; the crashed/running report has no probes.
    expect(report.summary.find((r) => r.runId === 'small/s1')?.finalTraceH).toBeCloseTo(2000 * 0.975, 9);
    expect(html.includes('<th>final Tr(H) ± se</th>')).toBe(true);
    expect((await readFile(troubled.htmlPath, 'utf8')).includes('final Tr(H)')).toBe(false);
    expect(html.match(/<\/script/gi)).toHaveLength(html.match(/<script/gi)!.length);
  });
});

interface PageCheck {
  errors: string[];
  requests: string[];
  url: string;
  marks: { id: string | null; marks: number }[];
}

/** Opens a report, waits for every chart to render (or fail), and counts each chart's data marks. */
async function openReport(context: BrowserContext, built: BuiltReport, screenshot: string) {
  const page = await context.newPage();
  const check: PageCheck = { errors: [], requests: [], url: pathToFileURL(built.htmlPath).href, marks: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') check.errors.push(m.text());
  });
  page.on('pageerror', (e) => check.errors.push(String(e)));
  page.on('request', (r) => check.requests.push(r.url()));
  await page.goto(check.url, { waitUntil: 'load' });
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll('.chart svg.marks').length +
        document.querySelectorAll('.chart-error').length >=
      n,
    built.charts.length,
  );
  // Data marks only: children of vega's role-mark groups (axes, legends and titles have other roles).
  check.marks = await page.$$eval('.chart', (charts) =>
    charts.map((chart) => ({
      id: chart.getAttribute('data-chart'),
      marks: chart.querySelectorAll('svg g.role-mark > path, svg g.role-mark > rect, svg g.role-mark > line')
        .length,
    })),
  );
  await page.screenshot({ path: path.join(OUTPUT, screenshot), fullPage: true });
  return { page, check };
}

describe('the reports in headless Chromium', () => {
  let profile: string;
  let context: BrowserContext;
  beforeAll(async () => {
    profile = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-chromium-'));
    // A fresh profile: launchPersistentContext is how playwright passes --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1400, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
  });

  it('the full report: no console errors, no network, marks in every chart, screenshot saved', async () => {
    const { page, check } = await openReport(context, report, 'report.png');
    expect(check.marks).toHaveLength(4);
    for (const m of check.marks) expect(m.marks, `chart ${m.id} has no rendered marks`).toBeGreaterThan(0);
    expect(await page.locator('#findings li.held').count()).toBe(1);
    expect(await page.locator('#findings li.not-held').count()).toBe(1);
    expect(await page.locator('#summary .status-failed').count()).toBeGreaterThan(0);
    expect(await page.locator('#summary .status-running').count()).toBeGreaterThan(0);
    expect(await page.locator('details.run-config').count()).toBe(13);
    expect(check.errors).toEqual([]);
    expect(check.requests).toEqual([check.url]);
  });
  it('the crashed-and-running report renders and says so', async () => {
    const { page, check } = await openReport(context, troubled, 'crashed-and-running.png');
    expect(check.marks).toHaveLength(1);
    expect(check.marks[0]!.marks).toBeGreaterThan(0);
    expect(await page.locator('#notes').textContent()).toMatch(/Run crashed failed: out of memory/);
    expect(await page.locator('#summary .status-failed').count()).toBe(1);
    expect(await page.locator('#summary .status-running').count()).toBe(1);
    expect(check.errors).toEqual([]);
    expect(check.requests).toEqual([check.url]);
  });
});
