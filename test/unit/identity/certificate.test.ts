import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { x25519 } from '@noble/curves/ed25519.js';
import { curveKeyPair, Reply, Request } from 'zeromq';
import {
  derivePublicKey,
  formatCertificate,
  generateIdentity,
  IdentityError,
  loadIdentity,
  loadPublicKey,
  loadPublicKeysFromDir,
} from '../../../shared/identity/certificate.ts';
import { isZ85Key, z85Encode } from '../../../shared/identity/z85.ts';

const root = mkdtempSync(join(tmpdir(), 'cairn-identity-'));
after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const freshDir = () => join(root, `d${seq++}`);

const mode = (p: string) => statSync(p).mode & 0o777;

function throwsIdentity(fn: () => unknown, code: string, ...fragments: (string | RegExp)[]): IdentityError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof IdentityError, `expected IdentityError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(caught.message.includes(f), `"${caught.message}" lacks "${f}"`);
    else assert.match(caught.message, f);
  }
  return caught;
}

/** A key pair whose Z85 texts contain characters ZPL treats specially outside quotes. */
function awkwardPair(): { publicKey: string; secretKey: string } {
  for (;;) {
    const s = x25519.utils.randomSecretKey();
    const secretKey = z85Encode(s);
    const publicKey = z85Encode(x25519.getPublicKey(s));
    if (/[#=]/.test(secretKey) && /[#=]/.test(publicKey)) return { publicKey, secretKey };
  }
}

describe('generateIdentity / loadIdentity', () => {
  it('round-trips a key pair through both files', () => {
    const dir = freshDir();
    const g = generateIdentity(dir, 'peer');
    assert.equal(g.publicPath, join(dir, 'peer.key'));
    assert.equal(g.secretPath, join(dir, 'peer.key_secret'));
    assert.ok(isZ85Key(g.publicKey));
    const id = loadIdentity(g.secretPath);
    assert.equal(id.publicKey, g.publicKey);
    assert.ok(isZ85Key(id.secretKey));
    assert.equal(derivePublicKey(id.secretKey), g.publicKey);
    assert.equal(loadPublicKey(g.publicPath), g.publicKey);
    assert.equal(loadPublicKey(g.secretPath), g.publicKey);
    assert.ok(!readFileSync(g.publicPath, 'utf8').includes(id.secretKey));
  });

  it('writes the CZMQ certificate layout byte for byte', () => {
    const dir = freshDir();
    const now = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
    const g = generateIdentity(dir, 'node-1', { metadata: { role: 'peer', host: 'a.example' }, now });
    const { secretKey } = loadIdentity(g.secretPath);
    const head = '#   ****  Generated on 2025-01-02 03:04:05 UTC by Cairn  ****\n';
    const meta = 'metadata\n    role = "peer"\n    host = "a.example"\n';
    assert.equal(
      readFileSync(g.publicPath, 'utf8'),
      `${head}#   ZeroMQ CURVE Public Certificate\n` +
        '#   Exchange securely, or use a secure mechanism to verify the contents\n' +
        '#   of this file after exchange. Store public certificates in your home\n' +
        '#   directory, in the .curve subdirectory.\n' +
        `\n${meta}curve\n    public-key = "${g.publicKey}"\n`,
    );
    assert.equal(
      readFileSync(g.secretPath, 'utf8'),
      `${head}#   ZeroMQ CURVE **Secret** Certificate\n` +
        '#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n' +
        `\n${meta}curve\n    public-key = "${g.publicKey}"\n    secret-key = "${secretKey}"\n`,
    );
    const bare = generateIdentity(freshDir(), 'x', { now });
    assert.match(
      readFileSync(bare.publicPath, 'utf8'),
      /\n\nmetadata\ncurve\n {4}public-key = "[^"]{40}"\n$/,
    );
  });

  it('creates the directory 0700 and the secret file 0600, whatever the umask', () => {
    const old = process.umask(0);
    try {
      const dir = join(freshDir(), 'nested', 'keys');
      const g = generateIdentity(dir, 'peer');
      assert.equal(mode(dir), 0o700);
      assert.equal(mode(g.secretPath), 0o600);
      assert.equal(mode(g.publicPath), 0o644);
    } finally {
      process.umask(old);
    }
    const old2 = process.umask(0o277);
    try {
      const g = generateIdentity(freshDir(), 'peer');
      assert.equal(mode(g.secretPath), 0o600);
      assert.deepEqual(loadIdentity(g.secretPath).publicKey, g.publicKey);
    } finally {
      process.umask(old2);
    }
  });

  it('leaves an existing directory mode alone and no temp files behind', () => {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    generateIdentity(dir, 'peer');
    assert.equal(mode(dir), 0o755);
    assert.deepEqual(readdirSync(dir).sort(), ['peer.key', 'peer.key_secret']);
  });

  it('refuses to overwrite an identity without force, replaces it with force', () => {
    const dir = freshDir();
    const first = generateIdentity(dir, 'peer');
    const before = readFileSync(first.secretPath, 'utf8');
    throwsIdentity(
      () => generateIdentity(dir, 'peer'),
      'identity-exists',
      first.publicPath,
      '--force',
      'another directory',
    );
    assert.equal(readFileSync(first.secretPath, 'utf8'), before);

    // only the secret file left: still refused, naming it
    rmSync(first.publicPath);
    throwsIdentity(() => generateIdentity(dir, 'peer'), 'identity-exists', first.secretPath);
    assert.ok(!existsSync(first.publicPath));

    const second = generateIdentity(dir, 'peer', { force: true });
    assert.notEqual(second.publicKey, first.publicKey);
    assert.equal(loadIdentity(second.secretPath).publicKey, second.publicKey);
    assert.equal(loadPublicKey(second.publicPath), second.publicKey);
    assert.equal(mode(second.secretPath), 0o600);
  });

  it('force replaces a world-readable secret file by a 0600 one', () => {
    const dir = freshDir();
    const g = generateIdentity(dir, 'peer');
    chmodSync(g.secretPath, 0o644);
    generateIdentity(dir, 'peer', { force: true });
    assert.equal(mode(g.secretPath), 0o600);
  });

  it('refuses bad names and metadata', () => {
    const dir = freshDir();
    for (const name of ['', '../x', 'a/b', '.hidden', '-x'])
      throwsIdentity(() => generateIdentity(dir, name), 'identity-invalid-argument');
    throwsIdentity(
      () => generateIdentity(dir, 'p', { metadata: { 'bad key': 'v' } }),
      'identity-invalid-argument',
    );
    throwsIdentity(
      () => generateIdentity(dir, 'p', { metadata: { k: 'say "hi"' } }),
      'identity-invalid-argument',
    );
    throwsIdentity(
      () => generateIdentity(dir, 'p', { metadata: { k: 'two\nlines' } }),
      'identity-invalid-argument',
    );
    throwsIdentity(
      () => generateIdentity(dir, 'p', { metadata: { 'public-key': 'x' } }),
      'identity-invalid-argument',
    );
    assert.ok(!existsSync(join(dir, 'p.key')));
  });
});

