// Messages with my mentor, the mentor's caseload and alerts, and administration.
import { describe } from './conn.js';
import { h, clear, clearIfSent, announce, fmtDateTime } from './dom.js';
import { chart, checkinTable } from './checkin.js';

export async function messagesView(app) {
  const main = app.screen('Messages');
  const list = h('ul', { class: 'plain', id: 'threads' });
  const load = async () => {
    try {
      const [inbox, extra] = await Promise.all([app.conn.call('dm.inbox'),
        app.user.role === 'mentor' ? app.conn.call('mentees.list').then((r) => r.mentees.map((m) => m.handle)).catch(() => [])
          : app.user.role === 'admin' ? Promise.resolve([]) : app.conn.call('mentor.get').then((r) => (r.mentor ? [r.mentor] : [])).catch(() => [])]);
      const threads = inbox.threads.slice();
      for (const who of extra) if (!threads.some((t) => t.with === who)) threads.push({ with: who, unread: 0 });
      app.unread = threads.reduce((n, t) => n + (t.unread || 0), 0);
      app.renderNav();
      clear(list, threads.length ? threads.map((t) => h('li', {},
        h('a', { href: `#/messages/${encodeURIComponent(t.with)}` }, `Conversation with ${t.with}`), ' ',
        t.unread ? h('span', { class: 'badge' }, `${t.unread} unread`) : null,
        t.last ? h('p', { class: 'hint' }, `${t.last.from}: ${t.last.text.slice(0, 80)}`) : null)) :
        h('li', {}, 'No conversations yet. When you have a mentor, you can write to them here.'));
    } catch (e) { clear(list, h('li', { class: 'error' }, describe(e))); }
  };
  clear(main, h('h1', {}, 'Messages'), list);
  app.view = { onReady: load, onPush: (m) => { if (m.op === 'dm.msg') load(); } };
  await load();
}

export async function threadView(app, other) {
  const main = app.screen(`Conversation with ${other}`);
  const log = h('ul', { class: 'log', id: 'dm-log' });
  const logRegion = h('div', { role: 'log', 'aria-live': 'polite', 'aria-label': `Messages with ${other}` }, log);
  const text = h('textarea', { id: 'dm-text', rows: 2 });
  const err = h('p', { class: 'error', role: 'alert' });
  let readUpTo = 0;
  const seen = new Map();
  const mark = () => { for (const [id, li] of seen) { const r = li.querySelector('.read'); if (r) r.textContent = id <= readUpTo ? ' \u00b7 read' : ''; } };
  const add = (m) => {
    if (seen.has(m.id)) return;
    const mine = m.from === app.user.handle;
    const li = h('li', { class: mine ? 'mine' : '' }, h('span', { class: 'who' }, mine ? 'You' : m.from), h('span', {}, m.text),
      h('span', { class: 'when' }, fmtDateTime(m.ts), mine ? h('span', { class: 'read' }) : null));
    seen.set(m.id, li);
    log.append(li);
    log.scrollTop = log.scrollHeight;
    mark();
    if (!mine) app.conn.call('dm.ack', { with: other, up_to: m.id }).catch(() => {});
  };
  const load = async () => {
    try {
      const r = await app.conn.call('dm.history', { with: other });
      r.messages.forEach(add);
      app.unread = 0;
      app.renderNav();
    } catch (e) { err.textContent = describe(e); }
  };
  clear(main, h('h1', {}, `Conversation with ${other}`), logRegion,
    h('form', { novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      const t = text.value.trim();
      if (!t) return;
      try { const r = await app.conn.call('dm.send', { to: other, text: t, cid: `${Date.now()}-${Math.random()}` }); clearIfSent(text, t); add({ id: r.id, ts: r.ts, from: app.user.handle, to: other, text: t }); }
      catch (e) { err.textContent = e.code === 'forbidden' ? 'You can write only to your current mentor (or, for mentors, your mentees).' : describe(e); }
    } }, h('label', { for: 'dm-text' }, `Message to ${other}`), text, err,
    h('p', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'dm-send' }, 'Send'))));
  app.view = {
    thread: other,
    onReady: load,
    onPush: (m) => {
      if (m.op === 'dm.msg' && (m.from === other || m.to === other)) { add(m); if (m.from === other) announce(`New message from ${other}.`); }
      if (m.op === 'dm.read' && m.with === other) { readUpTo = Math.max(readUpTo, m.up_to); mark(); }
    },
  };
  await load();
}

