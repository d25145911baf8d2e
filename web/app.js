// tutti web client: join a room over the /ws signalling socket (docs/webrtc-protocol.md),
// send the microphone and play the room's mix over one RTCPeerConnection, show who is there
// and who talks, and carry the room's chat. Plain ES module, no build step.
import { Roster } from './roster.js';

const $ = (id) => document.getElementById(id);
const room = decodeURIComponent(location.pathname.replace(/^\/+/, '').split('/')[0] || '') || 'lobby';
const wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
const MAX_RETRIES = 5;
const NET_LABEL = { irc: 'IRC', xmpp: 'XMPP', phone: 'phone', sip: 'phone' };

const app = {
  state: 'idle', reason: '', ws: null, pc: null, mic: null, me: null, muted: false,
  name: '', pin: '', retries: 0, wantOpen: false, pendingCands: [], remoteSet: null,
  chat: [], errors: [], roster: null, levelTimer: null, audioCtx: null,
};
window.tutti = app;   // for tests and for the curious

function setState(state, reason = '') {
  app.state = state;
  app.reason = reason;
  const text = { idle: 'Not connected', connecting: 'Connecting…', connected: 'Connected',
                 reconnecting: 'Reconnecting…', failed: 'Failed' }[state] || state;
  $('status').textContent = reason ? `${text}: ${reason}` : text;
  $('status').dataset.state = state;
}

function send(obj) {
  if (app.ws && app.ws.readyState === WebSocket.OPEN) app.ws.send(JSON.stringify(obj));
}

// ---- media ----

async function getMic() {
  if (app.mic) return app.mic;
  // ?processing=off turns the browser's voice processing off (tests send pure tones,
  // which noise suppression would treat as noise).
  const on = new URLSearchParams(location.search).get('processing') !== 'off';
  app.mic = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: on, noiseSuppression: on, autoGainControl: on },
  });
  startMeter(app.mic);
  return app.mic;
}

function startMeter(stream) {
  try {
    app.audioCtx = app.audioCtx || new AudioContext();
    const src = app.audioCtx.createMediaStreamSource(stream);
    const an = app.audioCtx.createAnalyser();
    an.fftSize = 1024;
    src.connect(an);
    const buf = new Float32Array(an.fftSize);
    clearInterval(app.levelTimer);
    app.levelTimer = setInterval(() => {
      an.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      const rms = Math.sqrt(sum / buf.length);
      $('level').value = app.muted ? 0 : Math.min(1, rms * 3);
    }, 100);
  } catch (e) { /* no meter: not fatal */ }
}

async function startMedia() {
  const pc = new RTCPeerConnection({ iceServers: [] });
  app.pc = pc;
  app.pendingCands = [];
  let offerSent = false;
  const early = [];
  pc.onicecandidate = (e) => {
    const msg = { type: 'candidate', candidate: e.candidate ? e.candidate.candidate : null };
    if (offerSent) send(msg); else early.push(msg);
  };
  pc.ontrack = (e) => {
    const audio = $('remote-audio');
    audio.srcObject = e.streams[0] || new MediaStream([e.track]);
    audio.play().catch(() => {});
  };
  pc.onconnectionstatechange = () => {
    if (pc !== app.pc) return;
    if (pc.connectionState === 'connected') { app.retries = 0; setState('connected'); }
    if (pc.connectionState === 'disconnected') setState('reconnecting', 'media interrupted');
    if (pc.connectionState === 'failed') setState('failed', 'no media path to the bridge');
  };
  const mic = await getMic();
  for (const t of mic.getAudioTracks()) { t.enabled = !app.muted; pc.addTrack(t, mic); }
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  send({ type: 'offer', sdp: pc.localDescription.sdp });
  offerSent = true;
  early.forEach(send);
}

async function onAnswer(sdp) {
  app.remoteSet = app.pc.setRemoteDescription({ type: 'answer', sdp });
  await app.remoteSet;
  for (const c of app.pendingCands) await addCandidate(c);
  app.pendingCands = [];
}

async function addCandidate(m) {
  if (!app.pc) return;
  if (!app.remoteSet) { app.pendingCands.push(m); return; }
  await app.remoteSet;
  try {
    if (m.candidate) await app.pc.addIceCandidate({ candidate: m.candidate, sdpMid: m.sdpMid,
                                                   sdpMLineIndex: m.sdpMLineIndex });
    else await app.pc.addIceCandidate();
  } catch (e) { app.errors.push('candidate: ' + e.message); }
}

function stopMedia() {
  if (app.pc) { app.pc.close(); app.pc = null; }
  app.remoteSet = null;
}

