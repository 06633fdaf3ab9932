/**
 * `npm start`: will bring up a local network (discovery, three nodes, a recorder) with generated
 * identities once those services exist (issue #7). Until then it says so and what works today.
 */
import { VERSION } from '../shared/version.ts';

console.log(`Cairn ${VERSION}: the one-command devnet is not built yet (issue #7).
What works today: the consensus core and its tools.
  npm test          run every test
  npm run bench     signature, transaction and block validation benchmarks
  npm run genesis   re-mine the genesis blocks (output is checked in)`);
