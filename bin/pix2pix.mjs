#!/usr/bin/env node
// The installed package runs the compiled CLI in dist/. A source checkout (src/ present, no build
// needed) runs the TypeScript directly through tsx, so an edit never meets a stale build.
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';

const fromSource = existsSync(new URL('../src/cli/main.ts', import.meta.url));
if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
}

// Training commands run with glibc malloc settings that must be in place when the process starts
// (src/util/malloc-tunables.ts says why), so they re-execute once with them. `eval run` trains only in
// worker processes, which its scheduler starts with the settings, so it needs no second process.
const TRAINING_COMMANDS = new Set(['train', 'segmenter']);
const { hasMallocTunables, trainingEnv } = fromSource ? await import('../src/util/malloc-tunables.ts') : await import('../dist/util/malloc-tunables.js');
if (process.platform === 'linux' && TRAINING_COMMANDS.has(process.argv[2]) && !hasMallocTunables(process.env.GLIBC_TUNABLES)) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    // The IPC channel tells the child when this process is gone, even after a SIGKILL.
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...trainingEnv(), PIX2PIX_CLI_CHILD: '1' },
  });
  // A terminal's Ctrl-C reaches the child directly (same process group), so this process only waits;
  // a SIGTERM or SIGHUP sent to this process alone (a job scheduler's) is passed on.
  process.on('SIGINT', () => {});
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
  if (process.env.PIX2PIX_CLI_CHILD === '1' && process.channel) {
    delete process.env.PIX2PIX_CLI_CHILD;
    // The parent was killed outright (SIGKILL, OOM): share its fate at once instead of training on
    // as an orphan beside whatever the user starts next in the same folder.
    process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
    process.channel.unref();
  }
  const { main } = fromSource ? await import('../src/cli/main.ts') : await import('../dist/cli/main.js');
  await main(process.argv.slice(2));
}