describe('loading refuses what it must', () => {
  it('refuses a secret file readable by group or other, telling the exact fix', () => {
    const g = generateIdentity(freshDir(), 'peer');
    for (const m of [0o644, 0o640, 0o604, 0o660, 0o610, 0o601]) {
      chmodSync(g.secretPath, m);
      const e = throwsIdentity(
        () => loadIdentity(g.secretPath),
        'identity-permissions',
        `chmod 600 ${g.secretPath}`,
      );
      assert.equal(e.path, g.secretPath);
    }
    chmodSync(g.secretPath, 0o400);
    assert.equal(loadIdentity(g.secretPath).publicKey, g.publicKey);
  });

  it('refuses a file whose keys are not a pair', () => {
    const dir = freshDir();
    const a = curveKeyPair();
    const b = curveKeyPair();
    const p = join(dir, 'bad.key_secret');
    mkdirSync(dir, { recursive: true });
    writeFileSync(p, formatCertificate({ publicKey: a.publicKey, secretKey: b.secretKey }), { mode: 0o600 });
    throwsIdentity(() => loadIdentity(p), 'identity-mismatch', p, 'does not belong');
    throwsIdentity(() => loadPublicKey(p), 'identity-mismatch');
  });

  it('refuses a public certificate given as the secret one', () => {
    const g = generateIdentity(freshDir(), 'peer');
    throwsIdentity(() => loadIdentity(g.publicPath), 'identity-no-secret', `${g.publicPath}_secret`);
  });

  it('names the file and line of a malformed certificate', () => {
    const dir = freshDir();
    mkdirSync(dir);
    const { publicKey, secretKey } = curveKeyPair();
    const cases: [string, string, number, string][] = [
      ['short key', `metadata\ncurve\n    public-key = "abc"\n`, 3, 'Z85'],
      ['bad indent', `curve\n   public-key = "${publicKey}"\n`, 2, 'steps of 4'],
      ['tab indent', `curve\n\tpublic-key = "${publicKey}"\n`, 2, 'tabs'],
      ['open quote', `# c\n\ncurve\n    public-key = "${publicKey}\n`, 4, 'missing closing'],
      ['junk after', `curve\n    public-key = "${publicKey}" extra\n`, 2, 'unexpected'],
      ['not a name', `curve\n    ~public-key = "${publicKey}"\n`, 2, 'expected a name'],
      ['too deep', `metadata\n        x = "1"\n`, 2, 'deeper'],
      ['outside curve', `public-key = "${publicKey}"\n`, 1, 'outside the curve section'],
      [
        'twice',
        `curve\n    public-key = "${publicKey}"\n    public-key = "${publicKey}"\n`,
        3,
        'second public-key (first on line 2)',
      ],
      [
        'bad secret',
        `curve\n    public-key = "${publicKey}"\n    secret-key = "${secretKey.slice(1)}"\n`,
        3,
        'secret-key',
      ],
    ];
    for (const [label, text, line, fragment] of cases) {
      const p = join(dir, `${label.replace(/ /g, '-')}.key_secret`);
      writeFileSync(p, text, { mode: 0o600 });
      const e = throwsIdentity(() => loadIdentity(p), 'identity-malformed', `${p}:${line}:`, fragment);
      assert.equal(e.line, line, label);
    }
    const empty = join(dir, 'empty.key');
    writeFileSync(empty, '#   just a comment\n\nmetadata\n');
    throwsIdentity(() => loadPublicKey(empty), 'identity-malformed', empty, 'no curve/public-key');
    throwsIdentity(() => loadPublicKey(join(dir, 'missing.key')), 'identity-not-found', 'missing.key');
  });

  it('reads keys containing # and = (quoted), other ZPL spellings, CRLF and comments', () => {
    const dir = freshDir();
    mkdirSync(dir);
    const k = awkwardPair();
    const p = join(dir, 'awkward.key_secret');
    writeFileSync(p, formatCertificate(k, { note: 'a # b = c' }), { mode: 0o600 });
    assert.deepEqual(loadIdentity(p), k);
    const q = join(dir, 'spelling.key_secret');
    writeFileSync(
      q,
      `#  comment\r\n\r\nmetadata\r\n    name = unquoted value   # trailing\r\ncurve   # the keys\r\n    # indented comment\r\n    public-key = '${k.publicKey}'\r\n    secret-key="${k.secretKey}"   # ok\r\n`,
      { mode: 0o600 },
    );
    assert.deepEqual(loadIdentity(q), k);
  });

  it('agrees with libzmq on how a public key follows from a secret key', () => {
    for (let i = 0; i < 20; i++) {
      const k = curveKeyPair();
      assert.equal(derivePublicKey(k.secretKey), k.publicKey);
    }
  });
});

