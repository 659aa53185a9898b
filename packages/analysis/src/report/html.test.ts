import { describe, expect, it } from 'vitest';
import { summaryRow } from '../fixtures/summaryRows.js';
import { escapeHtml, renderReportHtml } from './html.js';
import { escapeInlineScript } from './vendorScripts.js';

describe('report HTML escaping', () => {
  const html = renderReportHtml({
    title: 'T',
    generatedAt: 'now',
    sources: ['runs'],
    findings: [{ title: 'a <b>', held: true, text: 'x & y' }],
    notes: ['note </script>'],
    charts: [
      {
        id: 'c',
        title: 'chart',
        spec: { data: { values: [{ label: '</script><script>alert(1)</script>' }] }, mark: 'point' },
      },
    ],
    summary: [summaryRow({ runId: 'r', name: '<img src=x>' })],
    groups: [],
    runs: [],
    earlyPhase: 'epochs ≤ 3',
  });
  it('keeps data and text from closing elements or injecting markup', () => {
    expect(html).toContain('\\u003c/script>\\u003cscript>alert(1)\\u003c/script>');
    expect(html).toContain('a &lt;b&gt;');
    expect(html).toContain('x &amp; y');
    expect(html).toContain('&lt;img src=x&gt;');
    const markup = html.slice(0, html.indexOf('<script>'));
    expect(markup.includes('<img')).toBe(false);
    // Every <script> has its own closing tag and no other closing tag appears.
    expect(html.match(/<\/script/gi)!.length).toBe(html.match(/<script/gi)!.length);
  });
  it('escapes inline script text', () => {
    expect(escapeInlineScript('a="</script>";b="<!--"')).toBe('a="<\\/script>";b="<\\!--"');
    expect(escapeHtml(`'"`)).toBe('&#39;&quot;');
  });
  it('shows a three-way verdict where the finding has one', () => {
    const page = renderReportHtml({
      title: 'T',
      generatedAt: 'now',
      sources: ['runs'],
      findings: [
        { title: 'x', held: false, verdict: 'inconclusive', text: 'mean right, interval spans 0' },
        { title: 'y', held: true, text: 'held' },
        { title: 'z', held: false, verdict: 'not held', text: 'against' },
      ],
      notes: [],
      charts: [],
      summary: [],
      groups: [],
      runs: [],
      earlyPhase: 'epochs ≤ 2',
    });
    const badges = [...page.matchAll(/<li class="([a-z-]+)"><span class="badge">([^<]+)<\/span>/g)].map(
      (m) => [m[1], m[2]],
    );
    expect(badges).toEqual([
      ['inconclusive', '~ inconclusive'],
      ['held', '✓ held'],
      ['not-held', '✗ did not hold'],
    ]);
  });
});
