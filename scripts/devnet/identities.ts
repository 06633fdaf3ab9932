/**
 * The devnet's identities, made on the first run and kept in `keys/devnet/` (git-ignored): a
 * CURVE key pair for discovery, each node (peer + proof) and each recorder, and a wallet whose
 * first address the recorders are paid to, so `cairn` can spend the mined coins at once.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keychain, RECEIVE } from '../../services/cli/wallet/keychain.ts';
import { newMnemonic, seedOf } from '../../services/cli/wallet/mnemonic.ts';
import { createWalletFile, openWalletFile } from '../../services/cli/wallet/wallet-file.ts';
import { NETWORKS } from '../../shared/core/params/networks.ts';
import type { NetworkName } from '../../shared/core/params/types.ts';
import { generateIdentity, identityPaths, loadPublicKey } from '../../shared/identity/certificate.ts';
import type { DevnetKeys, DevnetPlan } from './plan.ts';

export interface DevnetWallet {
  readonly path: string;
  readonly passphraseFile: string;
  /** Receive address 0: where the recorders are paid. */
  readonly payout: string;
}

/** Loads an identity's public key, generating the pair first when it does not exist. */
export function ensureIdentity(dir: string, name: string, role: string): { key: string; created: boolean } {
  const { publicPath } = identityPaths(dir, name);
  if (existsSync(publicPath)) return { key: loadPublicKey(publicPath), created: false };
  return { key: generateIdentity(dir, name, { metadata: { role } }).publicKey, created: true };
}

export function ensureWallet(
  keysDir: string,
  network: NetworkName = 'local',
): DevnetWallet & { created: boolean } {
  const path = join(keysDir, 'wallet.json');
  const passphraseFile = join(keysDir, 'wallet.pass');
  let created = false;
  if (!existsSync(path)) {
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    // a devnet wallet: the passphrase sits beside it (mode 0600); never do this with real coins
    if (!existsSync(passphraseFile))
      writeFileSync(passphraseFile, `${randomBytes(18).toString('base64url')}\n`, {
        mode: 0o600,
        flag: 'wx',
      });
    const passphrase = readFileSync(passphraseFile, 'utf8').split('\n')[0]!;
    createWalletFile(
      path,
      network,
      {
        mnemonic: newMnemonic(),
        bip39Passphrase: '',
        createdAt: Math.floor(Date.now() / 1000),
        next: { receive: 1, change: 0 },
      },
      passphrase,
    );
    created = true;
  }
  const passphrase = readFileSync(passphraseFile, 'utf8').split('\n')[0]!;
  const w = openWalletFile(path, passphrase);
  const payout = new Keychain(seedOf(w.secrets.mnemonic, w.secrets.bip39Passphrase), NETWORKS[network]).key(
    RECEIVE,
    0,
  ).address;
  return { path, passphraseFile, payout, created };
}

/** Every key the configs name; `created` lists what this run generated. */
export function ensureIdentities(plan: DevnetPlan): {
  keys: DevnetKeys;
  wallet: DevnetWallet;
  created: string[];
} {
  const created: string[] = [];
  const note = (what: string, r: { key: string; created: boolean }) => {
    if (r.created) created.push(what);
    return r.key;
  };
  const discovery = note('discovery', ensureIdentity(plan.discovery.identityDir, 'discovery', 'discovery'));
  const nodes = plan.nodes.map((n) => ({
    peer: note(`${n.name} peer`, ensureIdentity(n.identityDir, 'peer', 'peer')),
    proof: note(`${n.name} proof`, ensureIdentity(n.identityDir, 'proof', 'proof')),
  }));
  const recorders = plan.recorders.map((r) =>
    note(r.name, ensureIdentity(r.identityDir, 'recorder', 'recorder')),
  );
  const wallet = ensureWallet(plan.options.keysDir);
  if (wallet.created) created.push('wallet');
  return { keys: { discovery, nodes, recorders, payout: wallet.payout }, wallet, created };
}
