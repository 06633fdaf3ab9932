/**
 * The web explorer in a real browser (Debian's chromium, driven by puppeteer-core) against a real
 * cairnd with a cairn-recorder mining for it and a user's story made through the `cairn` CLI:
 * every page loads with no console error and no CSP violation; search finds a block by height, a
 * block by hash, a transaction, an address, an asset and a bitmark; a block mined during the test
 * appears in the open page without a reload; the provenance timeline shows the CLI's transfer;
 * a split bitmark shows its shares (holders, moves) and an address the shares it holds.
 * Skipped, with the reason, where no Chromium can be found (CHROMIUM=path picks another).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { explorerScene, type Scene } from '../helpers/explorer-scene.ts';

// the functions passed to page.evaluate run in the page: its globals (the project compiles without the DOM lib)
// biome-ignore lint/suspicious/noExplicitAny: the page's global, used only inside page.evaluate
declare const document: any;
// biome-ignore lint/suspicious/noExplicitAny: as above
declare const window: any;
// biome-ignore lint/suspicious/noExplicitAny: as above
declare const location: any;
// biome-ignore lint/suspicious/noExplicitAny: as above
declare const MutationObserver: any;
// biome-ignore lint/suspicious/noExplicitAny: as above
declare const Element: any;

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM=path)`;

interface Opened {
  page: Page;
  /** Console errors, uncaught exceptions, failed requests and CSP violations seen so far. */
  problems: string[];
}

