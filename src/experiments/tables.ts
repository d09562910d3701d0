/** `pix2pix results table`: the markdown tables (and figure pages) regenerated from results CSVs alone. */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.ts';
import { exists, writeFileAtomic } from '../util/fs.ts';
import { defaultLog } from './collect.ts';
import { type CsvRow, markdownFromRows, parseCsv, sharedRows } from './report.ts';

/** `pix2pix results table`: regenerate each CSV's markdown from the CSVs alone (rows shared between them are marked). */
export async function regenerateTables(csvFiles: string[], log: (l: string) => void = defaultLog): Promise<string[]> {
  if (csvFiles.length === 0) throw new UserError('results table: name at least one CSV, e.g. results/*.csv');
  const written: string[] = [];
  const parsed: { fields: string[]; rows: CsvRow[] }[] = [];
  for (const f of csvFiles) {
    if (!f.endsWith('.csv')) throw new UserError(`${f}: not a .csv file; pass the results CSVs (results/*.csv)`);
    let text: string;
    try {
      text = await fsp.readFile(f, 'utf8');
    } catch {
      throw new UserError(`${f}: cannot read it; pass existing results CSVs (results/*.csv)`);
    }
    parsed.push(parseCsv(text, f));
  }
  for (const [i, f] of csvFiles.entries()) {
    const { fields, rows } = parsed[i];
    const md = f.replace(/\.csv$/, '.md');
    const markdown = markdownFromRows(
      rows,
      fields,
      sharedRows(
        rows,
        parsed.filter((_, j) => j !== i).map((p) => p.rows),
      ),
    );
    await writeFileAtomic(md, markdown);
    const figDir = f.replace(/\.csv$/, '');
    if (await exists(figDir)) {
      const { experimentIndexHtml } = await import('./index-page.ts');
      await writeFileAtomic(path.join(figDir, 'index.html'), experimentIndexHtml(markdown, path.basename(figDir), path.basename(figDir)));
    }
    log(`wrote ${md}`);
    written.push(md);
  }
  return written;
}
