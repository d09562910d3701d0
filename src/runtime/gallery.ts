/**
 * A results gallery like the PyTorch repo's `results/NAME/test_latest/index.html`: one row per
 * image, input | output (| target for AB pairs), paged so a folder of thousands still opens fast.
 * Pure: builds page texts from relative paths; the caller checks which files exist and writes.
 * Links are relative to the output folder (the gallery moves with it) and percent-encoded per path
 * segment; names are HTML-escaped.
 */
import * as path from 'node:path';

const ROWS_PER_PAGE = 50;

export interface GalleryRow {
  /** The input's relative path, shown as the row's title. */
  name: string;
  /** Relative paths ('/'-separated) inside the output folder; undefined = not there. */
  input?: string;
  output?: string;
  target?: string;
}

export interface GalleryPage {
  /** File name in the output folder: index.html, index-2.html, … */
  file: string;
  html: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A relative '/'-path as a URL: each segment percent-encoded (spaces, '#', '?', '%' in names). */
export function relativeUrl(rel: string): string {
  return rel.split('/').map(encodeURIComponent).join('/');
}

export function pageFile(page: number): string {
  return page === 1 ? 'index.html' : `index-${page}.html`;
}

/** Names of the extra images --save-triplets writes beside an output `stem.ext`. */
export function tripletNames(outRel: string): { input: string; target: string } {
  const ext = path.posix.extname(outRel);
  const stem = outRel.slice(0, outRel.length - ext.length);
  return { input: `${stem}_input${ext}`, target: `${stem}_target${ext}` };
}

/** The first triplet name that would overwrite another planned output, if any. */
export function tripletCollision(outputs: Iterable<string>, withTarget: boolean): { name: string; owner: string } | undefined {
  const taken = new Set(outputs);
  for (const out of taken) {
    const t = tripletNames(out);
    for (const name of withTarget ? [t.input, t.target] : [t.input]) if (taken.has(name)) return { name, owner: out };
  }
  return undefined;
}

function cell(rel: string | undefined, alt: string): string {
  if (!rel) return '<td class="missing">missing</td>';
  const url = escapeHtml(relativeUrl(rel));
  return `<td><a href="${url}"><img src="${url}" alt="${escapeHtml(alt)}" loading="lazy"></a></td>`;
}

function nav(page: number, pages: number): string {
  if (pages === 1) return '';
  const links: string[] = [];
  if (page > 1) links.push(`<a href="${pageFile(page - 1)}" rel="prev">previous</a>`);
  for (let p = 1; p <= pages; p++) links.push(p === page ? `<b>${p}</b>` : `<a href="${pageFile(p)}">${p}</a>`);
  if (page < pages) links.push(`<a href="${pageFile(page + 1)}" rel="next">next</a>`);
  return `<nav>${links.join(' ')}</nav>`;
}

/** The gallery's pages (at least one, even for no rows). */
export function galleryPages(rows: readonly GalleryRow[], opts: { title: string; withTarget: boolean; rowsPerPage?: number }): GalleryPage[] {
  const per = opts.rowsPerPage ?? ROWS_PER_PAGE;
  const pages = Math.max(1, Math.ceil(rows.length / per));
  const head = `<tr><th>name</th><th>input</th><th>output</th>${opts.withTarget ? '<th>target</th>' : ''}</tr>`;
  const out: GalleryPage[] = [];
  for (let p = 1; p <= pages; p++) {
    const slice = rows.slice((p - 1) * per, p * per);
    const body = slice.map(
      (r) => `<tr><td>${escapeHtml(r.name)}</td>${cell(r.input, 'input')}${cell(r.output, 'output')}${opts.withTarget ? cell(r.target, 'target') : ''}</tr>`,
    );
    const title = escapeHtml(opts.title);
    const html = [
      '<!DOCTYPE html>',
      '<html lang="en"><head><meta charset="utf-8">',
      `<title>${title}${pages > 1 ? ` (page ${p} of ${pages})` : ''}</title>`,
      '<style>body{font-family:sans-serif}img{max-width:256px;image-rendering:pixelated}td{vertical-align:top;padding:4px}.missing{color:#a00}</style>',
      '</head><body>',
      `<h1>${title}</h1>`,
      `<p>${rows.length} image(s)${pages > 1 ? `, page ${p} of ${pages}` : ''}</p>`,
      nav(p, pages),
      `<table>${head}${body.join('\n')}</table>`,
      nav(p, pages),
      '</body></html>',
      '',
    ].join('\n');
    out.push({ file: pageFile(p), html });
  }
  return out;
}
