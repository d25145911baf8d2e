// tutti web client: join a room over the /ws signalling socket (docs/webrtc-protocol.md),
// send the microphone and play the room's mix over one RTCPeerConnection, show who is there
// and who talks, and carry the room's chat; the meeting: hands, a moderator's controls,
// the recording banner, the ways into the room. Plain ES module, no build step.
import { Roster } from './roster.js';

const $ = (id) => document.getElementById(id);
// The room is the first path segment (/ROOM); the page at / asks for one.
let room = decodeURIComponent(location.pathname.replace(/^\/+/, '').split('/')[0] || '');
const ROOM_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;
// The node this page talks to: its own at first, another node of the cluster after a failover.
const wsOf = (base) => base.replace(/^http/, 'ws') + '/ws';
// A lost connection is retried for this long, with pauses of 0.5, 1, 2, then 3 s: long enough
// for a restarted bridge, or for a cluster's directory to let go of a dead node (ttl_s).
const RETRY_MS = 60000;
const NET_LABEL = { irc: 'IRC', xmpp: 'XMPP', phone: 'phone', sip: 'phone' };

const app = {
  state: 'idle', reason: '', ws: null, pc: null, mic: null, me: null, muted: false,
  name: '', pin: '', retries: 0, wantOpen: false, pendingCands: [], remoteSet: null,
  base: location.origin, peers: [], lostAt: 0, unreachable: new Set(), node: null,
  roomWait: false,
  chat: [], errors: [], roster: null, levelTimer: null, audioCtx: null,
  roomState: {}, doors: [], meetings: [], hand: false, lastMine: null,
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
  // the bridge's STUN/TURN servers ([webrtc] ice_servers), TURN with short-lived credentials
  const pc = new RTCPeerConnection({ iceServers: app.iceServers || [] });
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

// ---- the other nodes of a cluster (docs/scale-out.md) ----

// Learnt from the node after each join: where to go if it dies. Only this page's own node
// is asked (same origin); after a failover the list learnt before still names the others.
async function learnPeers() {
  if (app.base !== location.origin) return;
  try {
    const r = await fetch('/api/cluster');
    if (!r.ok) return;
    const j = await r.json();
    app.node = j.node || null;
    if (Array.isArray(j.peers))
      app.peers = j.peers.map((p) => p && p.url).filter((u) => typeof u === 'string' && /^https?:\/\//.test(u))
        .map((u) => u.replace(/\/+$/, ''));
  } catch { /* a single node, or an old one: nowhere else to go */ }
}

// Where the next attempt goes: the node that was lost first, then each other node in turn
// (least loaded first), so a dead node costs one failed attempt per round.
function nextBase() {
  const all = [app.base, location.origin, ...app.peers].filter((b, i, a) => a.indexOf(b) === i);
  const alive = all.filter((b) => !app.unreachable.has(b));
  return (alive.length ? alive : all)[0];
}

function retryLater() {
  const waited = Date.now() - app.lostAt;
  if (waited > RETRY_MS) {
    setState('failed', 'lost the connection to the bridge');
    return;
  }
  app.retries++;
  setState('reconnecting', app.roomWait ? 'waiting for the room to move off the lost server' : '');
  if (app.unreachable.size >= 1 + app.peers.length) app.unreachable.clear();  // a new round
  setTimeout(connect, Math.min(500 * 2 ** (app.retries - 1), 3000));
}

function connect() {
  app.wantOpen = true;
  setState(app.retries ? 'reconnecting' : 'connecting');
  if (app.retries) app.base = nextBase();
  const base = app.base;
  const ws = new WebSocket(wsOf(base));
  app.ws = ws;
  ws.onopen = () => {
    ws.opened = true;
    send({ type: 'join', room, name: app.name, pin: app.pin || undefined });
  };
  ws.onmessage = (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    handle(m).catch((err) => { app.errors.push(String(err)); setState('failed', err.message || String(err)); });
  };
  ws.onclose = () => {
    if (ws !== app.ws) return;
    stopMedia();
    if (!app.wantOpen) return;
    if (!ws.opened) app.unreachable.add(base);
    if (app.me) {
      if (!app.lostAt) app.lostAt = Date.now();
      retryLater();
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
      app.lostAt = 0;
      app.roomWait = false;
      app.unreachable.clear();
      learnPeers();
      app.lastMine = null;
      app.roomState = m.room_state || {};
      app.doors = m.doors || [];
      app.iceServers = Array.isArray(m.ice_servers) ? m.ice_servers : [];
      renderDoors();
      app.roster.reset(m.roster, m.id);
      renderRoomState();
      $('join-form').hidden = true;
      $('call').hidden = false;
      localStorage.setItem('tutti.name', app.name);
      await startMedia();
      break;
    case 'answer': await onAnswer(m.sdp); break;
    case 'candidate': await addCandidate(m); break;
    case 'roster': app.roster.event(m.event, m.who); break;
    case 'room_state': app.roomState = m.state || {}; renderRoomState(); break;
    case 'meeting': onMeeting(m); break;
    case 'chat': addChat(m.from, m.text, m.action, m.notice); break;
    case 'error': onError(m); break;
    case 'moved':
      // the room is at home on another node of the cluster: its page there (an http(s)
      // URL only; the name typed here is kept for the form there). During a failover the
      // directory may still name the node that died until its entry expires: not a place
      // to go; try again later, here or elsewhere.
      if (app.lostAt && typeof m.url === 'string' &&
          [...app.unreachable].some((b) => m.url.startsWith(b + '/'))) {
        app.roomWait = true;
        app.ws.close();
        break;
      }
      if (typeof m.url === 'string' && /^https?:\/\//.test(m.url)) {
        app.wantOpen = false;
        localStorage.setItem('tutti.name', app.name);
        setState('connecting', 'the room is on another server: going there');
        window.location.assign(m.url);
      } else {
        setState('failed', 'the room is on another server without an address');
      }
      break;
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
  } else if (m.about === 'mute') {
    // refused (a moderator's mute holds, or a declined recording runs): stay muted
    applyMuted(true);
    showNotice(m.message, false);
  } else if (m.about === 'moderate' || m.about === 'hand' || m.about === 'decline') {
    $('mod-error').textContent = m.message;
    showNotice(m.message, false);
  }
}

// ---- the meeting ----

const who = (e) => (!e ? 'the bridge' : e.id && e.id === app.me ? 'You' : e.name || 'someone');
const whom = (e) => (e && e.id === app.me ? 'you' : e ? e.name : 'someone');

function describe(m) {
  const by = who(m.by), t = whom(m.target);
  switch (m.action) {
    case 'mute': return `${by} muted ${t}`;
    case 'unmute': return `${by} unmuted ${t}`;
    case 'ask_unmute': return `${by} asks ${t} to unmute`;
    case 'mute_all': return `${by} muted everyone but the moderators (${m.count || 0})`;
    case 'kick': return `${by} removed ${t}` + (m.reason ? ` (${m.reason})` : '');
    case 'lock': return `${by} locked the room: nobody new can join`;
    case 'unlock': return `${by} unlocked the room`;
    case 'lower_hand': return m.target && m.by && m.target.id === m.by.id
      ? `${by} lowered ${m.by.id === app.me ? 'your' : 'their'} hand`
      : `${by} lowered ${t === 'you' ? 'your' : t + "'s"} hand`;
    case 'record_start': return `${by} started recording this meeting`;
    case 'record_stop': return 'Recording stopped' + (m.reason ? `: ${m.reason}` : '');
    case 'end': return `${by} ended the meeting`;
    case 'grant': return `${by} made ${t} a moderator`;
    case 'revoke': return `${by} made ${t} no longer a moderator`;
    default: return `${by}: ${m.action}`;
  }
}

function onMeeting(m) {
  const text = describe(m);
  app.meetings.push({ action: m.action, text, target: m.target && m.target.id });
  addChat(null, text, false, true);
  const toMe = m.target && m.target.id === app.me;
  if (m.action === 'ask_unmute' && toMe) showNotice('A moderator asks you to unmute.', true);
  else if ((m.action === 'mute' && toMe) || (m.action === 'mute_all' && !app.roster.amModerator()))
    showNotice(`${who(m.by)} muted you.`, false);
  else if (m.action === 'record_start' || m.action === 'record_stop') showNotice(text, false);
}

function showNotice(text, offerUnmute) {
  $('notice-text').textContent = text;
  $('notice-unmute').hidden = !offerUnmute;
  $('notice').hidden = false;
}

function moderate(action, target) {
  $('mod-error').textContent = '';
  const msg = { type: 'moderate', action };
  if (target) msg.target = target;
  send(msg);
}

// Called after every roster change: one's own line, the hand queue, the moderator's box.
function onRosterChange() {
  const mine = app.roster.mine();
  const prev = app.lastMine;
  app.lastMine = mine ? { ...mine } : null;
  if (mine) {
    // The bridge muted or unmuted us (a moderator, or a declined recording): follow it,
    // so that the microphone is really off and the button tells the truth.
    if (prev && (prev.muted_by_moderator !== mine.muted_by_moderator ||
                 (mine.declined && prev.muted !== mine.muted)) && mine.muted !== app.muted)
      applyMuted(mine.muted);
    app.hand = !!mine.hand;
    $('hand').setAttribute('aria-pressed', String(app.hand));
    $('hand').textContent = app.hand ? 'Lower hand' : 'Raise hand';
  }
  const hands = app.roster.hands();
  $('hands-box').hidden = hands.length === 0;
  $('hands').replaceChildren(...hands.map((e) => {
    const li = document.createElement('li');
    li.dataset.id = e.id;
    li.textContent = e.name + (e.id === app.me ? ' (you)' : '');
    return li;
  }));
  $('mod-box').hidden = !app.roster.amModerator();
  renderRoomState();
}

function renderRoomState() {
  const st = app.roomState || {};
  $('mod-lock').textContent = st.locked ? 'Unlock room' : 'Lock room';
  $('mod-lock').setAttribute('aria-pressed', String(!!st.locked));
  $('mod-record').textContent = st.recording ? 'Stop recording' : 'Start recording';
  $('mod-record').setAttribute('aria-pressed', String(!!st.recording));
  const banner = $('rec-banner');
  banner.hidden = !st.recording;
  if (st.recording) {
    const since = st.recording_since ? new Date(st.recording_since) : null;
    $('rec-text').textContent = 'This meeting is being recorded' +
      (since ? ` (since ${since.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}).` : '.');
    const mine = app.roster && app.roster.mine();
    const declined = !!(mine && mine.declined);
    $('decline').hidden = !st.recording_decline;
    $('decline').textContent = declined ? 'You declined: you stay muted while it runs. Withdraw'
      : 'Decline: keep me muted and out of the recording';
    $('decline').setAttribute('aria-pressed', String(declined));
  }
  $('room-name').textContent = room + (st.locked ? ' (locked)' : '');
}

async function copyText(text, button) {
  let ok = false;
  try { await navigator.clipboard.writeText(text); ok = true; } catch {
    // not a secure context, or no permission: the old way
    const ta = document.createElement('textarea');
    ta.value = text;
    document.body.append(ta);
    ta.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
  }
  button.textContent = ok ? 'Copied' : 'Select and copy the link';
  setTimeout(() => { button.textContent = 'Copy'; }, 2000);
}

function renderDoors() {
  const list = $('doors');
  // this page's own link first: the one most often passed on
  const doors = [...app.doors].sort((x, y) => (y.network === 'web') - (x.network === 'web'));
  list.replaceChildren(...doors.map((d) => {
    const li = document.createElement('li');
    li.dataset.network = d.network || '';
    const label = document.createElement('span');
    label.className = 'door-label';
    label.textContent = d.label || d.network;
    const a = document.createElement('a');
    a.className = 'door-uri';
    a.href = d.uri;
    a.textContent = d.uri;
    if (d.text && d.text !== d.uri) a.title = d.text;
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'small secondary';
    copy.textContent = 'Copy';
    copy.setAttribute('aria-label', `Copy the ${d.label || d.network} address`);
    copy.addEventListener('click', () => copyText(d.uri, copy));
    li.append(label, a, copy);
    if (d.text && d.text !== d.uri && d.network !== 'web') {   // "dial 4711", "join #team on ..."
      const how = document.createElement('span');
      how.className = 'door-text';
      how.textContent = d.text;
      li.append(how);
    }
    return li;
  }));
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

// The local side of muting: the microphone track and the button.
function applyMuted(on) {
  app.muted = on;
  if (app.mic) for (const t of app.mic.getAudioTracks()) t.enabled = !on;
  $('mute').setAttribute('aria-pressed', String(on));
  $('mute').textContent = on ? 'Unmute' : 'Mute';
}

function setMuted(on) {
  applyMuted(on);
  if (!on) $('notice').hidden = true;
  send({ type: 'mute', muted: on });
}

function showRoom() {
  $('room-name').textContent = room;
  document.title = room ? `${room} · tutti` : 'tutti';
}

function init() {
  showRoom();
  app.roster = new Roster($('roster'), $('count'), (action, id) => moderate(action, id));
  app.roster.onChange = onRosterChange;
  $('name').value = localStorage.getItem('tutti.name') || '';
  if (!room) {   // the page at /: which room?
    $('room-row').hidden = false;
    $('room').required = true;
    $('join-title').textContent = 'Join or start a call';
  }
  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!room) {
      const r = $('room').value.trim();
      if (!ROOM_RE.test(r)) {
        $('room').setCustomValidity('Letters, digits, dot, dash and underscore, at most 64.');
        $('room').reportValidity();
        return;
      }
      room = r;
      $('room-row').hidden = true;
      history.replaceState(null, '', '/' + encodeURIComponent(room) + location.search);
      showRoom();
    }
    app.name = $('name').value.trim() || 'guest';
    app.pin = $('pin').value.trim();
    app.retries = 0;
    connect();
  });
  $('room').addEventListener('input', () => $('room').setCustomValidity(''));
  $('have-pin').addEventListener('click', () => {
    $('pin-row').hidden = false;
    $('pin-hint').textContent = 'A moderator PIN makes you a moderator.';
    $('have-pin').hidden = true;
    $('pin').focus();
  });
  $('mute').addEventListener('click', () => setMuted(!app.muted));
  $('hand').addEventListener('click', () => send({ type: 'hand', up: !app.hand }));
  $('notice-unmute').addEventListener('click', () => setMuted(false));
  $('decline').addEventListener('click', () => {
    const mine = app.roster.mine();
    send({ type: 'decline', declined: !(mine && mine.declined) });
  });
  $('mod-lock').addEventListener('click', () => moderate(app.roomState.locked ? 'unlock' : 'lock'));
  $('mod-mute-all').addEventListener('click', () => moderate('mute_all'));
  $('mod-record').addEventListener('click', () =>
    moderate(app.roomState.recording ? 'record_stop' : 'record_start'));
  $('mod-end').addEventListener('click', () => moderate('end'));
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
    const k = e.key.toLowerCase();
    if ((k === 'm' || k === 'h') && !e.ctrlKey && !e.metaKey && !e.altKey &&
        tag !== 'INPUT' && tag !== 'TEXTAREA' && !$('call').hidden) {
      e.preventDefault();
      if (k === 'm') setMuted(!app.muted); else send({ type: 'hand', up: !app.hand });
    }
  });
  setInterval(() => send({ type: 'ping' }), 20000);
  if (!room) $('room').focus(); else if (!$('name').value) $('name').focus(); else $('join').focus();
}

init();
