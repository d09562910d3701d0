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