describe('loadPublicKeysFromDir', () => {
  it('lists the key of every *.key file, sorted, once each', () => {
    const dir = freshDir();
    const b = generateIdentity(dir, 'b');
    const a = generateIdentity(dir, 'a');
    const other = generateIdentity(freshDir(), 'c');
    writeFileSync(join(dir, 'copy-of-a.key'), readFileSync(a.publicPath));
    writeFileSync(join(dir, '.hidden.key'), readFileSync(other.publicPath));
    writeFileSync(join(dir, 'notes.txt'), 'not a key');
    mkdirSync(join(dir, 'sub.key'));
    assert.deepEqual(loadPublicKeysFromDir(dir), [a.publicKey, b.publicKey]);
    throwsIdentity(() => loadPublicKeysFromDir(join(dir, 'nope')), 'identity-not-found');
    writeFileSync(join(dir, 'broken.key'), 'curve\n    public-key = "short"\n');
    throwsIdentity(() => loadPublicKeysFromDir(dir), 'identity-malformed', 'broken.key:2:');
  });
});

describe('the keys work in libzmq', () => {
  it('a CURVE handshake succeeds with loaded identities', async () => {
    const serverFiles = generateIdentity(freshDir(), 'server');
    const server = loadIdentity(serverFiles.secretPath);
    const client = loadIdentity(generateIdentity(freshDir(), 'client').secretPath);
    const rep = new Reply({ curveServer: true, curveSecretKey: server.secretKey, linger: 0 });
    const req = new Request({
      curveServerKey: loadPublicKey(serverFiles.publicPath),
      curvePublicKey: client.publicKey,
      curveSecretKey: client.secretKey,
      linger: 0,
      receiveTimeout: 5000,
      sendTimeout: 5000,
    });
    try {
      await rep.bind('tcp://127.0.0.1:*');
      req.connect(rep.lastEndpoint!);
      await req.send('ping');
      const [msg] = await rep.receive();
      assert.equal(msg!.toString(), 'ping');
      await rep.send('pong');
      const [answer] = await req.receive();
      assert.equal(answer!.toString(), 'pong');
    } finally {
      req.close();
      rep.close();
    }
  });
});