describe('explorer in a real browser', { timeout: 300_000, skip }, () => {
  let scene: Scene;
  let browser: Browser;

  before(async () => {
    const puppeteer = (await import('puppeteer-core')).default;
    scene = await explorerScene({ recorderCpu: 5 });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
  });
  after(async () => {
    await browser?.close();
    await scene?.stop();
  });

  async function open(hash: string, width = 1280): Promise<Opened> {
    const page = await browser.newPage();
    await page.setViewport({ width, height: 900 });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`exception: ${(e as Error).message}`));
    page.on('requestfailed', (r) => {
      // the live stream is cut when the page closes: not a failure of the page
      if (!r.url().endsWith('/explorer/events')) problems.push(`request failed: ${r.url()}`);
    });
    await page.evaluateOnNewDocument(() => {
      document.addEventListener(
        'securitypolicyviolation',
        (e: { violatedDirective: string; blockedURI: string }) => {
          console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
        },
      );
    });
    await page.goto(`${scene.url}/explorer/${hash}`, { waitUntil: 'load' });
    await page.waitForSelector('main h1');
    return { page, problems };
  }

  async function heading(page: Page): Promise<string> {
    return page.$eval('main h1', (h) => h.textContent ?? '');
  }

  it('every page loads with no console error and no CSP violation', async () => {
    const { ids } = scene;
    const block = await scene.cairn<string>(['rpc', 'getblockhash', '3']);
    const pages: [hash: string, expect: RegExp][] = [
      ['#/', /Chain local/],
      ['#/height/3', /^block\s*3$/],
      [`#/block/${block}`, /^block\s*3$/],
      [`#/tx/${ids.transferTxid}`, /Transfer/],
      [`#/tx/${ids.registerTxid}`, /Asset registration/],
      [`#/tx/${ids.issueTxid}`, /Bitmark issue/],
      [`#/address/${ids.address}`, /address/],
      [`#/asset/${ids.assetId}`, new RegExp(ids.assetName)],
      ['#/assets', /Assets/],
      [`#/assets?registrant=${ids.address}`, /Assets/],
      [`#/bitmark/${ids.bitmark}`, new RegExp(ids.assetName)],
      [`#/bitmark/${ids.sharedBitmark}`, new RegExp(ids.assetName)],
      [`#/tx/${ids.splitTxid}`, /Bitmark split into shares/],
      [`#/address/${ids.receiver}`, /address/],
      ['#/mempool', /Mempool/],
      ['#/network', /Network/],
      [`#/tx/${'ab'.repeat(32)}`, /Not found/],
      ['#/search/no-such-thing', /Not found/],
    ];
    for (const [hash, expect] of pages) {
      for (const width of [1280, 390]) {
        const { page, problems } = await open(hash, width);
        // the charts and tables of the page have drawn
        await new Promise((r) => setTimeout(r, 300));
        assert.match(await heading(page), expect, hash);
        assert.deepEqual(problems, [], `${hash} at ${width}px`);
        if (width === 390) {
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - window.innerWidth,
          );
          assert.ok(overflow <= 0, `${hash}: wider than a phone by ${overflow}px`);
        }
        await page.close();
      }
    }
    // the asset page shows the metadata as text, the home page draws its charts
    const asset = await open(`#/asset/${ids.assetId}`);
    assert.match(
      await asset.page.$eval('pre.meta', (p) => p.textContent ?? ''),
      /photographer: Alice Example/,
    );
    await asset.page.close();
    const home = await open('#/');
    await home.page.waitForSelector('.chart canvas');
    assert.ok((await home.page.$$('.chart canvas')).length >= 2, 'charts drawn');
    await home.page.close();
  });

  it('search finds a block by height and hash, a transaction, an address, an asset and a bitmark', async () => {
    const { ids } = scene;
    const block = await scene.cairn<string>(['rpc', 'getblockhash', '5']);
    const { page, problems } = await open('#/');
    const cases: [query: string, hash: string, expect: RegExp][] = [
      ['5', '#/height/5', /^block\s*5$/],
      [block, `#/block/${block}`, /^block\s*5$/],
      [ids.transferTxid, `#/tx/${ids.transferTxid}`, /Transfer/],
      [ids.address, `#/address/${encodeURIComponent(ids.address)}`, /address/],
      [ids.assetId, `#/asset/${ids.assetId}`, new RegExp(ids.assetName)],
      [ids.bitmark, `#/bitmark/${ids.bitmark}`, new RegExp(ids.assetName)],
      ['ff'.repeat(32), `#/search/${'ff'.repeat(32)}`, /Not found/],
    ];
    for (const [query, hash, expect] of cases) {
      // keyboard only: '/' focuses the search box, Enter searches
      await page.click('main');
      await page.keyboard.press('/');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'q');
      await page.keyboard.type(query);
      await page.keyboard.press('Enter');
      await page.waitForFunction((h) => location.hash === h, {}, hash);
      await page.waitForFunction(
        (re) => new RegExp(re).test(document.querySelector('main h1')?.textContent ?? ''),
        {},
        expect.source,
      );
    }
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a block mined during the test appears in the open page without a reload', async () => {
    const { page, problems } = await open('#/');
    await page.waitForSelector('#latest-blocks tbody tr');
    // every block hash that enters the page from now on, and a marker a reload would lose
    await page.evaluate(() => {
      const w = window as unknown as { seen: string[]; marker: number };
      w.seen = [];
      w.marker = 42;
      new MutationObserver((records: { addedNodes: unknown[] }[]) => {
        for (const r of records)
          for (const n of r.addedNodes)
            if (n instanceof Element)
              for (const a of (
                n as { querySelectorAll(s: string): { getAttribute(a: string): string | null }[] }
              ).querySelectorAll('a[data-id]'))
                w.seen.push(a.getAttribute('data-id') ?? '');
      }).observe(document.getElementById('main')!, { childList: true, subtree: true });
    });
    const hash = (await scene.cairn<string[]>(['rpc', 'generatetoaddress', '1', scene.ids.address]))[0]!;
    const mined = performance.now();
    await page.waitForFunction(
      (h) => (window as unknown as { seen: string[] }).seen.includes(h),
      { polling: 'raf' },
      hash,
    );
    console.log(
      `# block ${hash.slice(0, 16)}… shown ${Math.round(performance.now() - mined)} ms after generatetoaddress returned`,
    );
    assert.equal(
      await page.evaluate(() => (window as unknown as { marker: number }).marker),
      42,
      'no reload',
    );
    // and the recorder's blocks keep coming in on their own
    const height = await page.$eval('#c-height .value', (v) =>
      Number((v.textContent ?? '').replace(/,/g, '')),
    );
    await page.waitForFunction(
      (h) => Number((document.querySelector('#c-height .value')?.textContent ?? '').replace(/,/g, '')) > h,
      { timeout: 60_000 },
      height,
    );
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('the provenance timeline shows the transfer made through the CLI', async () => {
    const { ids } = scene;
    const { page, problems } = await open(`#/bitmark/${ids.bitmark}`);
    const hops = await page.$$eval('#provenance li', (lis) =>
      lis.map((li) => ({
        text: li.textContent ?? '',
        ids: [...li.querySelectorAll('[data-id]')].map((a) => a.getAttribute('data-id')),
      })),
    );
    assert.equal(hops.length, 2, 'issued, then transferred');
    // newest first: the transfer to wallet 2, from the address the issue gave it to
    assert.match(hops[0]!.text, /Transferred/);
    assert.match(hops[0]!.text, /current owner/);
    assert.ok(hops[0]!.ids.includes(ids.transferTxid), 'the CLI transfer tx');
    assert.equal(hops[0]!.ids.filter((x) => x === ids.receiver).length, 1, 'to the receiver');
    assert.match(hops[1]!.text, /Issued/);
    assert.ok(hops[1]!.ids.includes(ids.issueTxid));
    const issuedTo = hops[1]!.ids.find((x) => x?.startsWith('lcairn1') && hops[0]!.ids.includes(x));
    assert.ok(issuedTo !== undefined, 'the transfer is from the owner the issue gave it to');
    assert.match(hops[0]!.text, /height \d+/);
    assert.match(hops[0]!.text, /UTC/);
    // the transaction page says it in words
    await page.click(`#provenance li:first-child a[data-id="${ids.transferTxid}"]`);
    await page.waitForSelector('.story');
    const story = await page.$eval('.story', (s) => s.textContent ?? '');
    assert.match(story, new RegExp(`Bitmark ${ids.bitmark.slice(0, 10)}.*moved from .* to `));
    assert.match(story, /Fee: \d/);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a split bitmark shows its split, holders and moves; an address the shares it holds', async () => {
    const { ids } = scene;
    const { page, problems } = await open(`#/bitmark/${ids.sharedBitmark}`);
    await page.waitForSelector('#share-holders');
    const last = await page.$eval('#provenance li:first-child', (li) => li.textContent ?? '');
    assert.match(last, /Split into 1,?000 shares/);
    const holders = await page.$$eval('#share-holders tbody tr', (trs) =>
      trs.map((tr) => tr.textContent ?? ''),
    );
    assert.equal(holders.length, 2);
    assert.ok(
      holders.some((t) => /250/.test(t) && /25\.0%/.test(t)),
      holders.join(' | '),
    );
    assert.ok(
      holders.some((t) => /750/.test(t) && /75\.0%/.test(t)),
      holders.join(' | '),
    );
    const moves = await page.$$eval('#share-moves [data-id]', (as) =>
      as.map((a) => a.getAttribute('data-id')),
    );
    assert.ok(moves.includes(ids.splitTxid) && moves.includes(ids.grantTxid), 'split and grant listed');
    assert.deepEqual(problems, []);
    await page.close();
    const a = await open(`#/address/${ids.receiver}`);
    await a.page.waitForSelector('#shares-held');
    const held = await a.page.$eval('#shares-held tbody', (t) => t.textContent ?? '');
    assert.match(held, /250/);
    assert.match(held, /25\.0% of 1,?000/);
    const tx = await open(`#/tx/${ids.grantTxid}`);
    await tx.page.waitForSelector('.story');
    assert.match(await tx.page.$eval('.story', (s) => s.textContent ?? ''), /250 shares of bitmark/);
    assert.deepEqual([...a.problems, ...tx.problems], []);
    await a.page.close();
    await tx.page.close();
  });
});
