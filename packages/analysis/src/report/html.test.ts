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
    earlyEpochs: 3,
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
});
