import { describe, expect, it } from 'vitest';
import { escapeHtml, galleryPages, pageFile, relativeUrl, tripletCollision, tripletNames } from '../../src/runtime/gallery.ts';
import { sizeMultipleOfNodes } from '../../src/runtime/model-graph.ts';

describe('galleryPages', () => {
  const rows = Array.from({ length: 120 }, (_, i) => ({ name: `img${i}.png`, input: `img${i}_input.png`, output: `img${i}.png` }));

  it('pages 50 rows at a time, index.html then index-2.html …, each linking the others', () => {
    const pages = galleryPages(rows, { title: 't', withTarget: false });
    expect(pages.map((p) => p.file)).toEqual(['index.html', 'index-2.html', 'index-3.html']);
    expect(pages.map((p) => (p.html.match(/<tr><td>/g) ?? []).length)).toEqual([50, 50, 20]);
    expect(pages[1].html).toContain('<a href="index.html" rel="prev">');
    expect(pages[1].html).toContain('<a href="index-3.html" rel="next">');
    expect(pages[2].html).not.toContain('rel="next"');
    expect(pages[0].html).toContain('img0_input.png');
    expect(pages[2].html).toContain('img119.png');
    expect(pages[0].html).not.toContain('<th>target</th>');
  });

  it('marks missing images instead of linking them, and writes one page for no rows', () => {
    const [p] = galleryPages([{ name: 'a.png', output: 'a.png', target: undefined }], { title: 't', withTarget: true });
    expect(p.html).toContain('<th>target</th>');
    expect((p.html.match(/class="missing"/g) ?? []).length).toBe(2);
    expect(galleryPages([], { title: 't', withTarget: false }).map((x) => x.file)).toEqual(['index.html']);
    expect(pageFile(1)).toBe('index.html');
  });

  it('escapes names and percent-encodes links per path segment', () => {
    expect(escapeHtml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
    expect(relativeUrl('sub dir/a#1?.png')).toBe('sub%20dir/a%231%3F.png');
  });
});

describe('triplet names', () => {
  it('suffix the output stem, and a clash with another output is found', () => {
    expect(tripletNames('d/x.png')).toEqual({ input: 'd/x_input.png', target: 'd/x_target.png' });
    expect(tripletCollision(['a.png', 'b.png'], true)).toBeUndefined();
    expect(tripletCollision(['a.png', 'a_target.png'], true)).toEqual({ name: 'a_target.png', owner: 'a.png' });
    expect(tripletCollision(['a.png', 'a_target.png'], false)).toBeUndefined();
  });
});

describe('sizeMultipleOfNodes', () => {
  it('multiplies the strides of downsampling nodes and ignores upsampling ones', () => {
    const down = { opType: 'Conv', strides: [2, 2] };
    expect(
      sizeMultipleOfNodes([
        down,
        down,
        { opType: 'Conv', strides: [1, 1] },
        { opType: 'ConvTranspose', strides: [2, 2] },
        { opType: 'MaxPool', strides: [2, 2] },
      ]),
    ).toBe(8);
    expect(sizeMultipleOfNodes([])).toBe(1);
  });
});
