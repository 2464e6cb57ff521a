// Meetings: the list of rooms, a meeting in progress, and the facilitator's controls.
import { describe } from './conn.js';
import { h, clear, clearIfSent, announce, fmtTime, byteLength } from './dom.js';
import { reportItem } from './safety.js';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const AUDIENCE = { open: 'Open to everyone', recovery: 'People in recovery', carers: 'Family and carers', mentors: 'Mentors only' };

// The offset (minutes) of a time zone at an instant, from Intl's own calendar.
function zoneOffset(ts, zone) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
    .formatToParts(new Date(ts)).reduce((o, p) => { o[p.type] = p.value; return o; }, {});
  return (Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute) - Math.floor(ts / 60000) * 60000) / 60000;
}

// A weekly slot shown in the viewer's own time zone ("Tuesday 19:00").
export function slotText(slot) {
  const [hh, mm] = slot.time.split(':').map(Number);
  const now = new Date();
  const delta = (slot.day - now.getUTCDay() + 7) % 7;
  let ts = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + delta, hh, mm);
  try { if (slot.timezone) ts -= zoneOffset(ts, slot.timezone) * 60000; } catch { /* unknown zone: as UTC */ }
  const d = new Date(ts);
  const end = slot.end_time ? ` to ${slot.end_time} (${slot.timezone || 'UTC'})` : '';
  return `${DAYS[d.getDay()]} ${d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} your time${end ? `, ${slot.time}${end}` : ''}`;
}

// Who sees what was said before they arrived (PROTOCOL.md, `backlog`), in one sentence each.
const BACKLOG = {
  join: ['Only from when they join', 'someone who arrives sees only what is said after they first join this meeting.'],
  recent: ['Recent messages too', 'someone who arrives also sees what was said earlier in the meeting (the newest 500 messages).'],
};

// The public directory and the room's calendar (GET /rooms/<room>.ics) carry a room that is
// listed, has a weekly time, and is open to everyone or to people in recovery.
const inFeed = (room) => room.listed && room.schedule && room.schedule.length > 0 && (room.audience === 'open' || room.audience === 'recovery');

// The room's settings in plain words, for the list and the meeting page.
export function roomDetails(room) {
  const b = BACKLOG[room.backlog];
  return h('p', { class: 'hint room-details' },
    b ? `Newcomers: ${b[1]} ` : '',
    room.listed ? 'Listed in the public meeting directory.' : 'Not listed publicly.');
}

function isFacilitatorRole(app) {
  const r = app.user.role;
  return r === "admin" || r === "mentor"; // every audience admits mentors and admins
}

