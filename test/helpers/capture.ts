import { vi } from 'vitest';

/** Run `fn` with stdout captured (returned) and stderr silenced. */
export async function captureStdout(fn: () => Promise<unknown>): Promise<string> {
  let out = '';
  const outSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await fn();
  } finally {
    outSpy.mockRestore();
    errSpy.mockRestore();
  }
  return out;
}

/** Run the CLI in-process; return what it wrote to stderr and the exit code it set (restored after). */
export async function runCli(args: string[]): Promise<{ stderr: string; code: number | undefined }> {
  const { main } = await import('../../src/cli/main.ts');
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(args);
    return { stderr, code: process.exitCode as number | undefined };
  } finally {
    spy.mockRestore();
    process.exitCode = before;
  }
}