// ---- signalling ----

function connect() {
  app.wantOpen = true;
  setState(app.retries ? 'reconnecting' : 'connecting');
  const ws = new WebSocket(wsUrl);
  app.ws = ws;
  ws.onopen = () => send({ type: 'join', room, name: app.name, pin: app.pin || undefined });
  ws.onmessage = (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    handle(m).catch((err) => { app.errors.push(String(err)); setState('failed', err.message || String(err)); });
  };
  ws.onclose = () => {
    if (ws !== app.ws) return;
    stopMedia();
    if (!app.wantOpen) return;
    if (app.retries < MAX_RETRIES && app.me) {
      app.retries++;
      setState('reconnecting');
      setTimeout(connect, 500 * 2 ** (app.retries - 1));
    } else if (app.state !== 'failed') {
      setState('failed', 'lost the connection to the bridge');
    }
  };
}

async function handle(m) {
  switch (m.type) {
    case 'hello': break;
    case 'joined':
      app.me = m.id;
      app.roster.reset(m.roster, m.id);
      $('join-form').hidden = true;
      $('call').hidden = false;
      localStorage.setItem('tutti.name', app.name);
      await startMedia();
      break;
    case 'answer': await onAnswer(m.sdp); break;
    case 'candidate': await addCandidate(m); break;
    case 'roster': app.roster.event(m.event, m.who); break;
    case 'chat': addChat(m.from, m.text, m.action, m.notice); break;
    case 'error': onError(m); break;
    case 'bye':
      app.wantOpen = false;
      stopMedia();
      setState('failed', m.reason || 'hung up by the bridge');
      break;
    case 'left': break;
    case 'pong': break;
    default: break;
  }
}

function onError(m) {
  app.errors.push(m.code + ': ' + m.message);
  if (m.about === 'join') {
    app.wantOpen = false;
    app.ws.close();
    $('join-form').hidden = false;
    $('call').hidden = true;
    if (m.code === 'denied') {
      $('pin-row').hidden = false;
      $('pin').focus();
    }
    setState('failed', m.message);
  } else if (m.about === 'offer') {
    setState('failed', 'media: ' + m.message);
  }
}

// ---- chat ----

function addChat(from, text, action, notice) {
  app.chat.push({ from: from ? from.name : '', network: from ? from.network : '', text });
  const li = document.createElement('li');
  if (notice) li.className = 'notice';
  const who = document.createElement('span');
  who.className = 'from';
  who.textContent = from ? (action ? '* ' + from.name : from.name + ':') : '';
  li.append(who, document.createTextNode(text));
  const net = from && NET_LABEL[from.network];
  if (net) {   // lines from other networks say where they come from
    const tag = document.createElement('span');
    tag.className = 'net-tag';
    tag.textContent = net;
    li.append(tag);
  }
  const log = $('chat-log');
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

// ---- controls ----

function setMuted(on) {
  app.muted = on;
  if (app.mic) for (const t of app.mic.getAudioTracks()) t.enabled = !on;
  $('mute').setAttribute('aria-pressed', String(on));
  $('mute').textContent = on ? 'Unmute' : 'Mute';
  send({ type: 'mute', muted: on });
}

function init() {
  $('room-name').textContent = room;
  document.title = `${room} · tutti`;
  app.roster = new Roster($('roster'), $('count'));
  $('name').value = localStorage.getItem('tutti.name') || '';
  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    app.name = $('name').value.trim() || 'guest';
    app.pin = $('pin').value.trim();
    app.retries = 0;
    connect();
  });
  $('mute').addEventListener('click', () => setMuted(!app.muted));
  $('leave').addEventListener('click', () => {
    app.wantOpen = false;
    send({ type: 'leave' });
    stopMedia();
    setState('idle', 'you left');
    $('call').hidden = true;
    $('join-form').hidden = false;
  });
  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('chat-input').value;
    if (!text.trim()) return;
    send({ type: 'chat', text });
    addChat({ name: app.name + ' (you)', network: 'web' }, text, false, false);
    $('chat-input').value = '';
  });
  document.addEventListener('keydown', (e) => {
    const tag = (e.target && e.target.tagName) || '';
    if (e.key.toLowerCase() === 'm' && !e.ctrlKey && !e.metaKey && !e.altKey &&
        tag !== 'INPUT' && tag !== 'TEXTAREA' && !$('call').hidden) {
      e.preventDefault();
      setMuted(!app.muted);
    }
  });
  setInterval(() => send({ type: 'ping' }), 20000);
  if (!$('name').value) $('name').focus(); else $('join').focus();
}

init();
