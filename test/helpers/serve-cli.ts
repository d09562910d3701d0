/** `pix2pix serve` as a user starts it: a child process whose printed URL is awaited. */
import { type ChildProcess, spawn } from 'node:child_process';

export interface ServeProcess {
  url: string;
  proc: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawn `command args` in `cwd` and resolve with the URL it prints on stdout (or reject with its stderr). */
export function startServeProcess(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs = 120_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServeProcess> {
  // Its own process group: `npx` does not pass SIGTERM on to the server it starts, so stop() signals the group.
  const proc = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      process.kill(-proc.pid!, 'SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${args.join(' ')} printed no URL in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    let out = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], proc, stderr: () => stderr, stop });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code}): ${stderr}`));
    });
  });
}
