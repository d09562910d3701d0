/**
 * The job files of docs/cluster.md agree with each other and with the experiment they run: the
 * Indexed Job's completions = its --task-count = the collect Job's --task-count = the number of
 * (variant, seed) pairs, both Jobs mount the claimed volume at the --out they use, and the SLURM
 * scripts are valid bash. (The SLURM scripts themselves run in test/experiments/array.e2e.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveExperiment } from '../../src/experiments/resolve.ts';
import { readExperiment } from '../../src/experiments/schema.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const EX = path.join(ROOT, 'examples');

interface Container {
  command: string[];
  workingDir: string;
  volumeMounts: { name: string; mountPath: string }[];
}
interface JobYaml {
  kind: string;
  spec: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    template: { spec: { containers: Container[]; volumes: { name: string; persistentVolumeClaim: { claimName: string } }[] } };
  };
}

const load = (f: string): JobYaml => parse(readFileSync(path.join(EX, 'kubernetes', f), 'utf8')) as JobYaml;
const flag = (cmd: string[], name: string): string | undefined => cmd[cmd.indexOf(name) + 1];

describe('Kubernetes examples', () => {
  const job = load('eval-indexed-job.yaml');
  const collect = load('collect-job.yaml');
  const pvc = parse(readFileSync(path.join(EX, 'kubernetes', 'shared-volume.yaml'), 'utf8')) as { metadata: { name: string }; spec: { accessModes: string[] } };
  const evalCmd = job.spec.template.spec.containers[0].command;
  const collectCmd = collect.spec.template.spec.containers[0].command;

  it('the Indexed Job runs one pod per (variant, seed) pair of its experiment, and says so to pix2pix', async () => {
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    expect(flag(evalCmd, '--task-count')).toBe(String(job.spec.completions));
    expect(flag(collectCmd, '--task-count')).toBe(String(job.spec.completions));
    const file = evalCmd[evalCmd.indexOf('run') + 1];
    const exp = resolveExperiment(await readExperiment(path.join(ROOT, file)), file, flag(evalCmd, '--profile')!);
    expect(exp.runs).toHaveLength(job.spec.completions!);
    expect(collectCmd.slice(collectCmd.indexOf('collect') + 1, collectCmd.indexOf('collect') + 2)).toEqual([file]);
  });

  it('both Jobs share the ReadWriteMany volume, and --out lies on it', () => {
    expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
    for (const [j, cmd] of [
      [job, evalCmd],
      [collect, collectCmd],
    ] as const) {
      const spec = j.spec.template.spec;
      expect(spec.volumes[0].persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
      const mount = spec.containers[0].volumeMounts[0].mountPath;
      expect(flag(cmd, '--out')!.startsWith(`${mount}/`)).toBe(true);
      expect(spec.containers[0].workingDir.startsWith(`${mount}/`)).toBe(true);
      expect(flag(cmd, '--profile')).toBe('full');
    }
  });
});

describe('SLURM examples', () => {
  it('are valid bash, and the default array size is the pair count of the default experiment', async () => {
    for (const f of ['eval-array.sbatch', 'collect.sbatch', 'submit.sh']) execFileSync('bash', ['-n', path.join(EX, 'slurm', f)]);
    const sbatch = readFileSync(path.join(EX, 'slurm', 'eval-array.sbatch'), 'utf8');
    const [, lo, hi] = /^#SBATCH --array=(\d+)-(\d+)$/m.exec(sbatch)!;
    const file = /^EXPERIMENT=\$\{EXPERIMENT:-(.+)\}$/m.exec(sbatch)![1];
    const profile = /^PROFILE=\$\{PROFILE:-(.+)\}$/m.exec(sbatch)![1];
    const exp = resolveExperiment(await readExperiment(path.join(ROOT, file)), file, profile);
    expect(Number(hi) - Number(lo) + 1).toBe(exp.runs.length);
    expect(readFileSync(path.join(EX, 'slurm', 'submit.sh'), 'utf8')).toContain('--dependency=afterany:"$JOBID"');
  });
});
