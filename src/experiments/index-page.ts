/**
 * `results/<experiment>/index.html`: the experiment's markdown report as a page, with the figures
 * beside it. The page is rendered from the markdown itself (one source for the tables), by a small
 * converter for the subset report.ts writes: headings, paragraphs, bullet lists, pipe tables, images,
 * bold and code spans. Links are made relative to the page's own folder.
 */
import { escapeXml } from './figures.ts';

function inline(text: string, rebase: (src: string) => string): string {
  return escapeXml(text)
    .replace(/!\[([^\]]*)\]\(([^)]+)\)/g, (_m, alt: string, src: string) => `<img alt="${alt}" src="${escapeXml(rebase(src))}">`)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

function tableCells(line: string): string[] {
  // Split on pipes not escaped as `\|` (report.ts escapes pipes inside cells that way).
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));
}

export function markdownToHtml(md: string, rebase: (src: string) => string = (s) => s): string {
  const out: string[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (heading) out.push(`<h${heading[1].length}>${inline(heading[2], rebase)}</h${heading[1].length}>`);
    else if (line.startsWith('- ')) {
      const items: string[] = [];
      while (i < lines.length && lines[i].startsWith('- ')) items.push(`<li>${inline(lines[i++].slice(2), rebase)}</li>`);
      i--;
      out.push(`<ul>\n${items.join('\n')}\n</ul>`);
    } else if (line.startsWith('|')) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i].startsWith('|')) rows.push(tableCells(lines[i++]));
      i--;
      const [head, , ...body] = rows;
      const th = head.map((c) => `<th>${inline(c, rebase)}</th>`).join('');
      const trs = body.map((r) => `<tr>${r.map((c) => `<td>${inline(c, rebase)}</td>`).join('')}</tr>`);
      out.push(`<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs.join('\n')}\n</tbody>\n</table>`);
    } else if (line.trim() !== '') out.push(`<p>${inline(line, rebase)}</p>`);
  }
  return out.join('\n');
}

const STYLE = `body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}img{max-width:100%}code{background:#f3f3f3;padding:0 3px}`;

/** The page for one experiment, from its markdown report (whose image links are relative to results/). */
export function experimentIndexHtml(markdown: string, experiment: string, title: string): string {
  const prefix = `${experiment}/`;
  const rebase = (src: string): string => {
    const local = src.startsWith(prefix) ? src.slice(prefix.length) : `../${src}`;
    // The vector version of the loss figure reads better in a browser.
    return local === 'losses.png' ? 'losses.svg' : local;
  };
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${escapeXml(title)}</title>\n<style>\n${STYLE}\n</style>\n</head>\n<body>\n${markdownToHtml(markdown, rebase)}\n</body>\n</html>\n`;
}
