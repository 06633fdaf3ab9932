/**
 * Every consensus reject code, with the rule it stands for. The codes are stable (peers, RPC
 * callers and logs depend on them); docs/protocol.md lists the same table and a test triggers each.
 */
export const REJECT_CODES = {
  // transaction, stateless
  'bad-txns-version': 'transaction version is not 1',
  'bad-txns-oversize': 'transaction larger than 1,000,000 bytes',
  'bad-txns-vin-empty': 'a transfer, asset registration or issue has no input',
  'bad-txns-vout-empty': 'a transfer has no output',
  'bad-txns-inputs-duplicate': 'the same output is spent twice by one transaction',
  'bad-txns-pubkey': 'an input public key is not 33 bytes starting 02 or 03',
  'bad-txns-vout-toolarge': 'an output amount exceeds the money supply limit',
  'bad-txns-txouttotal-toolarge': 'the outputs of a transaction add up to more than the money supply limit',
  'bad-txns-mint-outside-issue': 'an output mints a bitmark outside an issue transaction',
  'bad-txns-bitmark-duplicate': 'two outputs of one transaction carry the same bitmark',
  'bad-txns-sig-highs': 'a signature has s > n/2 (only low-S signatures are valid)',
  'bad-txns-sig': 'a signature does not verify against the input public key and signature hash',
  'bad-cb-length': 'coinbase data longer than 64 bytes',
  'bad-cb-vout-empty': 'a coinbase has no output',
  'bad-cb-bitmark': 'a coinbase output carries or mints a bitmark, or holds shares',
  'bad-asset-name':
    'asset name is empty, over 64 bytes, has a control or invisible format character, or begins or ends with white space',
  'bad-asset-fingerprint': 'asset fingerprint is empty or over 1024 bytes',
  'bad-asset-metadata': 'asset metadata over 2048 bytes',
  'bad-issue-empty': 'an issue mints no bitmark',
  'bad-txns-share-quantity': 'an output holds 0 shares or more than 10^15',
  'bad-txns-share-total-toolarge': 'the outputs of a transaction hold more than 10^15 shares of one kind',
  'bad-split-total': 'a split total is 0 or more than 10^15',
  'bad-split-carry': 'a split also carries the bitmark it converts into shares',
  'bad-split-unbalanced': 'the share outputs of a split do not add up to its total',
  // transaction, contextual
  'bad-txns-inputs-missingorspent': 'an input spends an output that does not exist or is spent',
  'bad-txns-wrong-owner': 'an input public key does not hash to the owner of the output it spends',
  'bad-txns-premature-spend-of-coinbase': 'a coinbase output is spent before it matured',
  'bad-txns-inputvalues-outofrange': 'the inputs add up to more than the money supply limit',
  'bad-txns-in-belowout': 'outputs are worth more coins than inputs',
  'bad-txns-bitmark-created': 'an output carries a bitmark no input holds',
  'bad-txns-bitmark-destroyed': 'a bitmark held by an input is not carried to any output',
  'bad-split-not-held': 'no input of a split holds the bitmark it converts',
  'bad-txns-share-inputs-outofrange': 'the inputs hold more than 10^15 shares of one kind',
  'bad-txns-share-created': 'outputs hold more shares of a kind than the inputs (and a split) provide',
  'bad-txns-share-destroyed': 'outputs hold fewer shares of a kind than the inputs (shares cannot be burnt)',
  'bad-asset-duplicate-fingerprint': 'an asset with this fingerprint is already registered',
  'bad-issue-unknown-asset': 'issue of an asset that is not registered',
  'bad-issue-not-registrant': 'issue whose input 0 is not owned by the asset registrant',
  // block
  'bad-version': 'block version is not 1',
  'bad-diffbits': 'bits is not a valid target, or not the target ASERT requires',
  'high-hash': 'block hash does not meet the target',
  'bad-blk-length': 'block has no transactions or is larger than the network limit',
  'bad-cb-missing': 'first transaction is not a coinbase',
  'bad-cb-multiple': 'a transaction other than the first is a coinbase',
  'bad-cb-height': 'coinbase height is not the block height',
  'bad-cb-amount': 'coinbase pays more than subsidy plus fees',
  'bad-txns-duplicate': 'two transactions of a block have the same id',
  'bad-txnmrklroot': 'merkle root does not commit to the transactions',
  'bad-txns-accumulated-fee-outofrange': 'the fees of a block add up to more than the money supply limit',
  'time-too-old': 'block time is not after the median time of the previous 11 blocks',
  'time-too-new': 'block time is more than 2 hours ahead of the validating node clock',
} as const;

export type RejectCode = keyof typeof REJECT_CODES;
