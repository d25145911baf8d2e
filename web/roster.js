// roster.js: the list of participants of every network, with live talking indicators,
// raised hands in their order, and, for a moderator, controls on each line (real buttons:
// Tab reaches them; onAction(action, id) sends them).

// Inline SVG icons (24x24, currentColor): no icon font or emoji font is needed.
const svg = (d) => `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="${d}"/></svg>`;
const ICONS = {
  phone: svg('M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.6 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.6 3.6a1 1 0 0 1-.25 1z'),
  web: svg('M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm6.9 6h-2.9a15.7 15.7 0 0 0-1.4-3.6A8 8 0 0 1 18.9 8zM12 4c.8 1.2 1.5 2.5 1.9 4h-3.8c.4-1.5 1.1-2.8 1.9-4zM4.3 14a8.2 8.2 0 0 1 0-4h3.4a16.5 16.5 0 0 0 0 4zm.8 2h2.9c.3 1.3.8 2.5 1.4 3.6A8 8 0 0 1 5.1 16zM8 8H5.1a8 8 0 0 1 4.3-3.6C8.8 5.5 8.3 6.7 8 8zm4 12c-.8-1.2-1.5-2.5-1.9-4h3.8c-.4 1.5-1.1 2.8-1.9 4zm2.3-6H9.7a14.7 14.7 0 0 1 0-4h4.6a14.7 14.7 0 0 1 0 4zm.3 5.6c.6-1.1 1.1-2.3 1.4-3.6h2.9a8 8 0 0 1-4.3 3.6zm1.7-5.6a16.5 16.5 0 0 0 0-4h3.4a8.2 8.2 0 0 1 0 4z'),
  xmpp: svg('M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2zm3 5v2h10V8zm0 4v2h7v-2z'),
  irc: svg('M9.5 3 8.8 8H5v2h3.5l-.6 4H4v2h3.6L7 21h2l.7-5h4l-.7 5h2l.7-5H20v-2h-3l.6-4H21V8h-3.2l.7-5h-2l-.7 5h-4l.7-5zm1 7h4l-.6 4h-4z'),
  other: svg('M12 12a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9zm0 2c-3.3 0-9 1.7-9 5v2h18v-2c0-3.3-5.7-5-9-5z'),
};
const NETWORKS = {
  phone: ['phone', 'phone'], sip: ['phone', 'phone'], rtp: ['phone', 'phone (RTP)'],
  web: ['web', 'browser'], xmpp: ['xmpp', 'XMPP'], irc: ['irc', 'IRC'],
};

export class Roster {
  constructor(list, count, onAction) {
    this.list = list;
    this.count = count;
    this.onAction = onAction || (() => {});
    this.people = new Map();   // id -> entry
    this.me = null;
    this.onChange = () => {};
  }

  mine() { return this.people.get(this.me) || null; }

  amModerator() { const m = this.mine(); return !!(m && m.moderator); }

  // Raised hands, first up first: hand_seq grows per room whatever the network.
  hands() {
    return [...this.people.values()].filter((e) => e.hand)
      .sort((a, b) => (a.hand_seq || 0) - (b.hand_seq || 0));
  }

  reset(entries, me) {
    this.me = me;
    this.people.clear();
    for (const e of entries || []) this.people.set(e.id, e);
    this.render();
  }

  event(kind, who) {
    if (!who || !who.id) return;
    if (kind === 'left') this.people.delete(who.id);
    else this.people.set(who.id, who);
    this.render();
  }

  talking(id) {
    const e = this.people.get(id);
    return !!(e && e.talking);
  }

  render() {
    const items = [...this.people.values()].sort((a, b) =>
      (a.id === this.me ? -1 : b.id === this.me ? 1 : a.name.localeCompare(b.name)));
    // Lines are rebuilt on every change (talking flips often): a keyboard user's focus on
    // a control stays on the same line's button at the same place (Mute becomes Unmute).
    const act = document.activeElement;
    let keep = null;
    if (act && act.tagName === 'BUTTON' && this.list.contains(act)) {
      const li = act.closest('li');
      keep = { id: li.dataset.id, idx: [...li.querySelectorAll('button')].indexOf(act) };
    }
    this.list.replaceChildren(...items.map((e) => this.item(e)));
    if (keep) {
      const li = [...this.list.children].find((l) => l.dataset.id === keep.id);
      const btns = li ? [...li.querySelectorAll('button')] : [];
      if (btns.length) btns[Math.min(keep.idx, btns.length - 1)].focus();
    }
    this.count.textContent = `(${items.length})`;
    this.onChange();
  }

  item(e) {
    const li = document.createElement('li');
    li.dataset.id = e.id;
    li.dataset.network = e.network;
    if (e.talking) li.classList.add('talking');
    const [icon, label] = NETWORKS[e.network] || ['other', e.network || 'unknown'];
    const net = document.createElement('span');
    net.className = 'net';
    net.setAttribute('role', 'img');
    net.setAttribute('aria-label', label);
    net.title = label;
    net.innerHTML = ICONS[icon];   // our own constant markup, never user data
    const dot = document.createElement('span');
    dot.className = 'dot';
    dot.setAttribute('aria-hidden', 'true');
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = e.name + (e.id === this.me ? ' (you)' : '');
    const flags = document.createElement('span');
    flags.className = 'flag';
    flags.textContent = [e.moderator ? 'moderator' : '', e.talking ? 'talking' : '',
      e.muted ? (e.muted_by_moderator ? 'muted by a moderator' : 'muted') : '',
      e.declined ? 'declined recording' : ''].filter(Boolean).join(', ');
    li.append(net, dot, who, flags);
    if (e.hand) {
      const pos = this.hands().findIndex((h) => h.id === e.id) + 1;
      const hand = document.createElement('span');
      hand.className = 'hand-badge';
      hand.textContent = `hand ${pos}`;
      hand.title = `raised hand, number ${pos} in the queue`;
      li.append(hand);
    }
    if (this.amModerator() && e.id !== this.me) li.append(this.controls(e));
    return li;
  }

  controls(e) {
    const box = document.createElement('span');
    box.className = 'ctl';
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', `Moderate ${e.name}`);
    const add = (text, action, label) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'small';
      b.textContent = text;
      b.dataset.action = action;
      b.setAttribute('aria-label', `${label} ${e.name}`);
      b.addEventListener('click', () => this.onAction(action, e.id));
      box.append(b);
    };
    if (e.audio) {
      if (e.muted) add('Unmute', 'unmute', 'Unmute'); else add('Mute', 'mute', 'Mute');
    }
    if (e.hand) add('Lower hand', 'lower_hand', 'Lower the hand of');
    if (e.moderator) add('Not moderator', 'revoke', 'Make no longer a moderator:');
    else add('Make moderator', 'grant', 'Make a moderator:');
    add('Remove', 'kick', 'Remove');
    return box;
  }
}
