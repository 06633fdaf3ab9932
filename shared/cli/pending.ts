/**
 * Entry point of a program whose service is not built yet: answers `version` and `--help`, and
 * refuses anything else with exit code 64 (EX_USAGE) and a pointer to the issue that builds it.
 */
import { VERSION } from '../version.ts';

export function runPending(
  program: string,
  what: string,
  issue: number,
  argv = process.argv.slice(2),
): never {
  const [cmd] = argv;
  if (cmd === 'version' || cmd === '--version') {
    console.log(`${program} ${VERSION}`);
    process.exit(0);
  }
  const text = `${program} ${VERSION}: ${what} is not built yet (issue #${issue}). Commands available now: version.`;
  if (cmd === undefined || cmd === '--help' || cmd === 'help') {
    console.log(text);
    process.exit(0);
  }
  console.error(`${text}\nunknown command: ${cmd}`);
  process.exit(64);
}
