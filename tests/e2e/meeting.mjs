// meeting.mjs: two real Chromium browsers run a meeting against a running tutti (see
// test_meeting_e2e.py). Input: env TT_E2E = JSON {base, room, modPin, wavA, wavB, freqA,
// freqB, out, docs, chromium}. Mia (moderator by PIN, starting from the page at /) and Bob
// (plain) join; we read what each page shows and hears. Output: one JSON line of
// measurements on stdout; the Python test asserts on it.
import { chromium } from 'playwright-core';
import path from 'node:path';
import { flags, hear, join, sleep, until } from './lib.mjs';

const cfg = JSON.parse(process.env.TT_E2E);
const log = (...a) => console.error('[meeting]', ...a);

const rosterCtl = (page, id) => page.evaluate((id) => {
  const li = document.querySelector(`#roster li[data-id="${id}"]`);
  return li ? [...li.querySelectorAll('.ctl button')].map((b) => b.dataset.action) : null;
}, id);
const anyCtl = (page) => page.evaluate(() => document.querySelectorAll('#roster .ctl').length);
const handQueue = (page) => page.evaluate(() => [...document.querySelectorAll('#hands li')]
  .map((li) => li.textContent));
const errors = (page) => page.evaluate(() => window.tutti.errors);
const mine = (page) => page.evaluate(() => window.tutti.roster.mine());

