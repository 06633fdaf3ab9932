/**
 * `npm run screenshots`: regenerates the PNG screenshots of the explorer in docs/explorer/ from a
 * real chain (test/helpers/explorer-scene.ts: cairnd, a recorder, a user's story through the CLI),
 * taken by Debian's headless Chromium (CHROMIUM=path to use another) at desktop and phone widths.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Page } from 'puppeteer-core';
import { explorerScene } from '../test/helpers/explorer-scene.ts';

const OUT = fileURLToPath(new URL('../docs/explorer/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) {
  console.error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM=path)`);
  process.exit(1);
}
mkdirSync(OUT, { recursive: true });
const scene = await explorerScene({ recorderCpu: 15 });
const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--font-render-hinting=none'],
});
try {
  // let the mempool and hash-rate samples (every 5 s) draw a line
  await new Promise((r) => setTimeout(r, 16_000));
  const { ids } = scene;
  const shots: [name: string, hash: string, width: number, ready: string][] = [
    ['home', '#/', 1280, '#latest-blocks'],
    ['bitmark', `#/bitmark/${ids.bitmark}`, 1280, '#provenance'],
    ['transaction', `#/tx/${ids.transferTxid}`, 1280, '.story'],
    ['asset', `#/asset/${ids.assetId}`, 1280, 'pre.meta'],
    ['address', `#/address/${ids.address}`, 1280, '.pager'],
    ['assets', '#/assets', 1280, 'table'],
    ['mempool', '#/mempool', 1280, 'table'],
    ['network', '#/network', 1280, 'table'],
    ['phone-home', '#/', 390, '#latest-blocks'],
    ['phone-bitmark', `#/bitmark/${ids.bitmark}`, 390, '#provenance'],
  ];
  for (const [name, hash, width, ready] of shots) {
    const page: Page = await browser.newPage();
    await page.setViewport({ width, height: width < 600 ? 844 : 900, deviceScaleFactor: 1 });
    await page.goto(`${scene.url}/explorer/${hash}`, { waitUntil: 'networkidle2' });
    await page.waitForSelector(ready);
    await new Promise((r) => setTimeout(r, 500));
    await page.screenshot({ path: `${OUT}${name}.png`, fullPage: true });
    console.log(`docs/explorer/${name}.png`);
    await page.close();
  }
} finally {
  await browser.close();
  await scene.stop();
}
