import { describe, expect, it } from 'vitest';
import { experimentIndexHtml, markdownToHtml } from '../../src/experiments/index-page.ts';

describe('experiment index page', () => {
  it('renders the report subset of markdown: headings, lists, tables with escaped pipes, images, code, bold', () => {
    const html = markdownToHtml(['# T <1>', '', '- a `x`', '- **b**', '', '| A | B |', '|---|---|', '| 1 \\| 2 | 3 |', '', '![s](p/s.png)'].join('\n'));
    expect(html).toBe(
      [
        '<h1>T &lt;1&gt;</h1>',
        '<ul>\n<li>a <code>x</code></li>\n<li><strong>b</strong></li>\n</ul>',
        '<table>\n<thead><tr><th>A</th><th>B</th></tr></thead>\n<tbody>\n<tr><td>1 | 2</td><td>3</td></tr>\n</tbody>\n</table>',
        '<p><img alt="s" src="p/s.png"></p>',
      ].join('\n'),
    );
  });

  it('links figures relative to results/<experiment>/ and shows the SVG loss figure', () => {
    const html = experimentIndexHtml('![samples](patch-size/samples.png)\n\n![losses](patch-size/losses.png)\n\n![other](x.png)', 'patch-size', 'Table 3');
    expect(html).toContain('src="samples.png"');
    expect(html).toContain('src="losses.svg"');
    expect(html).toContain('src="../x.png"');
    expect(html).toMatch(/^<!doctype html>/);
  });
});