const out = { ok: false };
let browsers = [];
try {
  browsers = await Promise.all([cfg.wavA, cfg.wavB].map((w) =>
    chromium.launch({ executablePath: cfg.chromium, headless: true, args: flags(w) })));

  // 1. the page at / asks for a room; Mia types it, and her moderator PIN
  const actx = await browsers[0].newContext({ viewport: { width: 1180, height: 900 } });
  const a = await actx.newPage();
  a.on('console', (m) => { if (m.type() === 'error') log('Mia console:', m.text()); });
  await a.goto(`${cfg.base}/?processing=off`);
  out.root_asks_room = await a.evaluate(() => !document.getElementById('room-row').hidden &&
    document.getElementById('room').required && document.activeElement.id === 'room');
  await a.screenshot({ path: path.join(cfg.out, 'meeting-start.png') });
  await a.fill('#name', 'Mia');
  await a.click('#join');   // no room yet: the form refuses, nothing is sent
  out.root_refused_empty = await a.evaluate(() => window.tutti.state === 'idle' && !window.tutti.ws);
  await a.fill('#room', cfg.room);
  await a.click('#have-pin');
  await a.fill('#pin', cfg.modPin);
  await join(a, 'Mia');
  out.root_path = await a.evaluate(() => location.pathname);
  const b = await join(await (await browsers[1].newContext({ viewport: { width: 900, height: 800 } })).newPage(),
                       'Bob', { url: `${cfg.base}/${cfg.room}?processing=off` });
  const idA = await a.evaluate(() => window.tutti.me);
  const idB = await b.evaluate(() => window.tutti.me);
  await until(() => a.evaluate((id) => !!window.tutti.roster.people.get(id), idB), 10000, 'Bob in Mia\'s roster');

  // 2. controls: on Bob's line for Mia; nowhere for Bob; the room box only for Mia
  await until(async () => (await rosterCtl(a, idB) || []).length > 0, 5000, 'controls for Mia');
  out.mod_ctl_on_bob = await rosterCtl(a, idB);
  out.mod_ctl_on_self = await rosterCtl(a, idA);
  out.bob_ctl_count = await anyCtl(b);
  out.mod_box = await a.evaluate(() => !document.getElementById('mod-box').hidden);
  out.bob_mod_box = await b.evaluate(() => !document.getElementById('mod-box').hidden);

  // 3. Bob's tone as Mia hears it, then muted by Mia, then unmuted
  await sleep(1500);
  const freqs = [cfg.freqA, cfg.freqB];
  out.heard_before = await hear(a, freqs, 2500);
  // from the keyboard: the controls are real buttons in the tab order
  out.controls_reachable = await a.evaluate(() => [...document.querySelectorAll(
    '#roster .ctl button, #mod-box button, #hand, #doors button')].every((b) =>
    b.tagName === 'BUTTON' && b.tabIndex >= 0 && (b.getAttribute('aria-label') || b.textContent).trim()));
  await a.focus(`#roster li[data-id="${idB}"] button[data-action="mute"]`);
  await a.keyboard.press('Enter');
  await until(async () => { const m = await mine(b); return m && m.muted && m.muted_by_moderator; },
              5000, 'Bob muted by a moderator');
  await sleep(300);
  out.focus_after_mute = await a.evaluate(() => document.activeElement.dataset.action || document.activeElement.tagName);
  out.bob_button_after_mute = await b.evaluate(() => document.getElementById('mute').textContent);
  out.bob_notice = await b.evaluate(() => document.getElementById('notice-text').textContent);
  await sleep(1000);
  out.heard_muted = await hear(a, freqs, 2500);
  // Bob tries to unmute himself: the room says self_unmute = false
  await b.click('#chat-title');
  await b.keyboard.press('m');
  await until(async () => (await errors(b)).some((e) => e.startsWith('not_allowed')), 5000,
              'Bob\'s unmute refused');
  out.bob_still_muted = await b.evaluate(() => window.tutti.muted);
  await a.click(`#roster li[data-id="${idB}"] button[data-action="unmute"]`);
  await until(async () => { const m = await mine(b); return m && !m.muted; }, 5000, 'Bob unmuted');
  await sleep(1500);
  out.heard_unmuted = await hear(a, freqs, 2500);
  log('Mia hears', out.heard_before, out.heard_muted, out.heard_unmuted);

  // 4. a non-moderator's moderate, sent by hand over Bob's socket: not_allowed
  await b.evaluate(() => window.tutti.ws.send(JSON.stringify({ type: 'moderate', action: 'lock' })));
  await until(async () => (await errors(b)).filter((e) => e.startsWith('not_allowed')).length >= 2,
              5000, 'Bob\'s lock refused');
  out.bob_errors = await errors(b);

  // 5. hands: Bob first (keyboard H), then Mia (button); both see the same queue
  await b.keyboard.press('h');
  await until(async () => (await handQueue(a)).length === 1, 5000, 'Bob\'s hand at Mia');
  await a.click('#hand');
  await until(async () => (await handQueue(b)).length === 2, 5000, 'two hands at Bob');
  out.queue_a = await handQueue(a);
  out.queue_b = await handQueue(b);
  out.hand_button_b = await b.evaluate(() => document.getElementById('hand').getAttribute('aria-pressed'));
  out.hand_ctl = await rosterCtl(a, idB);
  // the moderator's view, with Bob's controls and the queue: for docs/
  await a.evaluate(() => document.activeElement && document.activeElement.blur());
  await a.screenshot({ path: path.join(cfg.docs, 'meeting-moderator.png'), fullPage: true });
  await b.screenshot({ path: path.join(cfg.out, 'meeting-participant.png'), fullPage: true });
  await a.click(`#roster li[data-id="${idB}"] button[data-action="lower_hand"]`);
  await until(async () => (await handQueue(b)).length === 1, 5000, 'Bob\'s hand lowered');
  out.queue_after_lower = await handQueue(b);

  // 6. lock: a third browser is refused with a clear message; unlock lets it in
  await a.focus('#mod-lock');
  await a.keyboard.press('Space');
  await until(() => a.evaluate(() => window.tutti.roomState.locked), 5000, 'locked');
  const cctx = await browsers[0].newContext({ viewport: { width: 800, height: 600 } });
  const c = await cctx.newPage();
  await c.goto(`${cfg.base}/${cfg.room}?processing=off`);
  await c.fill('#name', 'Cat');
  await c.click('#join');
  await until(() => c.evaluate(() => window.tutti.state === 'failed'), 10000, 'Cat refused');
  out.locked_status = await c.evaluate(() => document.getElementById('status').textContent);
  out.locked_errors = await errors(c);
  out.locked_title = await a.evaluate(() => document.getElementById('room-name').textContent);
  await a.click('#mod-lock');
  await until(() => a.evaluate(() => !window.tutti.roomState.locked), 5000, 'unlocked');
  await c.click('#join');
  await c.waitForFunction(() => window.tutti.state === 'connected', null, { timeout: 20000 });
  out.cat_joined_after_unlock = true;
  await cctx.close();

  // 6b. grant: Bob becomes a moderator and gets the controls; revoke takes them away
  await a.click(`#roster li[data-id="${idB}"] button[data-action="grant"]`);
  await until(() => b.evaluate(() => !document.getElementById('mod-box').hidden), 5000, 'Bob granted');
  out.granted_ctl = await rosterCtl(b, idA);
  await a.click(`#roster li[data-id="${idB}"] button[data-action="revoke"]`);
  await until(() => b.evaluate(() => document.getElementById('mod-box').hidden), 5000, 'Bob revoked');
  out.revoked_ctl_count = await anyCtl(b);

  // 7. the ways in: every door, with a link and a copy button
  out.doors = await a.evaluate(() => [...document.querySelectorAll('#doors li')].map((li) => ({
    network: li.dataset.network, label: li.querySelector('.door-label').textContent,
    uri: li.querySelector('a').getAttribute('href'),
    copy: !!li.querySelector('button') })));
  await a.locator('.doors').screenshot({ path: path.join(cfg.docs, 'meeting-doors.png') });

  // 8. recording: Mia starts it, Bob sees the banner and declines (muted while it runs),
  // Mia stops it and the banner goes
  await a.click('#mod-record');
  await until(() => b.evaluate(() => !document.getElementById('rec-banner').hidden), 10000,
              'the banner at Bob');
  out.banner = await b.evaluate(() => ({
    text: document.getElementById('rec-text').textContent,
    decline: !document.getElementById('decline').hidden,
    role: document.getElementById('rec-banner').getAttribute('role') }));
  // Mia's room_state may come after Bob's banner: wait for it (a timeout leaves the text
  // for the check to report)
  await until(() => a.evaluate(() =>
    document.getElementById('mod-record').textContent === 'Stop recording'), 10000,
  'the record button at Mia').catch(() => {});
  out.record_button = await a.evaluate(() => document.getElementById('mod-record').textContent);
  await b.click('#decline');
  await until(async () => { const m = await mine(b); return m && m.declined && m.muted; }, 5000,
              'Bob declined and muted');
  out.bob_declined_muted = await b.evaluate(() => window.tutti.muted);
  await b.screenshot({ path: path.join(cfg.out, 'meeting-recording-banner.png') });
  await a.click('#mod-record');
  await until(() => b.evaluate(() => document.getElementById('rec-banner').hidden), 10000,
              'the banner gone');
  out.banner_gone = true;

  // 9. the meeting log as Bob saw it, then the end
  out.bob_meetings = await b.evaluate(() => window.tutti.meetings.map((m) => m.action));
  out.bob_meeting_texts = await b.evaluate(() => window.tutti.chat.map((c) => c.text));
  await a.click('#mod-end');
  await until(() => b.evaluate(() => window.tutti.state === 'failed'), 10000, 'Bob hung up by the end');
  out.bob_end_status = await b.evaluate(() => document.getElementById('status').textContent);
  out.unlabelled = await a.evaluate(() => [...document.querySelectorAll('input')]
    .filter((i) => !i.labels || i.labels.length === 0).map((i) => i.id));
  out.ok = true;
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  await Promise.all(browsers.map((br) => br.close().catch(() => {})));
}
console.log(JSON.stringify(out));
