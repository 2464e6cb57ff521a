// Safety for the people who run the service: alerts that nobody acknowledged in time (and help
// requests from people without a mentor), and messages reported in meetings.
import { describe } from './conn.js';
import { h, clear, announce, fmtDateTime } from './dom.js';
import { alertItem } from './people.js';

// One reported message, from a live room.report {room, seq, from, text, by, reason, ts} or an
// audit entry of action `report` (actor, target, room, detail, seq, reason, ts).
export function reportItem(r) {
  const by = r.by ?? r.actor;
  const from = r.from ?? r.target;
  const text = r.text ?? r.detail;
  return h('li', { class: 'report-item' },
    h('p', {}, h('strong', {}, `${by} reported a message from ${from}`), r.room ? ` in ${r.room}` : '', ` \u00b7 ${fmtDateTime(r.ts)}`),
    text ? h('blockquote', {}, text) : h('p', { class: 'hint' }, 'The message has since been erased with the meeting\u2019s messages.'),
    r.reason ? h('p', {}, `Reason given: ${r.reason}`) : h('p', { class: 'hint' }, 'No reason given.'));
}

export async function safetyView(app) {
  const main = app.screen('Safety');
  // Not live regions: a new entry is announced once, by announce() below.
  const alerts = h('ul', { class: 'plain', id: 'escalated' });
  const reports = h('ul', { class: 'plain', id: 'report-list' });
  const err = h('p', { class: 'error', role: 'alert', id: 'safety-error' });
  const load = async () => {
    // Everything open is on this screen, so nothing is new any more.
    if (app.safety) { app.safety = 0; app.renderNav(); }
    err.textContent = '';
    try {
      const [a, log] = await Promise.all([app.conn.call('alerts.list', { open: true }), app.conn.call('audit.list', { action: 'report', limit: 100 })]);
      clear(alerts, a.alerts.length ? a.alerts.map((x) => alertItem(app, x)) : h('li', { id: 'no-escalated' }, 'No escalated alerts are open.'));
      const rs = log.entries;
      clear(reports, rs.length ? rs.map(reportItem) : h('li', { id: 'no-reports' }, 'No message has been reported.'));
    } catch (e) { err.textContent = describe(e); }
  };
  clear(main, h('h1', {}, 'Safety'),
    h('p', {}, 'Alerts that nobody acknowledged in time come here, and so does a help request from someone who has no mentor. Acknowledge one when you have reached out; a message or a call is best.'),
    err, h('h2', {}, 'Escalated alerts'), alerts,
    h('h2', {}, 'Reported messages'),
    h('p', { class: 'hint' }, 'The latest reports from meetings (up to 100), newest first. A copy of a message is kept only while the message itself is.'), reports);
  app.view = {
    onReady: load,
    onPush: (m) => {
      if (m.op === 'alert') {
        document.getElementById('no-escalated')?.remove();
        if (!document.getElementById(`alert-${m.id}`)) alerts.prepend(alertItem(app, m));
        announce(`Escalated alert for ${m.handle}.`);
      } else if (m.op === 'room.report') {
        document.getElementById('no-reports')?.remove();
        reports.prepend(reportItem(m));
        announce(`${m.by} reported a message from ${m.from}.`);
      }
    },
  };
  await load();
}
