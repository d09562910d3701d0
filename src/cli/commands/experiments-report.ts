/**
 * The text and JSON output of `eval run --status`, `eval run --collect` and `results collect` (loaded
 * by their handlers only, since it reaches the experiment runner).
 */
/** `eval run --status`: the stage states from the files alone. */
export async function printStatus(file: string, profile: string, out: string, json: boolean, taskCount: number | undefined): Promise<void> {
  const [{ readExperiment }, { resolveExperiment }, { experimentStatus, formatStatus }] = await Promise.all([
    import('../../experiments/schema.ts'),
    import('../../experiments/resolve.ts'),
    import('../../experiments/status.ts'),
  ]);
  const exp = resolveExperiment(await readExperiment(file), file, profile);
  const s = await experimentStatus(exp, out, { taskCount });
  process.stdout.write(`${json ? JSON.stringify(s) : formatStatus(s)}\n`);
}

/** `results collect` and `eval run --collect`: write the tables; exit status 1 while any pair is not done. */
export async function printCollect(files: string[], profile: string, out: string, json: boolean, taskCount: number | undefined): Promise<void> {
  const { collectResults } = await import('../../experiments/collect.ts');
  const outs = await collectResults({ files, profile, out, taskCount });
  if (json) {
    const list = outs.map((o) => ({
      experiment: o.summary.experiment,
      csv: o.csv,
      markdown: o.markdown,
      complete: o.incomplete.length === 0,
      incomplete: o.incomplete,
      status: o.status,
    }));
    process.stdout.write(`${JSON.stringify(list.length === 1 ? list[0] : list)}\n`);
  } else for (const o of outs) process.stdout.write(`${o.csv}\n${o.markdown}\n`);
  if (outs.some((o) => o.incomplete.length)) process.exitCode = 1;
}
