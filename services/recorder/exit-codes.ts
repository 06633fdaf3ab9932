/** cairn-recorder's exit codes (the same numbers as cairnd's): scripts can tell why it stopped. */
export { EXIT_COMMON as EXIT } from '../../shared/cli/exit.ts';
