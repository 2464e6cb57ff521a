// The local services directory (anyone, before sign-in too; admins keep it up to date) and
// the supervision table of each mentor's load (admins).
import { describe } from './conn.js';
import { h, clear, announce } from './dom.js';

export const CATEGORIES = [
  ['crisis', 'Crisis lines'],
  ['mutual_aid', 'Mutual aid (meetings and peer groups)'],
  ['treatment', 'Treatment'],
  ['harm_reduction', 'Harm reduction (needle and syringe programmes, naloxone, drug checking)'],
  ['family', 'Family and carers'],
  ['mental_health', 'Mental health'],
  ['housing', 'Housing'],
  ['employment', 'Employment'],
  ['other', 'Other'],
];
const TITLE = Object.fromEntries(CATEGORIES);

// Only http(s) links become links: the server accepts nothing else, and a stored value is
// never trusted to be a safe scheme here either.
function safeUrl(u) {
  return /^https?:\/\//i.test(u || '') ? u : null;
}

function serviceItem(s, admin, onRemove) {
  const url = safeUrl(s.url);
  const row = (label, value) => (value ? h('div', {}, h('dt', {}, label), h('dd', {}, value)) : null);
  return h('li', { class: 'card service', id: `service-${s.id}` },
    h('h3', {}, s.name),
    s.description ? h('p', {}, s.description) : null,
    h('dl', { class: 'facts' },
      row('Phone', s.phone ? h('a', { href: `tel:${s.phone.replace(/[^0-9+]/g, '')}` }, s.phone) : null),
      row('Web', url ? h('a', { href: url, rel: 'noreferrer', target: '_blank' }, `${url.replace(/^https?:\/\//i, '')} (opens in a new tab)`) : null),
      row('Hours', s.hours), row('Area', s.region), row('How to get in', s.referral)),
    admin ? h('p', { class: 'row' }, h('button', { type: 'button', class: 'small danger', onclick: () => onRemove(s) }, `Remove ${s.name}`)) : null);
}

export async function servicesView(app) {
  const main = app.screen('Local services');
  const admin = app.user && app.user.role === 'admin';
  const cat = h('select', { id: 'svc-category' }, h('option', { value: '' }, 'All kinds'), CATEGORIES.map(([v, t]) => h('option', { value: v }, t)));
  const region = h('input', { id: 'svc-region', autocomplete: 'address-level2', 'aria-describedby': 'svc-region-hint' });
  const results = h('div', { id: 'services', 'aria-live': 'polite' });
  const status = h('p', { class: 'notice', role: 'status', id: 'svc-status' });
  const remove = async (s) => {
    try {
      await app.conn.call('service.remove', { id: s.id });
      status.textContent = `${s.name} is no longer listed.`;
      load();
    } catch (e) { status.textContent = describe(e); }
  };
  const load = async () => {
    const q = {};
    if (cat.value) q.category = cat.value;
    if (region.value.trim()) q.region = region.value.trim();
    try {
      const { services } = await app.conn.call('services.list', q);
      const groups = [];
      for (const s of services) {
        const last = groups[groups.length - 1];
        if (last && last.category === s.category) last.items.push(s);
        else groups.push({ category: s.category, items: [s] });
      }
      clear(results, services.length
        ? [h('p', {}, `${services.length} ${services.length === 1 ? 'service' : 'services'}.`),
          groups.map((g) => h('section', { 'aria-labelledby': `cat-${g.category}` }, h('h2', { id: `cat-${g.category}` }, TITLE[g.category] || g.category),
            h('ul', { class: 'plain' }, g.items.map((s) => serviceItem(s, admin, remove)))))]
        : h('p', {}, q.category || q.region ? 'No services listed for that. Try all kinds, or another area.' : 'No local services are listed yet. "Get help now" has the crisis lines.'));
    } catch (e) {
      clear(results, h('p', { class: 'error' }, app.conn.open ? describe(e) : 'The server cannot be reached, so the directory cannot be shown. "Get help now" still lists crisis lines.'));
    }
  };
  const children = [h('h1', {}, 'Local services'),
    h('p', {}, 'Every way into support near you: mutual aid meetings, treatment, harm reduction (needle and syringe programmes, naloxone, drug checking), family support, mental health, housing and work. If you are in danger now, use "Get help now".'),
    h('form', { class: 'card', role: 'search', 'aria-label': 'Filter services', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); load(); } },
      h('label', { for: 'svc-category' }, 'Kind of service'), cat,
      h('label', { for: 'svc-region' }, 'Area (optional)'), h('p', { class: 'hint', id: 'svc-region-hint' }, 'Services of that area, and those that serve everyone.'), region,
      h('p', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'svc-show' }, 'Show services'))),
    status, results];
  if (admin) children.push(addServiceForm(app, status, load));
  clear(main, ...children);
  app.view = { onReady: load };
  await load();
}