function roomForm(app, room, done) {
  const err = h('p', { class: 'error', role: 'alert' });
  const slug = h('input', { id: 'rf-room', value: room ? room.room : '', disabled: !!room, 'aria-describedby': 'rf-room-hint' });
  const name = h('input', { id: 'rf-name', value: room ? room.name : '', maxlength: 80 });
  const format = h('input', { id: 'rf-format', value: room ? room.format || '' : '', maxlength: 40 });
  const audience = h('select', { id: 'rf-audience', disabled: !!room }, Object.entries(AUDIENCE).map(([v, t]) => h('option', { value: v, selected: room && room.audience === v }, t)));
  const day = h('select', { id: 'rf-day' }, h('option', { value: '' }, 'No weekly time'), DAYS.map((d, i) => h('option', { value: i }, d)));
  const time = h('input', { id: 'rf-time', type: 'time' });
  const capacity = h('input', { id: 'rf-capacity', type: 'number', min: 2, max: 1000, value: room ? room.capacity : 100 });
  const persistent = h('input', { id: 'rf-persistent', type: 'checkbox', checked: room ? room.persistent : false });
  const backlogNow = room && BACKLOG[room.backlog] ? room.backlog : 'join';
  const backlog = Object.entries(BACKLOG).map(([v, [title, text]]) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'backlog', value: v, checked: v === backlogNow }),
    h('span', {}, h('strong', {}, title), h('span', { class: 'hint' }, ` \u2014 ${text}`))));
  const listed = h('input', { id: 'rf-listed', type: 'checkbox', checked: room ? !!room.listed : false, 'aria-describedby': 'rf-listed-hint' });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (room && room.schedule && room.schedule[0]) { day.value = String(room.schedule[0].day); time.value = room.schedule[0].time; }
  return h('form', { class: 'card', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    if (!room && !/^[a-z0-9-]{1,32}$/.test(slug.value)) { err.textContent = 'The short name needs 1 to 32 lower-case letters, digits or dashes.'; return; }
    if (!name.value.trim()) { err.textContent = 'Please give the meeting a name.'; return; }
    const req = { room: room ? room.room : slug.value, name: name.value.trim(), format: format.value.trim() || undefined,
      capacity: Number(capacity.value) || undefined, persistent: persistent.checked,
      backlog: backlog.map((l) => l.querySelector('input')).find((i) => i.checked).value, listed: listed.checked };
    // The protocol takes an Area/Location zone; a browser set to plain UTC sends none (UTC).
    req.schedule = day.value !== '' && time.value ? [{ day: Number(day.value), time: time.value, timezone: zone.includes('/') ? zone : undefined }] : [];
    if (!room) req.audience = audience.value;
    try { await app.conn.call(room ? 'room.update' : 'room.create', req); done(req); }
    catch (e) { err.textContent = describe(e); }
  } },
  h('label', { for: 'rf-room' }, 'Short name (in the link)'), h('p', { class: 'hint', id: 'rf-room-hint' }, 'Lower-case letters, digits and dashes, e.g. smart-tuesday.'), slug,
  h('label', { for: 'rf-name' }, 'Name'), name,
  h('label', { for: 'rf-format' }, 'Format (optional)'), format,
  h('label', { for: 'rf-audience' }, 'Who may join'), audience,
  h('label', { for: 'rf-day' }, 'Weekly day'), day, h('label', { for: 'rf-time' }, `Time (${zone})`), time,
  h('label', { for: 'rf-capacity' }, 'Most people at once (2 to 1000)'), capacity,
  h('label', { class: 'choice' }, persistent, h('span', {}, 'Keep messages after the meeting closes')),
  h('fieldset', {}, h('legend', {}, 'What someone arriving late can read'), backlog),
  h('label', { class: 'choice' }, listed, h('span', {}, 'List in the public meeting directory',
    h('span', { class: 'hint', id: 'rf-listed-hint' }, ' \u2014 anyone can find its name and weekly time there when it has a weekly time and is open to everyone or to people in recovery.'))),
  err, h('p', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, room ? 'Save changes' : 'Create meeting')));
}

export async function meetingsView(app) {
  const main = app.screen('Meetings');
  const list = h('ul', { class: 'plain', id: 'room-list' });
  const canCreate = app.user.role === 'mentor' || app.user.role === 'admin';
  const formBox = h('div', {});
  const load = async () => {
    try {
      const r = await app.conn.call('rooms.list');
      clear(list, r.rooms.length ? r.rooms.map((room) => h('li', {},
        h('h2', {}, room.name),
        h('p', {}, `${room.format ? `${room.format} \u00b7 ` : ''}${AUDIENCE[room.audience] || room.audience} \u00b7 `,
          room.is_open ? h('strong', {}, `open now, ${room.present} here`) : 'closed now'),
        // `here` (a protocol extension) names who is in; an older server sends only the count
        room.here && room.here.length ? h('p', { class: 'here' }, `Here now: ${room.here.join(', ')}`) : null,
        room.schedule && room.schedule.length ? h('p', { class: 'hint' }, 'Meets: ', room.schedule.map(slotText).join('; ')) : null,
        roomDetails(room),
        h('p', { class: 'row' }, h('a', { href: `#/room/${encodeURIComponent(room.room)}`, class: 'join' }, room.is_open ? `Join ${room.name}` : `Go to ${room.name}`),
          inFeed(room) ? h('a', { href: `/rooms/${encodeURIComponent(room.room)}.ics`, download: `${room.room}.ics`, class: 'ics' }, `Add ${room.name} to your calendar`) : null))) :
        h('li', {}, 'No meetings yet.'));
    } catch (e) { clear(list, h('li', { class: 'error' }, describe(e))); }
  };
  clear(main, h('h1', {}, 'Meetings'),
    canCreate ? h('details', {}, h('summary', {}, 'Create a meeting'), formBox) : null, list);
  if (canCreate) formBox.append(roomForm(app, null, () => { clear(formBox, h('p', { class: 'notice' }, 'Meeting created.')); load(); }));
  app.view = { onReady: load };
  await load();
}