export const ALERT_TEXT = { high_craving: 'High craving', low_mood: 'Low mood', use_above_plan: 'Used more than planned',
  low_wellbeing: 'Low wellbeing', missed_checkins: 'Missed check-ins', help_requested: 'Asked for help' };

// One open alert with its acknowledge button; a mentor's caseload and an admin's safety screen
// both list them.
export function alertItem(app, a) {
  return h('li', { id: `alert-${a.id}` }, h('strong', {}, `${ALERT_TEXT[a.kind] || a.kind}: ${a.handle}`), a.escalated ? ' (escalated)' : '',
    h('p', {}, a.detail || ''), h('p', { class: 'hint' }, fmtDateTime(a.ts)),
    h('button', { type: 'button', class: 'small', onclick: async (ev) => {
      const button = ev.currentTarget;
      try { await app.conn.call('alert.ack', { id: a.id }); button.closest('li').remove(); announce('Alert acknowledged.'); } catch (e) { button.after(h('span', { class: 'error' }, ` ${describe(e)}`)); }
    } }, `Acknowledge (${a.handle})`));
}

export async function mentorView(app) {
  const main = app.screen('My mentees');
  const table = h('div', { id: 'caseload' });
  const alerts = h('ul', { class: 'plain', id: 'alerts', 'aria-live': 'polite' });
  const load = async () => {
    // Every open alert is on this screen, so none is new any more.
    if (app.alerts) { app.alerts = 0; app.renderNav(); }
    try {
      const [m, a] = await Promise.all([app.conn.call('mentees.list'), app.conn.call('alerts.list', { open: true })]);
      // A stacked table (app.css .stack): on a phone each mentee is a block of labelled lines,
      // so the caseload never scrolls sideways.
      const cols = ['Name', 'Shares', 'Last check-in', 'Open alerts', 'See'];
      const cell = (i, ...c) => h('td', { 'data-label': cols[i] }, ...c);
      clear(table, m.mentees.length ? h('table', { class: 'stack', id: 'caseload-table' },
        h('thead', {}, h('tr', {}, cols.map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, m.mentees.map((x) => h('tr', {}, cell(0, x.handle, x.role === 'family' ? ' (carer)' : ''), cell(1, x.share),
          cell(2, x.last_checkin || '\u2013'), cell(3, String(x.open_alerts)),
          cell(4, x.share === 'scores' ? [h('a', { href: `#/mentor/${encodeURIComponent(x.handle)}` }, `Check-ins of ${x.handle}`), ' ',
            h('a', { href: `#/mentor/${encodeURIComponent(x.handle)}/plan` }, `Plan of ${x.handle}`), ' '] : null,
          h('a', { href: `#/messages/${encodeURIComponent(x.handle)}` }, `Message ${x.handle}`)))))) :
        h('p', {}, 'Nobody is assigned to you yet.'));
      clear(alerts, a.alerts.length ? a.alerts.map((x) => alertItem(app, x)) : h('li', { id: 'no-alerts' }, 'No open alerts.'));
    } catch (e) { clear(table, h('p', { class: 'error' }, describe(e))); }
  };
  clear(main, h('h1', {}, 'My mentees'), table, h('h2', {}, 'Open alerts'), alerts);
  app.view = {
    onReady: load,
    onPush: (m) => { if (m.op === 'alert') { const none = document.getElementById('no-alerts'); if (none) none.remove(); if (!document.getElementById(`alert-${m.id}`)) alerts.prepend(alertItem(app, m)); announce(`Alert: ${ALERT_TEXT[m.kind] || m.kind} for ${m.handle}.`); load(); } },
  };
  await load();
}

export async function menteeView(app, handle) {
  const main = app.screen(`Check-ins of ${handle}`);
  try {
    const r = await app.conn.call('mentee.checkins', { handle, days: 30 });
    clear(main, h('h1', {}, `Check-ins of ${handle}`), h('p', {}, `${handle} shares scores with you. Private notes are never shown.`),
      r.checkins.length ? chart(r.checkins, 30) : h('p', {}, 'No check-ins in the last 30 days.'), checkinTable(r.checkins, false));
  } catch (e) {
    clear(main, h('h1', {}, `Check-ins of ${handle}`), h('p', { class: 'error' }, e.code === 'forbidden' ? `${handle} does not share scores with you.` : describe(e)));
  }
}

export async function adminView(app) {
  const main = app.screen('Admin');
  const out = h('p', { class: 'notice', role: 'status', id: 'admin-status' });
  const stats = h('div', { id: 'stats' });
  const audit = h('div', { id: 'audit' });
  const field = (id, label, attrs = {}) => [h('label', { for: id }, label), h('input', { id, ...attrs })];
  const roleSel = (id) => h('select', { id }, ['member', 'family', 'mentor', 'admin'].map((r) => h('option', { value: r }, r)));
  const val = (id) => document.getElementById(id).value.trim();
  const run = async (op, fields, okText) => {
    out.textContent = '';
    try { await app.conn.call(op, fields); out.textContent = okText; load(); } catch (e) { out.textContent = describe(e); }
  };
  const load = async () => {
    try {
      const [s, a] = await Promise.all([app.conn.call('stats'), app.conn.call('audit.list', { limit: 50 })]);
      clear(stats, h('div', { class: 'stats' }, [['connections', s.connections], ['people', s.users], ['meetings open', s.rooms_open], ['check-ins today', s.checkins_today]]
        .map(([l, v]) => h('div', { class: 'stat' }, h('b', {}, String(v)), l))));
      // Stacked on a phone (app.css .stack): one labelled block per entry, never a sideways scroll.
      const cols = ['When', 'Who', 'Did', 'To whom', 'Where', 'Detail'];
      const cell = (i, v) => h('td', { 'data-label': cols[i] }, v || '\u2013');
      const detail = (e) => [e.detail, e.reason ? `reason: ${e.reason}` : null].filter(Boolean).join('; ');
      clear(audit, a.entries.length ? h('table', { class: 'stack', id: 'audit-table' }, h('thead', {}, h('tr', {}, cols.map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, a.entries.map((e) => h('tr', {}, cell(0, fmtDateTime(e.ts)), cell(1, e.actor), cell(2, e.action), cell(3, e.target), cell(4, e.room), cell(5, detail(e))))))
        : h('p', {}, 'Nothing in the audit log yet.'));
    } catch (e) { clear(stats, h('p', { class: 'error' }, describe(e))); }
  };
  clear(main, h('h1', {}, 'Admin'), out, h('h2', {}, 'Today'), stats,
    h('h2', {}, 'Create an account'),
    h('form', { class: 'card', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); run('user.create', { handle: val('uc-handle'), password: document.getElementById('uc-password').value, role: val('uc-role') }, 'Account created.'); } },
      field('uc-handle', 'Name on Mutual'), field('uc-password', 'First password (8 to 128 characters)', { type: 'password', autocomplete: 'new-password' }),
      h('label', { for: 'uc-role' }, 'Role'), roleSel('uc-role'), h('p', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Create account'))),
    h('h2', {}, 'Change a role'),
    h('form', { class: 'card', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); run('user.role', { handle: val('ur-handle'), role: val('ur-role') }, 'Role changed.'); } },
      field('ur-handle', 'Name on Mutual'), h('label', { for: 'ur-role' }, 'New role'), roleSel('ur-role'), h('p', { class: 'row' }, h('button', { type: 'submit' }, 'Change role'))),
    h('h2', {}, 'Assign a mentor'),
    h('form', { class: 'card', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); const m = val('ma-mentor'); run(m ? 'mentor.assign' : 'mentor.unassign', m ? { mentor: m, user: val('ma-user') } : { user: val('ma-user') }, m ? 'Mentor assigned.' : 'Mentor unassigned.'); } },
      field('ma-user', 'Person (member or carer)'), field('ma-mentor', 'Mentor (leave empty to unassign)'), h('p', { class: 'row' }, h('button', { type: 'submit' }, 'Save'))),
    h('h2', {}, 'Audit log (latest 50)'), audit);
  app.view = { onReady: load };
  await load();
}
