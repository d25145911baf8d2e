// failover.mjs: a browser whose node dies lands on another node of the cluster by itself.
// Input: env TT_FAILOVER = JSON {base, room, wav, chromium, freqs}. Prints one JSON line
// {"event": "joined", ...} once the page is in the call (the Python test then kills that
// node), {"event": "reconnected", ...} when it is connected again elsewhere (how long it took,
// on which node), then waits for a line on stdin (the test adds a phone there) and ends with
// one result line: what the page hears.
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { flags, hear, join, until } from './lib.mjs';

const cfg = JSON.parse(process.env.TT_FAILOVER);
const log = (...a) => console.error('[failover]', ...a);
const out = { ok: false };
const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise((r) => stdin.once('line', r));
let browser;
try {
  browser = await chromium.launch({ executablePath: cfg.chromium, headless: true,
                                    args: flags(cfg.wav) });
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => log('page:', m.text()));
  await join(page, 'Eve', { url: `${cfg.base}/${cfg.room}` });
  await until(() => page.evaluate(() => window.tutti.peers.length > 0), 20000,
              'the page to learn the other nodes');
  const first = await page.evaluate(() => ({ base: window.tutti.base, node: window.tutti.node,
                                             peers: window.tutti.peers }));
  console.log(JSON.stringify({ event: 'joined', ...first }));
  await until(() => page.evaluate(() => window.tutti.state !== 'connected'), 60000,
              'the page to notice its node is gone');
  const t0 = Date.now();
  const states = [];
  const poll = setInterval(async () => {
    try { states.push(await page.evaluate(() => window.tutti.state + ':' + window.tutti.reason)); } catch { /* closing */ }
  }, 250);
  try {
    await page.waitForFunction(() => window.tutti.state === 'connected' &&
                               window.tutti.base !== location.origin, null, { timeout: 90000 });
  } finally {
    clearInterval(poll);
  }
  out.failover_ms = Date.now() - t0;
  out.states = [...new Set(states)];
  out.base = await page.evaluate(() => window.tutti.base);
  console.log(JSON.stringify({ event: 'reconnected', failover_ms: out.failover_ms,
                               base: out.base, states: out.states }));
  await nextLine();
  out.heard = await hear(page, cfg.freqs, 3000);
  out.roster = await page.evaluate(() => [...window.tutti.roster.people.values()].map((e) => e.network));
  out.ok = true;
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  if (browser) await browser.close();
  stdin.close();
}
console.log(JSON.stringify(out));
