// Preloaded into every test process by run-tests.mjs. When the runner stops a test file that overran
// its time (SIGTERM), the file's after() hooks never run, so the nodes, recorders and CLIs it spawned
// would outlive it, hold their ports and load the machine for the files after it. On SIGTERM or
// SIGINT this kills every process descended from this one, then exits.
import { readdirSync, readFileSync } from 'node:fs';

/** Parent pid of each live process, read from /proc (Linux); empty elsewhere. */
function parents() {
  const byPid = new Map();
  let names = [];
  try {
    names = readdirSync('/proc');
  } catch {
    return byPid;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // the command name (in parentheses) may hold spaces and parentheses: read after the last one
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      byPid.set(Number(name), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  return byPid;
}

/** Every process below `root`, children before grandchildren. */
function descendants(root) {
  const byPid = parents();
  const found = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const next = [];
    for (const [pid, ppid] of byPid) if (frontier.includes(ppid) && !found.includes(pid)) next.push(pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}

function reap(signal) {
  const pids = descendants(process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (pids.length > 0)
    process.stderr.write(`[test] ${signal}: killed ${pids.length} process(es) this test file left\n`);
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

process.once('SIGTERM', () => reap('SIGTERM'));
process.once('SIGINT', () => reap('SIGINT'));
