// turn.mjs: Chromium in a network namespace from which the bridge's UDP is dropped
// (test_turn_e2e.py sets that up): its media can only go through the TURN relay.
// Input: env TT_TURN = JSON {base, room, wav, chromium, freqs, controlMs, steps}.
// Steps:
// - control: the page's RTCPeerConnection is given no ICE servers (the bridge's answer is
//   overridden in the page): it must NOT connect within controlMs, proving the block works.
// - relay: the page as it is, with the bridge's ice_servers: it must connect, hear the
//   others, and its selected candidate pair must be a relay one.
// - bridge_relay: no ICE servers in the page, but the bridge's own agent has a TURN relay
//   ([webrtc] turn_server): the page connects to the bridge's relayed candidate.
// Output: one JSON line of measurements on stdout (the Python test asserts on it).
import { chromium } from 'playwright-core';
import { flags, hear, join, sleep } from './lib.mjs';

const cfg = JSON.parse(process.env.TT_TURN);
const log = (...a) => console.error('[turn]', ...a);

// The selected pair from getStats: the types and addresses of both ends.
async function selectedPair(page) {
  return page.evaluate(async () => {
    const stats = await window.tutti.pc.getStats();
    let pairId = null;
    stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
    const pair = pairId && stats.get(pairId);
    if (!pair) return null;
    const l = stats.get(pair.localCandidateId), r = stats.get(pair.remoteCandidateId);
    return { state: pair.state, local: { type: l.candidateType, address: l.address, port: l.port,
                                         relayProtocol: l.relayProtocol, url: l.url },
             remote: { type: r.candidateType, address: r.address, port: r.port },
             bytesReceived: pair.bytesReceived, bytesSent: pair.bytesSent };
  });
}

const out = { ok: false };
let browser;
try {
  browser = await chromium.launch({ executablePath: cfg.chromium, headless: true,
                                    // the microphone needs a secure context: the
                                    // bridge is http on the veth's address, not localhost
                                    args: [...flags(cfg.wav),
                                           `--unsafely-treat-insecure-origin-as-secure=${cfg.base}`] });
  const noServers = () => {
    const Orig = window.RTCPeerConnection;
    window.RTCPeerConnection = function (conf) { return new Orig({ ...(conf || {}), iceServers: [] }); };
    window.RTCPeerConnection.prototype = Orig.prototype;
  };
  // control: no ICE servers, whatever the bridge says
  if (cfg.steps.includes('control')) {
    const ctx = await browser.newContext();
    await ctx.addInitScript(noServers);
    const page = await ctx.newPage();
    await page.goto(`${cfg.base}/${cfg.room}?processing=off`);
    await page.fill('#name', 'Blocked');
    await page.click('#join');
    const end = Date.now() + cfg.controlMs;
    let connected = false;
    const iceSeen = new Set();
    while (Date.now() < end && !connected) {
      const st = await page.evaluate(() => ({ state: window.tutti.state,
                                              ice: window.tutti.pc && window.tutti.pc.iceConnectionState }));
      connected = st.state === 'connected';
      if (st.ice) iceSeen.add(st.ice);
      await sleep(200);
    }
    out.control = await page.evaluate(() => ({
      state: window.tutti.state, reason: window.tutti.reason, joined: !!window.tutti.me,
      errors: window.tutti.errors,
      ice: window.tutti.pc && window.tutti.pc.iceConnectionState,
      servers: window.tutti.iceServers }));
    out.control.connected = connected;
    out.control.ice_seen = [...iceSeen];
    log('control', JSON.stringify(out.control));
    await ctx.close();
  }
  // relay (or bridge_relay: the page without ICE servers)
  const ctx = await browser.newContext();
  if (cfg.steps.includes('bridge_relay')) await ctx.addInitScript(noServers);
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') log('console:', m.text()); });
  const t0 = Date.now();
  await join(page, 'Relayed', { url: `${cfg.base}/${cfg.room}?processing=off`, timeout: 45000 });
  out.connect_ms = Date.now() - t0;
  out.ice_servers = await page.evaluate(() => window.tutti.iceServers);
  log('connected in', out.connect_ms, 'ms; servers', JSON.stringify(out.ice_servers));
  await sleep(1500);   // jitter buffers fill
  out.heard = await hear(page, cfg.freqs, 3500);
  out.pair = await selectedPair(page);
  log('heard', JSON.stringify(out.heard), 'pair', JSON.stringify(out.pair));
  out.errors = await page.evaluate(() => window.tutti.errors);
  out.ok = true;
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  if (browser) await browser.close().catch(() => {});
}
console.log(JSON.stringify(out));
