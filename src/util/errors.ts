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

/**
 * A command that ran correctly but could not finish all it was asked, for a reason outside it
 * (another process still holds some of the work, a stale claim needs --resume). The CLI prints its
 * message, which says what to do, as one line and exits with status 1 (as `results collect` does
 * for the same state).
 */
export class IncompleteError extends Error {
  override readonly name = 'IncompleteError';
  constructor(message: string) {
    super(message);
  }
}

export function isIncompleteError(e: unknown): e is IncompleteError {
  return e instanceof Error && e.name === 'IncompleteError';
}

/** Narrow an unknown thrown value to a message. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
