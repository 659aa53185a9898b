import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePaperLikeRuns } from '../fixtures/paperRuns.js';
import { type BuiltReport, buildReport } from './buildReport.js';

const OUTPUT = path.resolve(import.meta.dirname, '../../test-output');
const CHROMIUM = process.env.FISHERLAB_CHROMIUM ?? '/usr/bin/chromium';

let root: string;
let report: BuiltReport;
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
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('buildReport', () => {
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
  it('inlines the scripts and escapes what could end a script element', async () => {
    const html = await readFile(report.htmlPath, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toContain('<b>');
    expect(html.match(/<\/script/gi)).toHaveLength(html.match(/<script/gi)!.length);
  });
});

describe('the report in headless Chromium', () => {
  it('loads with no console errors and no network, every chart has marks, and a screenshot is saved', async () => {
    const profile = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-chromium-'));
    // A fresh profile per run: launchPersistentContext is playwright's way to pass --user-data-dir.
    const context = await chromium.launchPersistentContext(profile, {
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
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(report.htmlPath).href;
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForFunction(
        (n) =>
          document.querySelectorAll('.chart svg.marks').length +
            document.querySelectorAll('.chart-error').length >=
          n,
        report.charts.length,
      );
      const marks = await page.$$eval('.chart', (charts) =>
        charts.map((chart) => ({
          id: chart.getAttribute('data-chart'),
          marks: chart.querySelectorAll(
            'svg g.role-mark > path, svg g.role-mark > rect, svg g.role-mark > line, svg g.role-mark > circle',
          ).length,
        })),
      );
      expect(marks).toHaveLength(4);
      for (const m of marks) expect(m.marks, `chart ${m.id} has no rendered marks`).toBeGreaterThan(0);
      expect(await page.locator('#findings li').count()).toBe(2);
      expect(await page.locator('#summary .status-failed').count()).toBeGreaterThan(0);
      expect(await page.locator('#summary .status-running').count()).toBeGreaterThan(0);
      expect(await page.locator('details.run-config').count()).toBe(13);
      await page.screenshot({ path: path.join(OUTPUT, 'report.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});
