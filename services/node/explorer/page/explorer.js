// The Cairn explorer: one page, hash routes, the node's own /rest/ API and /explorer/events (live).
// Every element is built with textContent (names and metadata from the chain are never HTML), no
// inline style or script (the page's CSP allows neither), charts with uPlot served by the node.

(() => {
  const main = document.getElementById('main');
  const input = document.getElementById('q');
  const banner = document.getElementById('banner');
  const liveEl = document.getElementById('live');
  const toastEl = document.getElementById('toast');
  const HEX64 = /^[0-9a-fA-F]{64}$/;

  // ---------- state ----------
  let net = { chain: '', coin: 100000000, decimals: 8, addressprefix: '', targetspacing: 60 };
  const live = { height: null, hash: null, time: null, mempool: null, sync: null, connected: false };
  /** What the current view wants from live events (set by each view, reset on navigation). */
  let onTip = null;
  let onMempool = null;
  let charts = [];
  let renderSeq = 0;

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path) {
    const r = await fetch(`/rest/${path}`, { headers: { accept: 'application/json' } });
    let body;
    try {
      body = await r.json();
    } catch {
      throw new ApiError(r.status, `HTTP ${r.status}`);
    }
    if (!r.ok) throw new ApiError(r.status, body?.error ? body.error : `HTTP ${r.status}`);
    return body;
  }
  /** What the node has under `text` (lookup: one request, no 404 for a guess). */
  async function found(text) {
    return (await api(`lookup/${encodeURIComponent(text)}`)).found;
  }
  /** The object at `path` when `text` names a `kind` on this node, else null (never a 404 request). */
  async function maybe(path, kind, text) {
    if (!(await found(text)).includes(kind)) return null;
    try {
      return await api(path);
    } catch (e) {
      // gone meanwhile (a reorg, a mempool eviction)
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }

  // ---------- elements ----------
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'on') for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const href = (kind, id) => `#/${kind}/${encodeURIComponent(String(id))}`;
  const short = (id) => (id.length > 24 ? `${id.slice(0, 10)}…${id.slice(-8)}` : id);

  /** An id: a link (to its page) or text, always whole in `title`, with a copy button. */
  function idView(kind, id, opts) {
    const o = opts || {};
    const text = o.full ? id : short(id);
    const label = o.text !== undefined ? o.text : text;
    const main = kind
      ? el('a', { href: href(kind, id), title: id, 'data-id': id }, label)
      : el('span', { class: 'text', title: id, 'data-id': id }, label);
    return el('span', { class: 'id' }, main, copyButton(id));
  }
  function copyButton(text) {
    const b = el(
      'button',
      { type: 'button', class: 'copy', title: 'Copy', 'aria-label': `Copy ${text}` },
      'copy',
    );
    b.addEventListener('click', async (ev) => {
      ev.preventDefault();
      const ok = await copyText(text);
      b.textContent = ok ? 'copied' : 'select';
      b.classList.toggle('done', ok);
      setTimeout(() => {
        b.textContent = 'copy';
        b.classList.remove('done');
      }, 1500);
    });
    return b;
  }
  async function copyText(text) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        return true;
      }
    } catch {
      /* fall through: the old way */
    }
    const t = el('textarea', { readonly: true, class: 'sr' });
    t.value = text;
    document.body.append(t);
    t.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    t.remove();
    return ok;
  }

  // ---------- formats ----------
  /** Base units → coins with the network's decimals, exact (integer arithmetic on strings). */
  function coins(units) {
    if (units === null || units === undefined) return '?';
    const neg = units < 0;
    const s = String(Math.abs(Math.round(units))).padStart(net.decimals + 1, '0');
    const whole = s.slice(0, s.length - net.decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    let frac = s.slice(s.length - net.decimals).replace(/0+$/, '');
    if (frac.length < 2 && net.decimals >= 2) frac = frac.padEnd(2, '0');
    return `${(neg ? '−' : '') + whole + (frac ? `.${frac}` : '')} coins`;
  }
  const num = (n) => Number(n).toLocaleString('en-US');
  const bytes = (n) =>
    n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1048576).toFixed(2)} MB`;
  const utc = (t) => new Date(t * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC');
  function ago(t) {
    const s = Math.max(0, Math.round(Date.now() / 1000 - t));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
    return `${Math.floor(s / 86400)} days ago`;
  }
  const when = (t) => el('span', { title: utc(t) }, ago(t));
  function hashrate(h) {
    const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s'];
    let i = 0;
    while (h >= 1000 && i < units.length - 1) {
      h /= 1000;
      i++;
    }
    return `${i === 0 ? Math.round(h) : h.toFixed(2)} ${units[i]}`;
  }
  const feeRate = (r) => `${r < 10 ? r.toFixed(2) : r.toFixed(1)} sat/B`;

  // ---------- layout ----------
  function kv(rows) {
    return el(
      'div',
      { class: 'scroll' },
      el(
        'table',
        { class: 'kv' },
        el(
          'tbody',
          {},
          rows
            .filter((r) => r && r[1] !== undefined && r[1] !== null)
            .map(([k, v]) => el('tr', {}, el('th', { scope: 'row' }, k), el('td', {}, v))),
        ),
      ),
    );
  }
  /** head: [label, 'num'?, 'hide-sm'?] */
  function table(head, rows, opts) {
    const o = opts || {};
    const cls = (h) => [h[1] ? 'num' : '', h[2] ? 'hide-sm' : ''].join(' ').trim() || undefined;
    return el(
      'div',
      { class: 'scroll' },
      el(
        'table',
        { id: o.id },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            head.map((h) => el('th', { class: cls(h), scope: 'col' }, h[0])),
          ),
        ),
        el(
          'tbody',
          {},
          rows.length === 0
            ? el('tr', {}, el('td', { colspan: String(head.length), class: 'muted' }, o.empty || 'None.'))
            : rows.map((r) =>
                el(
                  'tr',
                  { class: r.className },
                  r.map((c, i) => el('td', { class: cls(head[i]) }, c)),
                ),
              ),
        ),
      ),
    );
  }
  function card(label, value, sub, id) {
    return el(
      'div',
      { class: 'card', id },
      el('div', { class: 'label' }, label),
      el('div', { class: 'value' }, value),
      sub ? el('div', { class: 'sub' }, sub) : null,
    );
  }
  /** Newer / page n / Older buttons of a paged list; `go(k)` shows page k. */
  function pager(k, hasNext, go) {
    return el(
      'div',
      { class: 'pager' },
      el(
        'button',
        { type: 'button', class: 'ghost', disabled: k === 0, on: { click: () => go(k - 1) } },
        '← Newer',
      ),
      el('span', { class: 'muted' }, `page ${k + 1}`),
      el(
        'button',
        { type: 'button', class: 'ghost', disabled: !hasNext, on: { click: () => go(k + 1) } },
        'Older →',
      ),
    );
  }

  function title(kind, text) {
    return el('h1', {}, kind ? el('span', { class: 'kind' }, kind) : null, text);
  }
  function show(...nodes) {
    for (const c of charts) c.destroy();
    charts = [];
    main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
  }
  function notFound(what, q, hint) {
    return el(
      'div',
      { class: 'notfound' },
      el('h1', {}, 'Not found'),
      el('p', {}, `${what} `, el('code', {}, q), ' is not on this node’s chain or in its mempool.'),
      hint ? el('p', { class: 'muted' }, hint) : null,
      live.sync && live.sync.headers > live.sync.blocks
        ? el(
            'p',
            { class: 'muted' },
            'This node is still syncing (block ' +
              num(live.sync.blocks) +
              ' of ' +
              num(live.sync.headers) +
              '): it may be in a block not downloaded yet.',
          )
        : null,
      el('p', {}, el('a', { href: '#/' }, '← Latest blocks')),
    );
  }
  function toast(text) {
    toastEl.textContent = text;
    toastEl.hidden = false;
    clearTimeout(toast.t);
    toast.t = setTimeout(() => {
      toastEl.hidden = true;
    }, 3000);
  }

  // ---------- charts ----------
  const COLORS = ['#1d6fd8', '#f59e0b', '#15803d', '#b42318', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];
  function chartBox(name) {
    return el('div', { class: 'panel' }, el('h2', {}, name), el('div', { class: 'chart' }));
  }
  /** Draws `data` into the panel's chart box at its width (again on resize). */
  function plot(panel, opts, data) {
    const box = panel.querySelector('.chart');
    if (typeof uPlot !== 'function') {
      box.replaceChildren(el('p', { class: 'empty' }, 'Charts unavailable (uPlot not loaded).'));
      return;
    }
    if (!data[0] || data[0].length < 2) {
      box.replaceChildren(el('p', { class: 'empty' }, opts.empty || 'Not enough data yet.'));
      return;
    }
    box.replaceChildren();
    const width = Math.max(240, box.clientWidth || panel.clientWidth - 24 || 320);
    const u = new uPlot(
      { width, height: 200, legend: { live: false }, cursor: { drag: { x: false, y: false } }, ...opts },
      data,
      box,
    );
    charts.push(u);
  }
  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const u of charts) {
        const box = u.root.parentElement;
        if (box) u.setSize({ width: Math.max(240, box.clientWidth), height: 200 });
      }
    }, 150);
  });
  const axis = (label, fmt) => ({
    label,
    size: 56,
    values: fmt ? (_u, vals) => vals.map(fmt) : undefined,
    grid: { stroke: '#eef1f4' },
  });
  const xHeight = { label: 'height', grid: { stroke: '#eef1f4' } };
  // one line of local clock time (uPlot's default adds a second row of dates, which overlaps on a phone)
  const clock = (v) => new Date(v * 1000).toLocaleTimeString([], { hour12: false });
  const xTime = { space: 80, values: (_u, vals) => vals.map(clock), grid: { stroke: '#eef1f4' } };
  const compact = (v) =>
    v >= 1e9
      ? `${(v / 1e9).toFixed(1)}G`
      : v >= 1e6
        ? `${(v / 1e6).toFixed(1)}M`
        : v >= 1e3
          ? `${(v / 1e3).toFixed(1)}k`
          : String(+v.toFixed(2));

  function blockCharts(stats) {
    const hs = stats.map((s) => s.height);
    const interval = chartBox('Block intervals and difficulty');
    const txs = chartBox('Transactions per block');
    const render = () => {
      plot(
        interval,
        {
          scales: { x: { time: false }, s: {}, d: {} },
          series: [
            { label: 'height' },
            { label: 'interval (s)', stroke: COLORS[0], width: 1.5, scale: 's', points: { show: false } },
            { label: 'difficulty', stroke: COLORS[1], width: 1.5, scale: 'd', points: { show: false } },
          ],
          axes: [
            xHeight,
            { ...axis('seconds'), scale: 's' },
            { ...axis('difficulty', compact), scale: 'd', side: 1, grid: { show: false } },
          ],
        },
        [hs, stats.map((s) => s.interval), stats.map((s) => s.difficulty)],
      );
      plot(
        txs,
        {
          scales: { x: { time: false } },
          series: [
            { label: 'height' },
            {
              label: 'transactions',
              stroke: COLORS[2],
              fill: 'rgba(21,128,61,.25)',
              paths: uPlot.paths.bars({ size: [0.7, 40] }),
              points: { show: false },
            },
          ],
          axes: [xHeight, axis('txs')],
        },
        [hs, stats.map((s) => s.ntx)],
      );
    };
    return { nodes: [interval, txs], render };
  }

  function mempoolChart(m) {
    const panel = chartBox('Mempool size by fee rate (sat/B)');
    const render = () => {
      const t = m.samples.map((s) => s.time);
      // stacked: each band drawn as the sum of itself and the bands above it
      const series = [{ label: 'time' }];
      const data = [t];
      const names = m.bands.map((b, i) => (i + 1 < m.bands.length ? `${b}–${m.bands[i + 1]}` : `≥ ${b}`));
      for (let i = 0; i < m.bands.length; i++) {
        data.push(m.samples.map((s) => s.bands.slice(i).reduce((a, b) => a + b, 0)));
        series.push({
          label: names[i],
          stroke: COLORS[i % COLORS.length],
          fill: `${COLORS[i % COLORS.length]}55`,
          width: 1,
          points: { show: false },
        });
      }
      plot(
        panel,
        {
          series,
          axes: [xTime, axis('bytes', (v) => bytes(v))],
          empty: 'The node samples its mempool every few seconds: the chart fills in as it runs.',
        },
        data,
      );
    };
    return { nodes: [panel], render };
  }

  function hashrateChart(r) {
    const panel = chartBox('Recorders’ hash rate');
    const render = () => {
      const keys = [...new Set(r.samples.flatMap((s) => Object.keys(s.rates)))].slice(0, 8);
      const series = [
        { label: 'time' },
        { label: 'total', stroke: COLORS[0], width: 2, points: { show: false } },
      ];
      const data = [
        r.samples.map((s) => s.time),
        r.samples.map((s) => Object.values(s.rates).reduce((a, b) => a + b, 0)),
      ];
      keys.forEach((k, i) => {
        series.push({
          label: short(k),
          stroke: COLORS[(i + 1) % COLORS.length],
          width: 1,
          points: { show: false },
        });
        data.push(r.samples.map((s) => (k in s.rates ? s.rates[k] : null)));
      });
      plot(
        panel,
        {
          series,
          axes: [xTime, axis('H/s', compact)],
          empty: 'No recorder has reported yet (the proof channel’s accounting).',
        },
        data,
      );
    };
    return { nodes: [panel], render };
  }

  // ---------- views ----------
  function blockRow(b, isNew) {
    const r = [
      el('a', { href: `#/height/${b.height}` }, num(b.height)),
      idView('block', b.hash),
      when(b.time),
      num(b.ntx !== undefined ? b.ntx : b.nTx),
      bytes(b.size),
    ];
    if (isNew) r.className = 'new';
    return r;
  }
  const BLOCK_HEAD = [['height'], ['hash'], ['time'], ['txs', 1], ['size', 1, 1]];

  async function home() {
    const [info, pool, stats, mp, rates] = await Promise.all([
      api('chaininfo'),
      api('mempool/info'),
      api('stats/blocks?count=100'),
      api('stats/mempool?count=720'),
      api('stats/recorders?count=720'),
    ]);
    const latest = stats.slice(-12).reverse();
    const cards = el(
      'div',
      { class: 'cards' },
      card(
        'Height',
        num(info.blocks),
        info.headers > info.blocks ? `headers: ${num(info.headers)}` : 'best block',
        'c-height',
      ),
      card(
        'Last block',
        stats.length ? ago(stats[stats.length - 1].time) : '—',
        stats.length ? utc(stats[stats.length - 1].time) : '',
        'c-age',
      ),
      card('Difficulty', String(info.difficulty), `target every ${net.targetspacing} s`),
      card('Mempool', `${num(pool.size)} txs`, bytes(pool.bytes), 'c-mempool'),
    );
    const bc = blockCharts(stats);
    const mc = mempoolChart(mp);
    const hc = hashrateChart(rates);
    const blocksTable = table(
      BLOCK_HEAD,
      latest.map((b) => blockRow(b)),
      { id: 'latest-blocks' },
    );
    const txList = el('div', { id: 'latest-txs' });
    const renderTxs = (txs) =>
      txList.replaceChildren(
        table(
          [['txid'], ['size', 1], ['fee', 1, 1], ['fee rate', 1]],
          txs.map((t) => [idView('tx', t.txid), bytes(t.size), coins(t.fee), feeRate(t.feerate)]),
          { empty: 'No transaction has entered the mempool since this page opened.' },
        ),
      );
    const seenTxs = [];
    renderTxs(seenTxs);
    show(
      title('', `Chain ${info.chain}`),
      cards,
      el('div', { class: 'grid2' }, ...bc.nodes, ...mc.nodes, ...hc.nodes),
      el('h2', {}, 'Latest blocks'),
      blocksTable,
      el('h2', {}, 'New transactions ', el('span', { class: 'pill' }, 'live')),
      txList,
    );
    bc.render();
    mc.render();
    hc.render();
    let statsTimer;
    onTip = (ev) => {
      const tbody = document.querySelector('#latest-blocks tbody');
      if (tbody) {
        for (const b of ev.blocks) {
          if (document.querySelector(`#latest-blocks a[data-id="${b.hash}"]`)) continue;
          const placeholder = tbody.querySelector('td[colspan]');
          if (placeholder) placeholder.parentElement.remove();
          const row = blockRow(b, true);
          tbody.prepend(
            el(
              'tr',
              { class: 'new' },
              row.map((c, i) =>
                el(
                  'td',
                  {
                    class:
                      [BLOCK_HEAD[i][1] ? 'num' : '', BLOCK_HEAD[i][2] ? 'hide-sm' : ''].join(' ').trim() ||
                      undefined,
                  },
                  c,
                ),
              ),
            ),
          );
        }
        while (tbody.children.length > 12) tbody.lastElementChild.remove();
      }
      const h = document.querySelector('#c-height .value');
      if (h) {
        h.textContent = num(ev.height);
        h.parentElement.classList.remove('flash');
        void h.parentElement.offsetWidth;
        h.parentElement.classList.add('flash');
      }
      const age = document.querySelector('#c-age .value');
      if (age) age.textContent = ago(ev.time);
      clearTimeout(statsTimer);
      statsTimer = setTimeout(async () => {
        const s = await api('stats/blocks?count=100').catch(() => null);
        if (s && onTip) {
          const again = blockCharts(s);
          for (let i = 0; i < bc.nodes.length; i++) bc.nodes[i].replaceWith(again.nodes[i]);
          bc.nodes.splice(0, 2, ...again.nodes);
          // the old block charts are out of the page: free them
          charts = charts.filter((c) => {
            if (document.body.contains(c.root)) return true;
            c.destroy();
            return false;
          });
          again.render();
        }
      }, 800);
    };
    onMempool = (ev) => {
      const v = document.querySelector('#c-mempool .value');
      if (v) {
        v.textContent = `${num(ev.count)} txs`;
        v.nextElementSibling.textContent = bytes(ev.bytes);
      }
      for (const t of ev.txs) seenTxs.unshift(t);
      seenTxs.splice(10);
      if (ev.txs.length) renderTxs(seenTxs);
    };
  }

  function blockView(b) {
    const PAGE = 50;
    const list = el('div');
    const renderTxs = (from) => {
      const slice = b.tx.slice(from, from + PAGE);
      list.replaceChildren(
        table(
          [['#', 1], ['txid'], ['kind'], ['outputs', 1, 1], ['value', 1]],
          slice.map((t, i) => [
            String(from + i),
            idView('tx', t.txid),
            t.kind,
            String(t.vout.length),
            coins(t.vout.reduce((s, o) => s + Number(o.value), 0)),
          ]),
        ),
        b.tx.length > PAGE
          ? el(
              'div',
              { class: 'pager' },
              el(
                'button',
                {
                  type: 'button',
                  class: 'ghost',
                  disabled: from === 0,
                  on: { click: () => renderTxs(from - PAGE) },
                },
                '← Previous',
              ),
              el(
                'span',
                { class: 'muted' },
                `${from + 1}–${Math.min(b.tx.length, from + PAGE)} of ${b.tx.length}`,
              ),
              el(
                'button',
                {
                  type: 'button',
                  class: 'ghost',
                  disabled: from + PAGE >= b.tx.length,
                  on: { click: () => renderTxs(from + PAGE) },
                },
                'Next →',
              ),
            )
          : null,
      );
    };
    renderTxs(0);
    const fees = b.tx[0] ? b.tx[0].vout.reduce((s, o) => s + Number(o.value), 0) : 0;
    show(
      title('block', num(b.height)),
      kv([
        ['hash', idView(null, b.hash, { full: true })],
        ['confirmations', num(b.confirmations)],
        ['time', el('span', {}, `${utc(b.time)} (${ago(b.time)})`)],
        [
          'previous',
          b.previousblockhash ? idView('block', b.previousblockhash, { full: true }) : 'none (genesis)',
        ],
        ['next', b.nextblockhash ? idView('block', b.nextblockhash, { full: true }) : 'none yet (the tip)'],
        ['transactions', num(b.nTx)],
        ['coinbase paid', coins(fees)],
        ['size', bytes(b.size)],
        ['difficulty', String(b.difficulty)],
        ['merkle root', idView(null, b.merkleroot, { full: true })],
        ['bits / nonce', `${b.bits} / ${b.nonce}`],
      ]),
      el('h2', {}, 'Transactions'),
      list,
    );
    onTip = (ev) => {
      const c = main.querySelector('table.kv tr:nth-child(2) td');
      if (c && b.confirmations > 0) c.textContent = num(ev.height - b.height + 1);
    };
  }
  async function block(hash) {
    const b = await maybe(`block/${hash}`, 'block', hash);
    if (b === null) return show(notFound('Block', hash));
    blockView(b);
  }
  async function height(n) {
    const b = await maybe(`block-height/${n}`, 'height', n);
    if (b === null)
      return show(
        notFound(
          'Block at height',
          n,
          live.height !== null ? `The chain’s height is ${num(live.height)}.` : '',
        ),
      );
    blockView(b);
  }

  /** A transaction told in words, from its outputs and the outputs it spends. */
  function story(t, prev) {
    const addr = (a) => idView('address', a);
    const p = (...parts) => el('p', {}, ...parts);
    const outs = t.vout;
    const senders = [...new Set(prev.filter(Boolean).map((o) => o.address))];
    const inSum = prev.reduce((s, o) => s + (o ? Number(o.value) : 0), 0);
    const outSum = outs.reduce((s, o) => s + Number(o.value), 0);
    const known = prev.every(Boolean);
    const fee = t.kind === 'coinbase' || !known ? null : inSum - outSum;
    const lines = [];
    if (t.kind === 'coinbase') {
      lines.push(
        p(
          'Block reward and fees of block ',
          el('a', { href: `#/height/${t.height}` }, num(t.height)),
          ': ',
          el('strong', {}, coins(outSum)),
          ' paid to ',
          ...join(outs.map((o) => addr(o.address))),
          '.',
        ),
      );
      return el('div', { class: 'story' }, lines);
    }
    const from = senders.length ? join(senders.map(addr)) : ['an unknown sender'];
    const moved = outs.filter((o) => o.bitmark);
    if (t.kind === 'asset') {
      lines.push(
        p(
          ...from,
          ' registered the asset ',
          el('strong', {}, `“${t.asset.name}”`),
          t.assetId ? [' (', idView('asset', t.assetId), ')'] : null,
          '.',
        ),
      );
    } else if (t.kind === 'issue') {
      lines.push(
        p(
          ...from,
          ' issued ',
          el('strong', {}, moved.length === 1 ? 'one bitmark' : `${moved.length} bitmarks`),
          ' of asset ',
          idView('asset', t.assetId),
          ' to ',
          ...join([...new Set(moved.map((o) => o.address))].map(addr)),
          '.',
        ),
      );
    }
    if (t.kind === 'split') {
      lines.push(
        p(
          ...from,
          ' split bitmark ',
          idView('bitmark', t.split.bitmark),
          ' into ',
          el('strong', {}, `${num(t.split.total)} shares`),
          '.',
        ),
      );
    }
    for (const o of outs.filter((o) => o.shares))
      lines.push(
        p(
          el('strong', {}, `${num(o.shares.quantity)} shares`),
          ' of bitmark ',
          idView('bitmark', o.shares.bitmark),
          ' to ',
          addr(o.address),
          '.',
        ),
      );
    for (const o of moved.filter((o) => !o.minted)) {
      const before = prev.find((x) => x && x.bitmark === o.bitmark);
      lines.push(
        p(
          'Bitmark ',
          idView('bitmark', o.bitmark),
          ' moved from ',
          before ? addr(before.address) : 'its previous owner',
          ' to ',
          addr(o.address),
          '.',
        ),
      );
    }
    const paid = outs.filter((o) => !senders.includes(o.address) && Number(o.value) > 0 && !o.bitmark);
    for (const o of paid)
      lines.push(p(...from, ' sent ', el('strong', {}, coins(o.value)), ' to ', addr(o.address), '.'));
    const change = outs.filter((o) => senders.includes(o.address) && Number(o.value) > 0);
    if (change.length)
      lines.push(
        p(coins(change.reduce((s, o) => s + Number(o.value), 0)), ' came back to the sender as change.'),
      );
    if (fee !== null) lines.push(p('Fee: ', el('strong', {}, coins(fee)), ` (${feeRate(fee / t.size)}).`));
    lines.push(
      p(
        t.blockhash
          ? [
              'Confirmed in block ',
              idView('block', t.blockhash),
              ' — ',
              num(t.confirmations),
              t.confirmations === 1 ? ' confirmation' : ' confirmations',
              ', ',
              when(t.blocktime),
              '.',
            ]
          : el('span', { class: 'pill warn' }, 'Waiting in the mempool for a block'),
      ),
    );
    return el('div', { class: 'story' }, lines);
  }
  function join(nodes) {
    const out = [];
    nodes.forEach((n, i) => {
      if (i > 0) out.push(i === nodes.length - 1 ? ' and ' : ', ');
      out.push(n);
    });
    return out;
  }

  async function tx(txid) {
    const t = await maybe(`tx/${txid}`, 'tx', txid);
    if (t === null) return show(notFound('Transaction', txid));
    const prev = t.kind === 'coinbase' ? [] : await api(`tx/${txid}/prevouts`);
    const out = [
      title(
        'transaction',
        t.kind === 'coinbase'
          ? 'Coinbase'
          : t.kind === 'transfer'
            ? 'Transfer'
            : t.kind === 'asset'
              ? 'Asset registration'
              : t.kind === 'split'
                ? 'Bitmark split into shares'
                : 'Bitmark issue',
      ),
      story(t, prev),
      kv([
        ['txid', idView(null, t.txid, { full: true })],
        [
          'status',
          t.blockhash
            ? el('span', { class: 'pill good' }, `${num(t.confirmations)} confirmations`)
            : el('span', { class: 'pill warn' }, 'in the mempool'),
        ],
        ['block', t.blockhash ? idView('block', t.blockhash, { full: true }) : undefined],
        ['time', t.blocktime ? utc(t.blocktime) : undefined],
        ['size', bytes(t.size)],
        ['asset', t.assetId ? idView('asset', t.assetId, { full: true }) : undefined],
      ]),
    ];
    if (t.asset) out.push(el('h2', {}, 'Asset registered'), assetFacts({ name: t.asset.name, ...t.asset }));
    if (t.vin)
      out.push(
        el('h2', {}, 'Inputs'),
        table(
          [['spends'], ['from'], ['value', 1], ['bitmark', 0, 1]],
          t.vin.map((i, k) => {
            const o = prev[k];
            return [
              idView('tx', i.txid, { text: `${short(i.txid)}:${i.vout}` }),
              o ? idView('address', o.address) : '?',
              o ? coins(o.value) : '?',
              o?.bitmark ? idView('bitmark', o.bitmark) : o?.shares ? sharesView(o.shares) : '',
            ];
          }),
        ),
      );
    out.push(
      el('h2', {}, 'Outputs'),
      table(
        [['n', 1], ['to'], ['value', 1], ['bitmark', 0, 1]],
        t.vout.map((o) => [
          String(o.n),
          idView('address', o.address),
          coins(o.value),
          o.bitmark
            ? el(
                'span',
                {},
                idView('bitmark', o.bitmark),
                o.minted ? el('span', { class: 'pill good' }, 'new') : null,
              )
            : o.shares
              ? sharesView(o.shares)
              : '',
        ]),
      ),
    );
    show(...out);
  }
  /** "N shares of <bitmark>" for an output holding shares. */
  function sharesView(s) {
    return el('span', {}, `${num(s.quantity)} shares of `, idView('bitmark', s.bitmark));
  }

  function assetFacts(a) {
    return kv([
      ['name', a.name],
      [
        'metadata',
        a.metadata !== null && a.metadata !== undefined
          ? el('pre', { class: 'meta' }, a.metadata === '' ? '(none)' : a.metadata)
          : el('span', {}, el('span', { class: 'pill' }, 'binary'), ' ', el('code', {}, a.metadata_hex)),
      ],
      [
        'fingerprint',
        a.fingerprint !== null && a.fingerprint !== undefined
          ? idView(null, a.fingerprint, { full: true })
          : el(
              'span',
              {},
              el('span', { class: 'pill' }, 'binary'),
              ' ',
              idView(null, a.fingerprint_hex, { full: true }),
            ),
      ],
    ]);
  }

  async function address(a) {
    const x = await maybe(`address/${encodeURIComponent(a)}`, 'address', a);
    if (x === null) return show(notFound('Address', a));
    const coinsList = x.utxos.filter((u) => !u.bitmark && !u.shares);
    const held = x.utxos.filter((u) => u.bitmark);
    const shares = await api(`shares/${encodeURIComponent(a)}`).catch(() => []);
    const history = el('div');
    const cursors = [undefined];
    const loadHistory = async (k) => {
      const before = cursors[k];
      const page = await api(
        `address/${encodeURIComponent(a)}/txs?count=25${before ? `&before=${before}` : ''}`,
      );
      cursors[k + 1] = page.next;
      history.replaceChildren(
        table(
          [['time'], ['height', 1, 1], ['txid'], ['kind', 0, 1], ['received', 1], ['sent', 1]],
          page.txs.map((t) => [
            when(t.time),
            el('a', { href: `#/height/${t.height}` }, num(t.height)),
            idView('tx', t.txid),
            t.kind,
            t.received ? el('span', { class: 'in' }, `+${coins(t.received)}`) : '',
            t.spent ? el('span', { class: 'out' }, `−${coins(t.spent)}`) : t.spent === null ? '?' : '',
          ]),
          { empty: 'No transaction.' },
        ),
        pager(k, page.next, loadHistory),
      );
    };
    show(
      title('address', short(x.address)),
      kv([
        ['address', idView(null, x.address, { full: true })],
        ['balance', el('strong', {}, coins(x.balance))],
        ['coins', `${num(coinsList.length)} unspent outputs`],
        ['bitmarks held', num(x.bitmarks.length)],
        ['transactions', num(x.txcount)],
      ]),
      el('h2', {}, 'Bitmarks held'),
      table(
        [['bitmark'], ['in output'], ['confirmations', 1, 1]],
        held
          .slice(0, 200)
          .map((u) => [
            idView('bitmark', u.bitmark),
            idView('tx', u.txid, { text: `${short(u.txid)}:${u.vout}` }),
            num(u.confirmations),
          ]),
        { empty: 'This address holds no bitmark.' },
      ),
      el('h2', {}, 'Shares held'),
      table(
        [['bitmark'], ['shares', 1], ['of its total', 1, 1]],
        shares.map((s) => [
          idView('bitmark', s.bitmark),
          num(s.quantity),
          s.total ? `${((100 * s.quantity) / s.total).toPrecision(3)}% of ${num(s.total)}` : '',
        ]),
        { empty: 'This address holds no shares.', id: 'shares-held' },
      ),
      el('h2', {}, 'History'),
      history,
      el('h2', {}, 'Coins'),
      table(
        [['output'], ['value', 1], ['confirmations', 1, 1]],
        coinsList
          .slice(0, 200)
          .map((u) => [
            idView('tx', u.txid, { text: `${short(u.txid)}:${u.vout}` }),
            coins(u.amount),
            num(u.confirmations) + (u.coinbase ? ' (coinbase)' : ''),
          ]),
        {
          empty: 'No unspent coins.',
        },
      ),
      coinsList.length > 200
        ? el('p', { class: 'muted' }, `The first 200 of ${num(coinsList.length)} outputs.`)
        : null,
    );
    await loadHistory(0);
  }

  async function asset(id) {
    const a = await maybe(`asset/${id}`, 'asset', id);
    if (a === null) return show(notFound('Asset', id));
    const list = el('div');
    const cursors = [undefined];
    const load = async (k) => {
      const page = await api(`bitmarks?asset=${id}&count=50${cursors[k] ? `&after=${cursors[k]}` : ''}`);
      cursors[k + 1] = page.next;
      list.replaceChildren(
        table(
          [['bitmark'], ['owner'], ['held in', 0, 1]],
          page.bitmarks.map((b) => [
            idView('bitmark', b.id),
            b.owner ? idView('address', b.owner) : '—',
            idView('tx', b.txid, { text: `${short(b.txid)}:${b.vout}` }),
          ]),
          { empty: 'No bitmark issued yet.' },
        ),
        el(
          'div',
          { class: 'pager' },
          el(
            'button',
            { type: 'button', class: 'ghost', disabled: k === 0, on: { click: () => load(k - 1) } },
            '← Previous',
          ),
          el(
            'button',
            { type: 'button', class: 'ghost', disabled: !page.next, on: { click: () => load(k + 1) } },
            'Next →',
          ),
        ),
      );
    };
    show(
      title('asset', a.name),
      assetFacts(a),
      kv([
        ['asset id', idView(null, a.id, { full: true })],
        [
          'registrant',
          el(
            'span',
            {},
            idView('address', a.registrant),
            ' · ',
            el('a', { href: `#/assets?registrant=${encodeURIComponent(a.registrant)}` }, 'all their assets'),
          ),
        ],
        ['registered in', idView('tx', a.txid)],
        ['height', el('a', { href: `#/height/${a.height}` }, num(a.height))],
      ]),
      el('h2', {}, 'Bitmarks'),
      list,
    );
    await load(0);
  }

  async function assets(_arg, query) {
    const registrant = query.get('registrant') || '';
    const form = el(
      'form',
      { class: 'filters', id: 'registrant-filter' },
      el('label', { for: 'registrant', class: 'sr' }, 'Registrant address'),
      el('input', {
        id: 'registrant',
        name: 'registrant',
        placeholder: 'Only assets registered by this address',
        value: registrant,
        spellcheck: 'false',
      }),
      el('button', { type: 'submit' }, 'Filter'),
      registrant ? el('a', { href: '#/assets', class: 'muted' }, 'clear') : null,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = form.querySelector('input').value.trim();
      location.hash = `#/assets${v ? `?registrant=${encodeURIComponent(v)}` : ''}`;
    });
    const list = el('div');
    const cursors = [undefined];
    const load = async (k) => {
      let page;
      try {
        page = await api(
          'assets?count=25' +
            (registrant ? `&registrant=${encodeURIComponent(registrant)}` : '') +
            (cursors[k] ? `&after=${cursors[k]}` : ''),
        );
      } catch (e) {
        if (e instanceof ApiError && e.status === 400) {
          list.replaceChildren(el('p', { class: 'error' }, `Not a valid address: ${registrant}`));
          return;
        }
        throw e;
      }
      cursors[k + 1] = page.next;
      list.replaceChildren(
        table(
          [['name'], ['asset id'], ['registrant', 0, 1], ['height', 1]],
          page.assets.map((a) => [
            el('a', { href: href('asset', a.id) }, a.name || '(no name)'),
            idView('asset', a.id),
            idView('address', a.registrant),
            el('a', { href: `#/height/${a.height}` }, num(a.height)),
          ]),
          {
            empty: registrant ? 'This address registered no asset.' : 'No asset registered yet.',
          },
        ),
        pager(k, page.next, load),
      );
    };
    show(
      title('', 'Assets'),
      el('p', { class: 'muted' }, 'Registered digital property, newest first.'),
      form,
      list,
    );
    await load(0);
  }

  async function bitmark(id) {
    const b = await maybe(`bitmark/${id}`, 'bitmark', id);
    if (b === null) return show(notFound('Bitmark', id));
    const a = await api(`asset/${b.asset}`).catch(() => null);
    const hops = b.provenance;
    const steps = hops
      .map((h, i) => {
        const prev = hops[i - 1];
        return el(
          'li',
          { class: i === hops.length - 1 ? 'current' : undefined },
          el(
            'div',
            { class: 'when' },
            h.time ? `${utc(h.time)} · ` : '',
            'height ',
            el('a', { href: `#/height/${h.height}` }, num(h.height)),
            h.time ? ` · ${ago(h.time)}` : '',
          ),
          el(
            'div',
            { class: 'hop' },
            el(
              'strong',
              {},
              i === 0 ? 'Issued' : h.split ? `Split into ${num(h.split.total)} shares` : 'Transferred',
            ),
            prev
              ? idView('address', prev.owner)
              : a
                ? el('span', { class: 'muted' }, 'by ', idView('address', a.registrant))
                : null,
            el('span', { class: 'arrow', 'aria-label': 'to' }, '→'),
            idView('address', h.owner),
            i === hops.length - 1 && !h.split ? el('span', { class: 'pill good' }, 'current owner') : null,
          ),
          el(
            'div',
            { class: 'when' },
            'in ',
            idView('tx', h.txid, { text: h.split ? short(h.txid) : `${short(h.txid)}:${h.vout}` }),
          ),
        );
      })
      .reverse();
    show(
      title('bitmark', a ? a.name : short(b.id)),
      kv([
        ['bitmark id', idView(null, b.id, { full: true })],
        [
          'asset',
          el(
            'span',
            {},
            a ? el('a', { href: href('asset', b.asset) }, a.name) : null,
            ' ',
            idView('asset', b.asset),
          ),
        ],
        ['owner', b.owner ? idView('address', b.owner, { full: true }) : undefined],
        ['held in', idView('tx', b.txid, { text: `${short(b.txid)}:${b.vout}` })],
        ['transfers', num(Math.max(0, hops.length - 1))],
      ]),
      el('h2', {}, 'Provenance'),
      el('ol', { class: 'timeline', id: 'provenance', reversed: true }, steps),
      ...(b.split ? await sharesOf(b.id) : []),
    );
  }

  /** A split bitmark's shares: its holders and every move since the split. */
  async function sharesOf(id) {
    const [h, prov] = await Promise.all([api(`shareholders/${id}?count=200`), api(`share/${id}`)]);
    const who = (list) =>
      join(list.map((x) => el('span', {}, idView('address', x.address), ` ${num(x.quantity)}`)));
    return [
      el('h2', {}, `Shares: ${num(h.total)}`),
      table(
        [['holder'], ['shares', 1], ['of the total', 1, 1]],
        h.holders.map((x) => [
          idView('address', x.address),
          num(x.quantity),
          `${((100 * x.quantity) / h.total).toPrecision(3)}%`,
        ]),
        { empty: 'No holder.', id: 'share-holders' },
      ),
      el('h2', {}, 'Share moves'),
      table(
        [['height', 1, 1], ['tx'], ['from'], ['to']],
        prov.moves
          .slice()
          .reverse()
          .map((m) => [
            el('a', { href: `#/height/${m.height}` }, num(m.height)),
            idView('tx', m.txid),
            m.from.length ? el('span', {}, ...who(m.from)) : 'the split',
            el('span', {}, ...who(m.to)),
          ]),
        { empty: 'No move.', id: 'share-moves' },
      ),
    ];
  }

  async function mempool() {
    const [info, contents, mp] = await Promise.all([
      api('mempool/info'),
      api('mempool/contents?count=100'),
      api('stats/mempool?count=720'),
    ]);
    const mc = mempoolChart(mp);
    const now = Date.now() / 1000;
    const rows = Object.entries(contents).map(([txid, e]) => [
      idView('tx', txid),
      bytes(e.size),
      coins(e.fee),
      feeRate(e.feerate),
      el('span', { title: utc(e.time) }, ago(Math.min(now, e.time))),
    ]);
    show(
      title('', 'Mempool'),
      el(
        'div',
        { class: 'cards' },
        card('Transactions', num(info.size), '', 'c-mempool'),
        card('Size', bytes(info.bytes), `limit ${bytes(info.maxmempool)}`),
        card('Fees waiting', coins(info.total_fee)),
        card('Minimum fee rate', feeRate(info.mempoolminfee), `relay floor ${feeRate(info.minrelaytxfee)}`),
      ),
      el('div', { class: 'grid2' }, ...mc.nodes),
      el(
        'h2',
        {},
        'Highest fee rate first',
        info.size > rows.length ? el('span', { class: 'pill' }, `${rows.length} of ${num(info.size)}`) : null,
      ),
      table([['txid'], ['size', 1], ['fee', 1, 1], ['fee rate', 1], ['waiting', 1, 1]], rows, {
        empty: 'The mempool is empty.',
      }),
    );
    mc.render();
    let t;
    const again = () => {
      clearTimeout(t);
      t = setTimeout(() => route(true), 1500);
    };
    onMempool = again;
    onTip = again;
  }

  async function network() {
    const [n, rates] = await Promise.all([api('network'), api('stats/recorders?count=720')]);
    const hc = hashrateChart(rates);
    const s = n.sync;
    show(
      title('', 'Network'),
      el(
        'div',
        { class: 'cards' },
        card(
          'Sync',
          s.initialblockdownload || s.headers > s.blocks ? 'syncing' : 'in sync',
          `block ${num(s.blocks)} of ${num(s.headers)}`,
        ),
        card(
          'Peers',
          num(n.network.connections),
          `${n.network.connections_out} out · ${n.network.connections_in} in`,
        ),
        card('Recorders', num(n.recorders.length), hashrate(n.networkhashps)),
        card('Node', n.network.subversion, `protocol ${n.network.protocolversion}`),
      ),
      el('div', { class: 'grid2' }, ...hc.nodes),
      el('h2', {}, 'Recorders'),
      table(
        [
          ['key'],
          ['payout', 0, 1],
          ['blocks', 1],
          ['shares', 1, 1],
          ['stale / invalid', 1, 1],
          ['hash rate', 1],
        ],
        n.recorders.map((r) => [
          idView(null, r.key),
          idView('address', r.payout),
          num(r.blocks),
          num(r.shares),
          `${r.stale} / ${r.invalid}`,
          hashrate(r.hashrate),
        ]),
        { empty: 'No recorder connected to this node’s proof channel.' },
      ),
      el('h2', {}, 'Peers'),
      table(
        [['key'], ['address'], ['direction', 0, 1], ['height', 1], ['ping', 1, 1], ['agent', 0, 1]],
        n.peers.map((p) => [
          idView(null, p.key),
          p.addr || '—',
          p.inbound ? 'inbound' : 'outbound',
          p.synced_headers >= 0 ? num(p.synced_headers) : p.startingheight >= 0 ? num(p.startingheight) : '—',
          p.pingtime ? `${Math.round(p.pingtime * 1000)} ms` : '—',
          p.subver || '',
        ]),
        { empty: 'No peer connected.' },
      ),
      el('h2', {}, 'Chain tips'),
      table(
        [['height', 1], ['hash'], ['branch', 1], ['status']],
        n.tips.map((t) => [
          num(t.height),
          idView('block', t.hash),
          num(t.branchlen),
          el('span', { class: `pill${t.status === 'active' ? ' good' : ''}` }, t.status),
        ]),
      ),
    );
    hc.render();
  }

  // ---------- search ----------
  /** A height, an address, or a 64-hex id (a block, a transaction, an asset or a bitmark: the first that exists). */
  async function search(raw) {
    const q = raw.trim();
    if (q === '') return;
    const kinds = await found(q);
    if (kinds.length === 0) return go(`#/search/${encodeURIComponent(q)}`);
    // a 64-hex id that is several things (never in practice): the block first, then tx, asset, bitmark
    const kind = kinds[0];
    return go(href(kind, kind === 'height' ? q : HEX64.test(q) ? q.toLowerCase() : q));
  }
  function go(h) {
    if (location.hash === h) route();
    else location.hash = h;
  }
  function searchFailed(q) {
    const hint = HEX64.test(q)
      ? 'No block, transaction, asset or bitmark has this id.'
      : 'Search takes a block height, a 64-hex-digit block hash, txid, asset id or bitmark id, or an address starting with ' +
        (net.addressprefix || '…') +
        '1.';
    show(notFound('Nothing matches', q, hint));
  }

  // ---------- routing ----------
  const views = {
    block,
    height,
    tx,
    address,
    asset,
    bitmark,
    assets,
    mempool,
    network,
    search: async (q) => searchFailed(q),
  };
  async function route(keepScroll) {
    const seq = ++renderSeq;
    onTip = null;
    onMempool = null;
    const [path, qs] = location.hash.replace(/^#\/?/, '').split('?');
    const parts = path.split('/');
    const name = parts[0] || 'home';
    for (const a of document.querySelectorAll('nav a'))
      a.classList.toggle(
        'on',
        a.dataset.nav === (name === 'home' || name === 'block' || name === 'height' ? 'home' : name),
      );
    const view = views[name];
    try {
      if (view && (parts[1] || name === 'assets' || name === 'mempool' || name === 'network'))
        await view(decodeURIComponent(parts[1] || ''), new URLSearchParams(qs || ''));
      else await home();
      document.title = `${main.querySelector('h1') ? `${main.querySelector('h1').textContent} · ` : ''}Cairn explorer`;
    } catch (e) {
      if (seq !== renderSeq) return;
      show(
        el(
          'div',
          { class: 'notfound' },
          el('h1', {}, 'Something went wrong'),
          el('p', { class: 'error' }, String(e?.message || e)),
          el('p', {}, el('a', { href: '#/' }, '← Latest blocks')),
        ),
      );
    }
    if (!keepScroll) window.scrollTo(0, 0);
  }

  // ---------- live ----------
  function status() {
    const s = live.sync;
    const msgs = [];
    let bad = false;
    if (!live.connected) {
      msgs.push('Live updates lost: reconnecting to the node…');
      bad = true;
    }
    if (s && (s.initialblockdownload || s.headers > s.blocks + 1)) {
      const pct = s.headers > 0 ? Math.floor((1000 * s.blocks) / s.headers) / 10 : 0;
      msgs.push(
        'This node is syncing: block ' +
          num(s.blocks) +
          ' of ' +
          num(s.headers) +
          ' (' +
          pct +
          ' %). What you see may be behind the network.',
      );
    } else if (live.time && Date.now() / 1000 - live.time > 120 * net.targetspacing) {
      msgs.push(
        'The node’s last block is ' +
          ago(live.time).replace(' ago', '') +
          ' old: it may be behind the network, or no one is recording blocks.',
      );
    }
    banner.hidden = msgs.length === 0;
    banner.textContent = msgs.join(' ');
    banner.classList.toggle('bad', bad);
    liveEl.textContent = live.connected
      ? `live · height ${num(live.height)}${live.mempool ? ` · ${num(live.mempool.count)} in mempool` : ''}`
      : 'offline';
    liveEl.classList.toggle('on', live.connected);
    liveEl.classList.toggle('off', !live.connected);
  }
  function connect() {
    if (typeof EventSource !== 'function') return;
    const es = new EventSource('/explorer/events');
    let downTimer;
    es.addEventListener('open', () => {
      clearTimeout(downTimer);
    });
    es.addEventListener('error', () => {
      // EventSource retries by itself; say so only when it stays down
      clearTimeout(downTimer);
      downTimer = setTimeout(() => {
        live.connected = false;
        status();
      }, 3000);
    });
    es.addEventListener('hello', (m) => {
      const d = JSON.parse(m.data);
      const wasDown = live.connected === false && live.height !== null;
      Object.assign(live, {
        height: d.height,
        hash: d.hash,
        time: d.time,
        mempool: d.mempool,
        sync: d.sync,
        connected: true,
      });
      status();
      if (wasDown) route(true);
    });
    es.addEventListener('tip', (m) => {
      const d = JSON.parse(m.data);
      Object.assign(live, { height: d.height, hash: d.hash, time: d.time, sync: d.sync, connected: true });
      status();
      if (onTip) onTip(d);
      else if (d.connected > 0) toast(`New block ${num(d.height)}`);
    });
    es.addEventListener('mempool', (m) => {
      const d = JSON.parse(m.data);
      live.mempool = { count: d.count, bytes: d.bytes };
      status();
      if (onMempool) onMempool(d);
    });
    setInterval(status, 30000);
  }

  // ---------- start ----------
  document.getElementById('search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search(input.value).catch((e) => show(el('p', { class: 'error' }, String(e.message || e))));
  });
  document.addEventListener('keydown', (ev) => {
    const typing = ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement;
    if (ev.key === '/' && !typing) {
      ev.preventDefault();
      input.focus();
      input.select();
    } else if (ev.key === 'Escape' && ev.target === input) input.blur();
  });
  window.addEventListener('hashchange', () => route());
  api('netparams')
    .then((p) => {
      net = p;
    })
    .catch(() => undefined)
    .then(() => {
      connect();
      return route();
    });
})();
