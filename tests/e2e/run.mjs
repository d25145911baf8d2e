// run.mjs: drive real Chromium (Debian's, through playwright-core) against a running tutti.
// Input: env TT_E2E = JSON {base, room, control, wavA, wavB, freqA, freqB, freqR, out}.
// Two browsers join with different tones; we measure what each hears, watch the roster's
// talking indicators, exchange chat with a test-gateway participant, take screenshots.
// Output: one JSON line of measurements on stdout (the Python test asserts on it).
import { chromium } from 'playwright-core';
import net from 'node:net';
import path from 'node:path';
import { flags, hear, sleep, until } from './lib.mjs';

const cfg = JSON.parse(process.env.TT_E2E);
const log = (...a) => console.error('[e2e]', ...a);

// The test gateway's control socket: JSON lines both ways.
function testgw(sockPath) {
  const sock = net.connect(sockPath);
  let buf = '';
  const events = [];
  const waiters = [];
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (line.reply) waiters.shift()(line); else events.push(line);
    }
  });
  return {
    events,
    cmd: (obj) => new Promise((res) => { waiters.push(res); sock.write(JSON.stringify(obj) + '\n'); }),
    close: () => sock.end(),
  };
}

async function join(browser, name, width, height) {
  const ctx = await browser.newContext({ viewport: { width, height } });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') log(name, 'console:', m.text()); });
  await page.goto(`${cfg.base}/${cfg.room}?processing=off`);
  await page.fill('#name', name);
  await page.click('#join');
  try {
    await page.waitForFunction(() => window.tutti && window.tutti.state === 'connected', null,
                               { timeout: 20000 });
  } catch (e) {
    const diag = await page.evaluate(() => ({
      state: window.tutti.state, reason: window.tutti.reason, errors: window.tutti.errors,
      pc: window.tutti.pc && { conn: window.tutti.pc.connectionState,
                               ice: window.tutti.pc.iceConnectionState,
                               sig: window.tutti.pc.signalingState,
                               remote: window.tutti.pc.remoteDescription &&
                                       window.tutti.pc.remoteDescription.sdp } }));
    throw new Error(`${name} did not connect: ${JSON.stringify(diag)}`);
  }
  return page;
}

const out = { ok: false };
let browsers = [];
const gw = testgw(cfg.control);
try {
  const bot = await gw.cmd({ cmd: 'join', room: cfg.room, name: 'ircbot', caps: ['text'] });
  if (!bot.ok) throw new Error('testgw join: ' + JSON.stringify(bot));
  const t0 = Date.now();
  browsers = await Promise.all([cfg.wavA, cfg.wavB].map((w) =>
    chromium.launch({ executablePath: cfg.chromium, headless: true, args: flags(w) })));
  const [a, b] = await Promise.all([join(browsers[0], 'Alice', 1100, 720),
                                    join(browsers[1], 'Bob', 390, 780)]);
  out.connect_ms = Date.now() - t0;
  const idB = await b.evaluate(() => window.tutti.me);
  log('both connected in', out.connect_ms, 'ms');
  await sleep(1500);   // jitter buffers fill, tones reach the mix

  // 1. who hears what
  const freqs = [cfg.freqA, cfg.freqB, cfg.freqR];
  [out.heardA, out.heardB] = await Promise.all([hear(a, freqs, 3500), hear(b, freqs, 3500)]);
  log('A hears', out.heardA, 'B hears', out.heardB);

  // 2. B's tone is gated: A's roster shows B talking, then not, then talking again
  const seen = [];
  const end = Date.now() + 6000;
  while (Date.now() < end) {
    const s = await a.evaluate((id) => {
      const li = document.querySelector(`#roster li[data-id="${id}"]`);
      return { model: window.tutti.roster.talking(id), dom: !!(li && li.classList.contains('talking')) };
    }, idB);
    if (!seen.length || seen[seen.length - 1].model !== s.model) seen.push(s);
    await sleep(50);
  }
  out.talking_changes = seen.length - 1;
  out.talking_dom_agrees = seen.every((s) => s.model === s.dom);
  out.roster_a = await a.evaluate(() => [...window.tutti.roster.people.values()]
    .map((e) => ({ name: e.name, network: e.network })));

  // 3. chat: typed in A, seen by B and by the test gateway; the bot's line seen by both
  await a.fill('#chat-input', 'hello from Alice');
  await a.press('#chat-input', 'Enter');
  await until(() => b.evaluate(() => window.tutti.chat.some((c) => c.text === 'hello from Alice')),
              5000, 'chat in B');
  await until(() => gw.events.some((e) => e.ev === 'text' && e.text === 'hello from Alice'),
              5000, 'chat at the test gateway');
  out.chat_b = true;
  out.chat_gw = gw.events.find((e) => e.ev === 'text' && e.text === 'hello from Alice').from;
  const said = await gw.cmd({ cmd: 'say', id: bot.id, text: 'hello from the test network' });
  if (!said.ok) throw new Error('say: ' + JSON.stringify(said));
  for (const p of [a, b])
    await until(() => p.evaluate(() => window.tutti.chat.some((c) => c.text === 'hello from the test network')),
                5000, 'bot line in a browser');
  out.bot_line_seen = true;
  out.a_self_lines = await a.evaluate(() => window.tutti.chat.filter((c) => c.text === 'hello from Alice').length);

  // 4. mute with the keyboard: the others see it in the roster
  await b.click('#chat-title');   // focus outside the text field
  await b.keyboard.press('m');
  await until(() => a.evaluate((id) => { const e = window.tutti.roster.people.get(id); return e && e.muted; }, idB),
              5000, 'B muted in A\'s roster');
  out.mute_seen = true;
  await b.keyboard.press('m');

  // 5. screenshots: desktop and phone-sized
  await sleep(500);
  await a.screenshot({ path: path.join(cfg.out, 'webrtc-room.png') });
  await b.screenshot({ path: path.join(cfg.out, 'webrtc-room-phone.png') });
  out.errors = await a.evaluate(() => window.tutti.errors);

  // 6. a room with a PIN: the client asks for it, then joins; every input has a label
  const pctx = await browsers[0].newContext({ viewport: { width: 800, height: 600 } });
  const pin = await pctx.newPage();
  await pin.goto(`${cfg.base}/${cfg.pinRoom}?processing=off`);
  out.unlabelled = await pin.evaluate(() => [...document.querySelectorAll('input')]
    .filter((i) => !i.labels || i.labels.length === 0).map((i) => i.id));
  await pin.fill('#name', 'Carol');
  await pin.click('#join');
  await pin.waitForSelector('#pin-row:not([hidden])', { timeout: 5000 });
  out.pin_prompt_state = await pin.evaluate(() => window.tutti.state);
  await pin.fill('#pin', cfg.pin);
  await pin.click('#join');
  await pin.waitForFunction(() => window.tutti.state === 'connected', null, { timeout: 20000 });
  out.pin_joined = true;
  await pctx.close();
  out.ok = true;
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  await Promise.all(browsers.map((br) => br.close().catch(() => {})));
  gw.close();
}
console.log(JSON.stringify(out));
