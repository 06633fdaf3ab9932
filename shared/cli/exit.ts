/**
 * One way for every program to end on an error: the message an operator can act on, and an exit
 * code that says what kind of failure it was (each program maps its own error classes).
 */
import { CairnError } from '../core/errors.ts';
import type { Logger } from '../log.ts';

/** Exit codes shared by all programs; a program may add its own (cairnd: 3 storage, 5 running). */
export const EXIT_COMMON = { ok: 0, failure: 1, config: 2, identity: 4, usage: 64 } as const;

// biome-ignore lint/suspicious/noExplicitAny: error classes have any constructor signature
export type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Prints `e` (through the logger when there is one) and exits with the code of the first class
 * in `codes` it is an instance of; other CairnErrors and unexpected errors exit 1.
 */
export function exitWithError(
  program: string,
  e: unknown,
  codes: readonly (readonly [ErrorClass, number])[],
  log?: Logger,
): never {
  const say = (m: string) => (log ? log.fatal(m) : console.error(`${program}: ${m}`));
  for (const [cls, code] of codes) {
    if (e instanceof cls) {
      say(e.message);
      process.exit(code);
    }
  }
  if (e instanceof CairnError) say(`${e.code}: ${e.message}`);
  else say(`unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(EXIT_COMMON.failure);
}
