/**
 * The web explorer: one static page, its script and its style, served by rest.ts under
 * /explorer/. No build step and nothing from another origin: the script calls only the node's
 * own /rest/ API (same origin, enforced by the Content-Security-Policy the server sends), and
 * builds every element with textContent, so names and metadata from the chain are never HTML.
 * Kept as strings here so `npm run build` (tsc) ships them with the code.
 */

export const EXPLORER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cairn explorer</title>
<link rel="stylesheet" href="/explorer/explorer.css">
</head>
<body>
<header>
  <a class="brand" href="#/">Cairn explorer</a>
  <form id="search" autocomplete="off">
    <input id="q" name="q" placeholder="block hash or height, txid, address, asset id, bitmark id" spellcheck="false">
    <button type="submit">Search</button>
  </form>
</header>
<main id="main"><p>Loading…</p></main>
<footer>Read-only view of this node's chain through its <a href="/rest/chaininfo">REST API</a>.</footer>
<script src="/explorer/explorer.js"></script>
</body>
</html>
`;

export const EXPLORER_CSS = `body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2327; background: #f6f7f7; }
header { display: flex; flex-wrap: wrap; gap: 1em; align-items: center; padding: .8em 1.2em; background: #23282d; }
header .brand { color: #fff; font-weight: 600; text-decoration: none; font-size: 1.1em; }
#search { display: flex; flex: 1; gap: .4em; min-width: 260px; }
#q { flex: 1; padding: .4em .6em; font: inherit; border: 0; border-radius: 3px; }
button { font: inherit; padding: .4em .9em; border: 0; border-radius: 3px; background: #2271b1; color: #fff; cursor: pointer; }
main { padding: 1em 1.2em; max-width: 1100px; }
footer { padding: 1em 1.2em; color: #646970; font-size: .9em; }
h2 { font-size: 1.2em; margin: 1.2em 0 .5em; }
table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: 1em; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #dcdcde; vertical-align: top; }
th { background: #f0f0f1; font-weight: 600; }
table.kv th { width: 12em; }
.mono, td.mono { font-family: ui-monospace, monospace; word-break: break-all; }
.error { color: #b32d2e; font-weight: 600; }
a { color: #2271b1; }
`;

export const EXPLORER_JS = String.raw`'use strict';
(() => {
  const main = document.getElementById('main');
  const input = document.getElementById('q');
  const HASH = /^[0-9a-fA-F]{64}$/;

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path) {
    const r = await fetch('/rest/' + path, { headers: { accept: 'application/json' } });
    let body;
    try { body = await r.json(); } catch { throw new ApiError(r.status, 'HTTP ' + r.status); }
    if (!r.ok) throw new ApiError(r.status, body && body.error ? body.error : 'HTTP ' + r.status);
    return body;
  }

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'class') e.className = v; else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === undefined || c === null) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const link = (kind, id, text) => el('a', { href: '#/' + kind + '/' + encodeURIComponent(String(id)), class: 'mono' }, text === undefined ? String(id) : text);
  const time = (t) => new Date(t * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC');
  const coins = (v) => (Number(v) / 1e8).toFixed(8);

  function kv(rows) {
    return el('table', { class: 'kv' }, ...rows.filter((r) => r[1] !== undefined).map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', { class: 'mono' }, v))));
  }
  /** Fingerprint and metadata: the text where the JSON has it, else the hex. */
  function bytesRows(a) {
    return ['fingerprint', 'metadata'].map((k) => a[k] === null ? [k + ' (hex)', a[k + '_hex']] : [k, a[k]]);
  }
  function table(head, rows) {
    return el('table', {}, el('tr', {}, ...head.map((h) => el('th', {}, h))), ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c)))));
  }
  function show(...nodes) { main.replaceChildren(...nodes); }

  async function home() {
    const [info, pool] = await Promise.all([api('chaininfo'), api('mempool/info')]);
    const from = Math.max(0, info.blocks - 9);
    const start = await api('block-height/notxdetails/' + from);
    const headers = (await api('headers/10/' + start.hash)).reverse();
    show(
      el('h2', {}, 'Chain ' + info.chain),
      kv([['height', link('height', info.blocks, String(info.blocks))], ['best block', link('block', info.bestblockhash)], ['difficulty', info.difficulty], ['time', time(info.time)], ['mempool', pool.count + ' transactions, ' + pool.bytes + ' bytes']]),
      el('h2', {}, 'Latest blocks'),
      table(['height', 'hash', 'time'], headers.map((h) => [String(h.height), link('block', h.hash), time(h.time)])),
    );
  }

  function blockView(b) {
    return [
      el('h2', {}, 'Block ' + b.height),
      kv([['hash', b.hash], ['confirmations', b.confirmations], ['time', time(b.time)], ['previous', b.previousblockhash ? link('block', b.previousblockhash) : undefined], ['next', b.nextblockhash ? link('block', b.nextblockhash) : undefined], ['merkle root', b.merkleroot], ['bits', b.bits], ['nonce', b.nonce], ['size', b.size + ' bytes'], ['transactions', b.nTx]]),
      el('h2', {}, 'Transactions'),
      table(['txid', 'kind', 'outputs', 'value'], b.tx.map((t) => [link('tx', t.txid), t.kind, String(t.vout.length), coins(t.vout.reduce((s, o) => s + Number(o.value), 0))])),
    ];
  }

  async function block(hash) { show(...blockView(await api('block/' + hash))); }
  async function height(n) { show(...blockView(await api('block-height/' + n))); }

  async function tx(txid) {
    const t = await api('tx/' + txid);
    const out = [
      el('h2', {}, 'Transaction'),
      kv([['txid', t.txid], ['kind', t.kind], ['size', t.size + ' bytes'], ['block', t.blockhash ? link('block', t.blockhash) : 'in the mempool'], ['confirmations', t.confirmations], ['asset', t.assetId ? link('asset', t.assetId) : undefined]]),
    ];
    if (t.asset) out.push(el('h2', {}, 'Asset registered'), kv([['name', t.asset.name], ...bytesRows(t.asset)]));
    if (t.vin) out.push(el('h2', {}, 'Inputs'), table(['spends', 'output'], t.vin.map((i) => [link('tx', i.txid), String(i.vout)])));
    out.push(el('h2', {}, 'Outputs'), table(['n', 'address', 'value', 'bitmark'], t.vout.map((o) => [String(o.n), link('address', o.address), coins(o.value), o.bitmark ? link('bitmark', o.bitmark) : ''])));
    show(...out);
  }

  async function address(a) {
    const x = await api('address/' + encodeURIComponent(a));
    show(
      el('h2', {}, 'Address'),
      kv([['address', x.address], ['balance', coins(x.balance)], ['unspent outputs', x.unspent], ['transactions', x.txcount]]),
      el('h2', {}, 'Unspent outputs'),
      table(['txid', 'output', 'value', 'confirmations', 'bitmark'], x.utxos.map((u) => [link('tx', u.txid), String(u.vout), coins(u.amount), String(u.confirmations), u.bitmark ? link('bitmark', u.bitmark) : ''])),
    );
  }

  async function asset(id) {
    const a = await api('asset/' + id);
    show(el('h2', {}, 'Asset'), kv([['id', a.id], ['name', a.name], ...bytesRows(a), ['registrant', link('address', a.registrant)], ['registered in', link('tx', a.txid)], ['height', link('height', a.height, String(a.height))]]));
  }

  async function bitmark(id) {
    const b = await api('bitmark/' + id);
    show(
      el('h2', {}, 'Bitmark'),
      kv([['id', b.id], ['asset', link('asset', b.asset)], ['owner', b.owner ? link('address', b.owner) : undefined], ['held by', link('tx', b.txid, b.txid + ':' + b.vout)]]),
      el('h2', {}, 'Provenance'),
      table(['height', 'transaction', 'owner'], b.provenance.map((h) => [link('height', h.height, String(h.height)), link('tx', h.txid, h.txid + ':' + h.vout), link('address', h.owner)])),
    );
  }

  /** A 64-hex id may be a block, a transaction, an asset or a bitmark: the first that exists. */
  async function search(q) {
    q = q.trim();
    if (q === '') return;
    if (/^\d+$/.test(q)) { location.hash = '#/height/' + q; return; }
    if (!HASH.test(q)) { location.hash = '#/address/' + encodeURIComponent(q); return; }
    for (const kind of ['block', 'tx', 'asset', 'bitmark']) {
      try { await api(kind + '/' + q); location.hash = '#/' + kind + '/' + q; return; }
      catch (e) { if (!(e instanceof ApiError) || e.status !== 404) throw e; }
    }
    show(el('p', { class: 'error' }, 'Nothing with id ' + q + ' on this node.'));
  }

  const views = { block, height, tx, address, asset, bitmark };
  async function render() {
    const parts = location.hash.replace(/^#\/?/, '').split('/');
    const view = views[parts[0]];
    try {
      if (view && parts[1]) await view(decodeURIComponent(parts[1]));
      else await home();
    } catch (e) {
      show(el('p', { class: 'error' }, e instanceof ApiError && e.status === 404 ? 'Not found: ' + e.message : String(e.message || e)));
    }
  }

  document.getElementById('search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search(input.value).catch((e) => show(el('p', { class: 'error' }, String(e.message || e))));
  });
  window.addEventListener('hashchange', render);
  render();
})();
`;