export async function roomView(app, slug) {
  const main = app.screen('Meeting');
  const st = { room: null, members: new Map(), state: null, lastSeq: 0, joined: false, knocks: new Set(), reports: [], timer: null };
  const log = h('ul', { class: 'log', id: 'room-log' });
  // The live region wraps the list, so the list keeps its own semantics.
  const logRegion = h('div', { role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' }, log);
  const status = h('p', { id: 'room-status', role: 'status' });
  const people = h('ul', { class: 'plain', id: 'room-people' });
  const floorLine = h('p', { id: 'floor-line' });
  const err = h('p', { class: 'error', role: 'alert', id: 'room-error' });
  const reportNote = h('p', { class: 'notice', id: 'report-note' });
  const text = h('textarea', { id: 'say-text', rows: 2, 'aria-describedby': 'say-hint' });
  const controls = h('div', { id: 'facilitator' });
  let details = h('p', {});
  const sayForm = h('form', { novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const t = text.value.trim();
    if (!t) return;
    try { await app.conn.call('room.say', { room: slug, text: t, cid: `${Date.now()}-${Math.random()}` }); clearIfSent(text, t); }
    catch (e) { err.textContent = e.code === 'forbidden' ? (st.state && st.state.floor_mode ? 'Only the person who has the floor can speak now. Raise your hand to ask.' : 'You cannot speak here right now (you may be muted).') : describe(e); }
  } }, h('label', { for: 'say-text' }, 'Your message'), h('p', { class: 'hint', id: 'say-hint' }, 'What is shared in the meeting stays in the meeting.'), text,
  h('p', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'say-send' }, 'Send'),
    h('button', { type: 'button', id: 'hand', onclick: async () => {
      const up = st.state && (st.state.hands || []).includes(app.user.handle);
      try { await app.conn.call(up ? 'hand.lower' : 'hand.raise', { room: slug }); } catch (e) { err.textContent = describe(e); }
    } }, 'Raise hand'),
    h('button', { type: 'button', id: 'leave', onclick: async () => { try { await app.conn.call('room.leave', { room: slug }); } catch { /* gone anyway */ } st.joined = false; app.go('#/meetings'); } }, 'Leave')));
  const body = h('div', {});
  clear(main, h('h1', { id: 'room-title' }, 'Meeting'), status, reportNote, err, body);

  const fac = () => st.members.get(app.user.handle)?.facilitator || (app.user.role === 'admin') || (app.user.role === 'mentor' && st.room && isFacilitatorRole(app, st.room));
  const addMsg = (m) => {
    if (m.seq <= st.lastSeq) return;
    st.lastSeq = m.seq;
    const li = h('li', { class: m.from === app.user.handle ? 'mine' : '', 'data-seq': String(m.seq) },
      h('span', { class: 'who' }, m.from), h('span', {}, m.text), h('span', { class: 'when' }, fmtTime(m.ts)),
      m.from !== app.user.handle ? h('button', { type: 'button', class: 'small report', 'aria-label': `Report this message from ${m.from}`,
        onclick: (ev) => openReport(m, ev.currentTarget) }, 'Report') : null);
    log.append(li);
    log.scrollTop = log.scrollHeight;
  };
  // Reporting a message: a short form with an optional reason, so that a stray tap sends
  // nothing; the facilitators in the meeting and the service's admins see it at once. The form
  // sits under the log, not in it: the log is a live region, and what appears there is read
  // out as a new message.
  const reportSlot = h('div', { id: 'report-slot' });
  const openReport = (m, button) => {
    const id = `report-${m.seq}`;
    const open = document.getElementById(`${id}-reason`);
    if (open) { open.focus(); return; }
    // Another report under way keeps what was typed into it: finish or cancel that one first.
    const other = reportSlot.querySelector('textarea');
    if (other && other.value.trim()) {
      other.focus();
      announce('Finish or cancel the report you have started first.');
      return;
    }
    const reason = h('textarea', { id: `${id}-reason`, rows: 2, 'aria-describedby': `${id}-hint ${id}-count ${id}-error` });
    const hint = h('p', { class: 'hint', id: `${id}-hint` }, 'Optional. The facilitators and the service’s admins see the message, your name and your reason.');
    const count = h('p', { class: 'hint', id: `${id}-count` }, '0 of 200 bytes');
    // Said once when the reason goes over the limit, not at every key.
    const ferr = h('p', { class: 'error', role: 'alert', id: `${id}-error` });
    const bytes = () => byteLength(reason.value.trim());
    let over = false;
    const check = () => {
      const n = bytes();
      count.textContent = `${n} of 200 bytes`;
      if ((n > 200) === over) return;
      over = n > 200;
      ferr.textContent = over ? 'The reason is over 200 bytes; please shorten it.' : '';
      if (over) reason.setAttribute('aria-invalid', 'true'); else reason.removeAttribute('aria-invalid');
    };
    reason.addEventListener('input', check);
    const close = () => { clear(reportSlot); button.focus(); };
    const form = h('form', { class: 'card report-form', novalidate: true, 'aria-labelledby': `${id}-title`, onsubmit: async (ev) => {
      ev.preventDefault();
      check();
      if (over) { reason.focus(); return; }
      ferr.textContent = '';
      try {
        await app.conn.call('room.report', { room: slug, seq: m.seq, reason: reason.value.trim() || undefined });
        button.disabled = true;
        button.textContent = 'Reported';
        button.setAttribute('aria-label', `You reported this message from ${m.from}`);
        const done = h('p', { class: 'notice', id: `${id}-done`, tabindex: '-1' }, `Reported ${m.from}’s message. The facilitators have been told; thank you for looking out for the group.`);
        clear(reportSlot, done);
        done.focus();
      } catch (e) {
        ferr.textContent = e.code === 'not_found' ? 'This message can no longer be reported: it has been erased.' : describe(e);
      }
    } },
    h('h3', { id: `${id}-title` }, `Report ${m.from}’s message`),
    h('blockquote', {}, m.text),
    h('label', { for: `${id}-reason` }, 'Why are you reporting it?'), hint, reason, count, ferr,
    h('p', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: `${id}-send` }, 'Send report'),
      h('button', { type: 'button', onclick: close }, 'Cancel')));
    clear(reportSlot, form);
    reason.focus();
  };
  const renderPeople = () => {
    clear(people, [...st.members.values()].map((m) => h('li', {}, h('strong', {}, m.handle),
      m.facilitator ? ' (facilitator)' : '', m.muted ? ' (muted)' : '',
      (st.state?.hands || []).includes(m.handle) ? ' \u270b hand raised' : '',
      fac() && !m.facilitator ? h('span', { class: 'row' },
        h('button', { type: 'button', class: 'small', onclick: () => act(m.muted ? 'room.unmute' : 'room.mute', { handle: m.handle }) }, `${m.muted ? 'Unmute' : 'Mute'} ${m.handle}`),
        h('button', { type: 'button', class: 'small', onclick: () => act('room.remove', { handle: m.handle }) }, `Remove ${m.handle}`),
        h('button', { type: 'button', class: 'small danger', onclick: () => act('room.remove', { handle: m.handle, ban: true }) }, `Ban ${m.handle}`)) : null)));
  };
  const renderFloor = () => {
    const s = st.state || {};
    clearInterval(st.timer);
    const handUp = (s.hands || []).includes(app.user.handle);
    const hb = document.getElementById('hand');
    if (hb) hb.textContent = handUp ? 'Lower hand' : 'Raise hand';
    const tick = () => {
      const left = s.floor_ends ? Math.max(0, Math.round((s.floor_ends - Date.now()) / 1000)) : null;
      const parts = [];
      if (s.floor_mode) parts.push('Sharing in turn.');
      if (s.floor) parts.push(['The floor: ', h('strong', {}, s.floor === app.user.handle ? 'you' : s.floor)]);
      else if (s.floor_mode) parts.push('Nobody has the floor.');
      if (left !== null) parts.push(['Time left ', h('span', { class: 'countdown', id: 'countdown' }, `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`)]);
      if (s.locked) parts.push('The meeting is locked.');
      if (s.lobby) parts.push('Newcomers wait in the lobby.');
      clear(floorLine, parts.map((p, i) => [i ? ' \u00b7 ' : '', p]));
    };
    tick();
    if (s.floor_ends) st.timer = setInterval(tick, 1000);
    renderPeople();
    renderControls();
  };
  // True when the server took it; otherwise the error shows.
  const act = async (op, fields = {}) => {
    err.textContent = '';
    try { await app.conn.call(op, { room: slug, ...fields }); return true; } catch (e) { err.textContent = describe(e); return false; }
  };
  const allowBack = async (input) => {
    const who = input.value.trim();
    if (!who || !(await act('room.unban', { handle: who }))) return;
    input.value = '';
    announce(`${who} can join this meeting again.`);
  };
  const renderControls = () => {
    if (!fac() || !st.room) { clear(controls); return; }
    const s = st.state || {};
    const secs = h('select', { id: 'give-secs' }, [['', 'No time limit'], ['60', '1 minute'], ['180', '3 minutes'], ['300', '5 minutes']].map(([v, t]) => h('option', { value: v }, t)));
    const unban = h('input', { id: 'unban-handle' });
    clear(controls, h('h2', {}, 'Facilitator controls'),
      h('div', { class: 'row' },
        h('button', { type: 'button', id: 'ctl-open', onclick: () => act(s.is_open ? 'room.close' : 'room.open') }, s.is_open ? 'End the meeting' : 'Open the meeting'),
        h('button', { type: 'button', id: 'ctl-lock', onclick: () => act('room.lock', { locked: !s.locked }) }, s.locked ? 'Unlock' : 'Lock'),
        h('button', { type: 'button', id: 'ctl-lobby', onclick: () => act('room.lobby', { on: !s.lobby }) }, s.lobby ? 'Turn the lobby off' : 'Turn the lobby on'),
        h('button', { type: 'button', id: 'ctl-floor', onclick: () => act('room.floor', { on: !s.floor_mode }) }, s.floor_mode ? 'Let everyone speak' : 'Share in turn (floor mode)'),
        s.floor ? h('button', { type: 'button', onclick: () => act('room.give', {}) }, 'Take the floor back') : null),
      st.knocks.size ? h('div', {}, h('h3', {}, 'Waiting in the lobby'), h('ul', { class: 'plain', id: 'knocks' }, [...st.knocks].map((k) => h('li', {}, k, ' ',
        h('button', { type: 'button', class: 'small', onclick: async () => { await act('room.admit', { handle: k }); st.knocks.delete(k); renderControls(); } }, `Admit ${k}`), ' ',
        h('button', { type: 'button', class: 'small danger', onclick: async () => { await act('room.deny', { handle: k }); st.knocks.delete(k); renderControls(); } }, `Deny ${k}`))))) : null,
      (s.hands || []).length ? h('div', {}, h('h3', {}, 'Hands raised'), h('label', { for: 'give-secs' }, 'Share time'), secs,
        h('ul', { class: 'plain', id: 'hands' }, s.hands.map((hd) => h('li', {}, hd, ' ', h('button', { type: 'button', class: 'small', onclick: () => act('room.give', { handle: hd, secs: secs.value ? Number(secs.value) : undefined }) }, `Give the floor to ${hd}`))))) : null,
      h('form', { class: 'row', onsubmit: (ev) => { ev.preventDefault(); allowBack(unban); } },
        h('label', { for: 'unban-handle' }, 'Allow back (unban)'), unban, h('button', { type: 'submit', class: 'small' }, 'Unban')),
      st.reports.length ? h('div', {}, h('h3', {}, 'Reported messages'), h('ul', { class: 'plain', id: 'reports' }, st.reports.map(reportItem))) : null,
      h('details', {}, h('summary', {}, 'Edit this meeting'), roomForm(app, st.room, (req) => {
        // The reply names the room only; what was sent is now in force.
        Object.assign(st.room, req);
        details.replaceWith(details = roomDetails(st.room));
        renderControls();
        announce('Meeting saved.');
      })));
  };
  const showJoined = (r, recovered) => {
    st.room = r.room; st.state = r.state; st.joined = true;
    document.getElementById('room-title').textContent = r.room.name;
    document.title = `${r.room.name} · Mutual`;
    st.members = new Map(r.members.map((m) => [m.handle, m]));
    details = roomDetails(r.room);
    clear(body, details, floorLine, h('h2', {}, 'Messages'), logRegion, reportSlot, sayForm, h('h2', {}, 'Here now'), people, controls);
    for (const m of r.history || []) addMsg(m);
    if (recovered === true) status.textContent = 'Reconnected; you missed nothing.';
    else if (recovered === false) status.textContent = 'Reconnected; some earlier messages could not be recovered.';
    else status.textContent = r.state.is_open ? 'You are in the meeting.' : 'The meeting is closed now. Facilitators can open it.';
    renderFloor();
  };
  const join = async () => {
    err.textContent = '';
    try {
      const r = await app.conn.call('room.join', { room: slug, since: st.lastSeq || undefined });
      if (r.waiting) { status.textContent = 'Waiting to be admitted by a facilitator\u2026'; clear(body); announce('Waiting to be admitted.'); return; }
      showJoined(r, st.lastSeq ? r.recovered : undefined);
    } catch (e) {
      st.joined = false;
      status.textContent = e.code === 'conflict' ? 'This meeting is not open right now.' : e.code === 'forbidden' ? 'You cannot join this meeting (it may be locked, or you are not allowed in).' : describe(e);
      clear(body, h('p', {}, h('a', { href: '#/meetings' }, 'Back to meetings')));
    }
  };
  const out = (why) => { st.joined = false; clearInterval(st.timer); status.textContent = why; announce(why); clear(body, h('p', {}, h('a', { href: '#/meetings' }, 'Back to meetings'))); };
  app.view = {
    onReady: () => { if (st.joined || !st.room) join(); },
    leave: () => { clearInterval(st.timer); if (st.joined) app.conn.call('room.leave', { room: slug }).catch(() => {}); },
    onPush: (m) => {
      // room.admitted carries a room.join reply, whose `room` is the room object.
      const which = m.room && typeof m.room === 'object' ? m.room.room : m.room;
      if (which !== slug) return;
      switch (m.op) {
        case 'room.msg': addMsg(m); break;
        case 'room.presence':
          if (m.state === 'joined') st.members.set(m.handle, { handle: m.handle, role: m.role, facilitator: m.role === 'admin' || m.role === 'mentor', muted: false });
          else st.members.delete(m.handle);
          announce(`${m.handle} ${m.state === 'joined' ? 'joined' : 'left'}.`);
          renderPeople(); break;
        case 'room.state': st.state = { ...st.state, ...m }; if (st.room) st.room.is_open = m.is_open; renderFloor();
          // A reconnect's "missed nothing" stays until something else is said.
          if (!/^Reconnected/.test(status.textContent)) status.textContent = m.is_open ? 'The meeting is open.' : 'The meeting is closed now. Facilitators can open it.';
          announce(m.floor === app.user.handle ? 'You have the floor.' : 'The meeting changed.'); break;
        case 'room.moderation': {
          const mem = st.members.get(m.handle);
          if (mem && (m.action === 'mute' || m.action === 'unmute')) mem.muted = m.action === 'mute';
          if (m.handle === app.user.handle && m.action === 'mute') { status.textContent = 'A facilitator has muted you. You can still read.'; announce(status.textContent); }
          if (m.handle === app.user.handle && m.action === 'unmute') { status.textContent = 'You can speak again.'; announce(status.textContent); }
          renderPeople(); break;
        }
        case 'room.removed': out(m.ban ? 'A facilitator removed you from this meeting and you cannot rejoin it.' : 'A facilitator removed you from this meeting.'); break;
        case 'room.closed': out('The meeting has ended. Thank you for being here.'); break;
        case 'room.knock': st.knocks.add(m.handle); renderControls(); announce(`${m.handle} is waiting in the lobby.`); break;
        case 'room.admitted': showJoined(m); announce('You have been let in.'); break;
        case 'room.denied': out('A facilitator did not admit you this time, or the meeting ended.'); break;
        case 'room.report': {
          st.reports.push(m);
          renderControls();
          // The list is below the fold in a busy meeting: say so at the top, with a way there.
          const go = h('button', { type: 'button', class: 'small', onclick: () => { const l = document.getElementById('reports'); if (!l) return; l.tabIndex = -1; l.focus(); } }, 'Show reports');
          clear(reportNote, `${m.by} reported a message from ${m.from}. `, go);
          announce(`${m.by} reported a message from ${m.from}.`);
          break;
        }
        default: break;
      }
    },
  };
  await join();
}
