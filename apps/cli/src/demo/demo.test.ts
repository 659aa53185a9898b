import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { readDemoTuning } from './plan.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin.js');
const out = mkdtempSync(path.join(tmpdir(), 'fisherlab-demo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('fisherlab demo --quick', () => {
  it('runs five arms for two seeds end to end, states the three findings as paired effects, and its report renders', async () => {
    const result = spawnSync(process.execPath, [bin, 'demo', '--quick', '--out', out], {
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
      timeout: 600_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const findings = result.stdout.split('\n').filter((l) => /^(HELD|INCONCLUSIVE|NOT HELD)/.test(l));
    expect(findings).toHaveLength(3);
    for (const line of findings) expect(line).toMatch(/^(HELD {8}|INCONCLUSIVE|NOT HELD {4}) \([abc]\)/);
    // Each finding is stated as paired differences across the seeds, with an interval.
    expect(result.stdout.match(/95% CI [^;]+; \d of 2 seeds/g)!.length).toBeGreaterThanOrEqual(6);
    const tuned = readDemoTuning().tunedLr.toString().replace('.', '\\.');
    expect(result.stdout).toMatch(new RegExp(`^lr ${tuned} \\(tuned\\) +1 +2 +\\d`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^20% noisy labels, lr ${tuned} \\(tuned\\) \\+ FP α=`, 'm'));
    // Every arm's fit is printed (the quick scale is far too short to fit: the line says so).
    expect(result.stdout).toMatch(/^Fit, training accuracy .*NOT fit/m);
    expect(readdirSync(path.join(out, 'runs')).sort()).toEqual(
      ['s0', 's1'].flatMap((s) =>
        ['noisy', 'noisy-FP', 'small', 'small-FP', 'tuned'].map((a) => `${s}-${a}`),
      ),
    );
    const reportFile = path.join(out, 'report.html');
    expect(existsSync(reportFile)).toBe(true);
    const svgs = readdirSync(path.join(out, 'figures')).filter((f) => f.endsWith('.svg'));
    expect(svgs).toContain('paired-effects.svg');
    expect(svgs.length).toBeGreaterThanOrEqual(4);
    const html = readFileSync(reportFile, 'utf8');
    expect(html).toContain('FisherLab demo (quick)');

    const browser = await chromium.launch({
      executablePath: process.env['FISHERLAB_CHROMIUM'] ?? '/usr/bin/chromium',
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
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(reportFile).href;
      await page.goto(url);
      await page.waitForFunction(() => document.querySelectorAll('.chart svg.marks').length >= 5, undefined, {
        timeout: 60_000,
      });
      const marks = await page.$$eval('.chart', (charts) =>
        charts.map(
          (c) =>
            c.querySelectorAll('svg g.role-mark > path, svg g.role-mark > rect, svg g.role-mark > line')
              .length,
        ),
      );
      expect(marks).toHaveLength(svgs.length);
      for (const m of marks) expect(m).toBeGreaterThan(0);
      expect(await page.locator('#findings li').count()).toBe(3);
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
    } finally {
      await browser.close();
    }
  }, 900_000);
});
