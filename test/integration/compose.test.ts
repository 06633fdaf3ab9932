/**
 * docker-compose.yml is valid (Debian's `docker-compose config` accepts it, with the env files
 * `npm run cluster:keys` makes), runs the programs with the configs in deploy/, and gives each
 * container only its own identity. No container runs here (there is no Docker engine); the
 * network-namespace test runs the same commands and configs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeClusterKeys } from '../../scripts/cluster-keys.ts';
import { tempDir } from '../helpers/node.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const root = tempDir('cairn-compose-');
after(() => root.remove());

describe('docker-compose.yml', () => {
  it('names a deploy config and its own env file and identity for every service', () => {
    const text = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
    for (const s of ['discovery', 'node-1', 'node-2', 'node-3', 'recorder-1']) {
      assert.match(text, new RegExp(`\\n  ${s}:\\n`), `service ${s}`);
      assert.match(text, new RegExp(`env_file: keys/cluster/env/${s}\\.env`));
      assert.match(text, new RegExp(`\\./keys/cluster/${s}:/etc/cairn/keys:ro`));
    }
    for (const m of text.matchAll(/"--config", "\/opt\/cairn\/(deploy\/[^"]+)"/g))
      assert.ok(existsSync(join(REPO, m[1]!)), `${m[1]} exists`);
    assert.ok(!/\.\/keys\/cluster:/.test(text), 'no container mounts every identity');
  });

  it('is accepted by docker-compose config', {
    skip: hasCompose ? false : 'docker-compose is not installed (apt-get install docker-compose)',
  }, () => {
    copyFileSync(join(REPO, 'docker-compose.yml'), join(root.path, 'docker-compose.yml'));
    makeClusterKeys(join(root.path, 'keys', 'cluster'), 3, 1, 'local');
    const r = spawnSync(
      'docker-compose',
      ['--project-directory', root.path, '-f', join(root.path, 'docker-compose.yml'), 'config'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    // the env files reach the services with the keys intact (Z85 has $, # and @)
    const nodeEnv = readFileSync(join(root.path, 'keys', 'cluster', 'env', 'node-2.env'), 'utf8');
    const servers = /CAIRN_DISCOVERY_SERVERS=(.*)/.exec(nodeEnv)![1]!;
    // (`config` prints a literal $ as $$ so its output is itself a valid compose file)
    assert.ok(r.stdout.includes(servers.replaceAll('$', '$$$$')), `compose output lacks ${servers}`);
  });
});