function addServiceForm(app, status, reload) {
  const fields = [['name', 'Name', 120, true], ['description', 'What it offers', 500], ['phone', 'Phone', 100],
    ['url', 'Web address (http:// or https://)', 300], ['hours', 'Opening hours', 100], ['region', 'Area (blank: everyone)', 100],
    ['referral', 'How to get in (for example "self-referral, drop in")', 200]];
  const err = h('p', { class: 'error', id: 'sa-error', role: 'alert' });
  const inputs = {};
  const cat = h('select', { id: 'sa-category' }, CATEGORIES.map(([v, t]) => h('option', { value: v }, t)));
  const form = h('form', { class: 'card', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const s = { category: cat.value };
    for (const [k, label, max, req] of fields) {
      const v = inputs[k].value.trim();
      if (!v && req) { err.textContent = `${label} is needed.`; inputs[k].focus(); return; }
      if (new TextEncoder().encode(v).length > max) { err.textContent = `${label} can be up to ${max} characters.`; inputs[k].focus(); return; }
      if (k === 'url' && v && !safeUrl(v)) { err.textContent = 'The web address must start with http:// or https://.'; inputs[k].focus(); return; }
      if (v) s[k] = v;
    }
    try {
      const r = await app.conn.call('service.add', s);
      for (const k of Object.keys(inputs)) inputs[k].value = '';
      status.textContent = `${r.service.name} is listed.`;
      announce(`${r.service.name} is listed.`);
      reload();
    } catch (e) { err.textContent = describe(e); }
  } },
  fields.map(([k, label, max], i) => {
    inputs[k] = h(k === 'description' ? 'textarea' : 'input', { id: `sa-${k}`, 'aria-describedby': `sa-${k}-hint` });
    return [h('label', { for: `sa-${k}` }, label), h('p', { class: 'hint', id: `sa-${k}-hint` }, `Up to ${max} characters.`), inputs[k],
      i === 0 ? [h('label', { for: 'sa-category' }, 'Kind of service'), cat] : null];
  }),
  err,
  h('p', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'sa-add' }, 'Add to the directory')));
  return [h('h2', {}, 'Add a service (admins)'), form];
}

// Each mentor's load for the people who supervise them: never a mentor's own check-ins.
export async function supervisionView(app) {
  const main = app.screen('Supervision');
  const out = h('div', { id: 'supervision' });
  const load = async () => {
    try {
      const { mentors } = await app.conn.call('mentors.overview');
      const cols = ['Mentor', 'Caseload', 'Open alerts', 'Alerts, 30 days', 'Escalated, 30 days', 'Median time to acknowledge, 30 days'];
      const med = (m) => (m.median_ack_min_30d === null || m.median_ack_min_30d === undefined ? 'none acknowledged'
        : m.median_ack_min_30d < 120 ? `${m.median_ack_min_30d} min` : `${Math.round(m.median_ack_min_30d / 60)} h`);
      clear(out, mentors.length ? h('table', { class: 'stack' },
        h('caption', { class: 'visually-hidden' }, 'Each mentor\u2019s load'),
        h('thead', {}, h('tr', {}, cols.map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, mentors.map((m) => h('tr', {},
          [m.handle, m.caseload, m.open_alerts, m.alerts_30d, m.escalated_30d, med(m)].map((v, i) => h(i ? 'td' : 'th', { scope: i ? null : 'row', 'data-label': cols[i] }, String(v)))))))
        : h('p', {}, 'No mentors yet. Create one on the Admin screen.'));
    } catch (e) { clear(out, h('p', { class: 'error' }, describe(e))); }
  };
  clear(main, h('h1', {}, 'Supervision'),
    h('p', {}, 'Who carries too much: caseload, alerts and how long acknowledgements take. A mentor\u2019s own check-ins are never part of this.'), out);
  app.view = { onReady: load };
  await load();
}
