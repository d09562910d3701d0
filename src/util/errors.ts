/**
 * An error caused by the user's input (a flag, a file, a folder). The CLI prints its message as
 * one line, without a stack trace, and exits with status 2. Messages should say what to do.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string) {
    super(message);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof Error && e.name === 'UserError';
}

/** Narrow an unknown thrown value to a message. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