const PY = '/usr/bin/python3';
const pyzmq = spawnSync(PY, ['-c', 'import zmq.auth'], { encoding: 'utf8' });
const pySkip =
  pyzmq.error !== undefined || pyzmq.status !== 0
    ? `pyzmq not available (${PY} -c "import zmq.auth" failed: ${pyzmq.error?.message ?? pyzmq.stderr.trim().split('\n').pop()}); install python3-zmq`
    : false;

function py(code: string, ...args: string[]): string {
  const r = spawnSync(PY, ['-c', code, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  return r.stdout;
}

const LOAD =
  'import zmq.auth,sys; p,s=zmq.auth.load_certificate(sys.argv[1]); print(p.decode(), s.decode() if s else "")';

describe('interoperability with pyzmq (zmq.auth)', { skip: pySkip }, () => {
  it('pyzmq load_certificate reads our files', () => {
    const g = generateIdentity(freshDir(), 'peer', { metadata: { role: 'peer' } });
    const id = loadIdentity(g.secretPath);
    assert.equal(py(LOAD, g.publicPath), `${g.publicKey} \n`);
    assert.equal(py(LOAD, g.secretPath), `${id.publicKey} ${id.secretKey}\n`);
    // keys with '#' and '=' too
    const dir = freshDir();
    mkdirSync(dir);
    const k = awkwardPair();
    const p = join(dir, 'awkward.key_secret');
    writeFileSync(p, formatCertificate(k), { mode: 0o600 });
    assert.equal(py(LOAD, p), `${k.publicKey} ${k.secretKey}\n`);
    // and load_certificates (the allow-list loader) sees the same keys as ours
    const listed = py(
      'import zmq.auth,sys; print("\\n".join(sorted(k.decode() for k in zmq.auth.load_certificates(sys.argv[1]))))',
      dirname(g.publicPath),
    );
    assert.deepEqual(listed.trim().split('\n'), loadPublicKeysFromDir(dirname(g.publicPath)).sort());
  });

  it('our loader reads pyzmq create_certificates files', () => {
    const dir = freshDir();
    mkdirSync(dir);
    const out = py(
      'import zmq.auth,sys,os; os.umask(0o077); p,s=zmq.auth.create_certificates(sys.argv[1], "py"); print(p); print(s)',
      dir,
    );
    const [pub, sec] = out.trim().split('\n') as [string, string];
    const [pk, sk] = py(LOAD, sec).trim().split(' ') as [string, string];
    assert.equal(loadPublicKey(pub), pk);
    assert.deepEqual(loadIdentity(sec), { publicKey: pk, secretKey: sk });
    assert.deepEqual(loadPublicKeysFromDir(dir), [pk]);
  });
});
