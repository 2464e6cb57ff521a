// The daily check-in and my progress.
import { describe } from './conn.js';
import { h, clear, announce, tzOffset, localDate, byteLength } from './dom.js';

const WHO5 = [
  'I have felt cheerful and in good spirits.',
  'I have felt calm and relaxed.',
  'I have felt active and vigorous.',
  'I woke up feeling fresh and rested.',
  'My daily life has been filled with things that interest me.',
];
const WHO5_SCALE = ['At no time', 'Some of the time', 'Less than half of the time',
  'More than half of the time', 'Most of the time', 'All of the time'];
const BARC10 = [
  'There are more important things to me in life than using substances.',
  'In general I am happy with my life.',
  'I have enough energy to complete the tasks I set myself.',
  'I am proud of the community I live in and feel part of it.',
  'I get lots of support from friends.',
  'I regard my life as challenging and fulfilling without the need for using drugs or alcohol.',
  'My living space has helped to drive my recovery journey.',
  'I take full responsibility for my actions.',
  'I am happy dealing with a range of professional people.',
  'I am making good progress on my recovery journey.',
];
const BARC_SCALE = ['', 'Strongly disagree', 'Disagree', 'Somewhat disagree', 'Somewhat agree', 'Agree', 'Strongly agree'];
const STAGES = [['', 'Prefer not to say'], ['precontemplation', 'Not thinking about changing'],
  ['contemplation', 'Thinking about changing'], ['preparation', 'Getting ready to change'],
  ['action', 'Making changes'], ['maintenance', 'Keeping changes going'], ['relapse', 'Starting again after a setback']];
const DRAFT = 'mutual.checkin.draft';

function scaleField(id, label, hint, lo, hi) {
  const input = h('input', { id, name: id, type: 'number', inputmode: 'numeric', min: lo, max: hi, step: 1, 'aria-describedby': `${id}-hint ${id}-err` });
  return { input, el: h('div', {}, h('label', { for: id }, label), h('p', { class: 'hint', id: `${id}-hint` }, hint), input, h('p', { class: 'error', id: `${id}-err` })) };
}

function selectField(id, label, options) {
  const sel = h('select', { id, name: id }, options.map(([v, t]) => h('option', { value: v }, t)));
  return { sel, el: h('div', {}, h('label', { for: id }, label), sel) };
}

export async function checkinView(app) {
  const main = app.screen('Daily check-in');
  const f = {};
  const mood = scaleField('mood', 'How is your mood today?', '0 (very low) to 10 (very good). Required.', 0, 10);
  const craving = scaleField('craving', 'How strong are cravings today?', '0 (none) to 10 (very strong).', 0, 10);
  const sleep = scaleField('sleep', 'How well did you sleep?', '0 (not at all) to 10 (very well).', 0, 10);
  f.mood = mood.input; f.craving = craving.input; f.sleep = sleep.input;
  const use = h('fieldset', {}, h('legend', {}, 'Use today, compared with your own plan'),
    h('p', { class: 'hint' }, 'Your plan is yours: not using, cutting down, or a prescribed medication are all valid.'),
    [['', 'I\u2019d rather not say'], ['none', 'I didn\u2019t use'], ['as_planned', 'I used as I planned'], ['more_than_planned', 'I used more than I planned']]
      .map(([v, t]) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'use', value: v, checked: v === '' }), h('span', {}, t))));
  const stage = selectField('stage', 'Where are you with change right now?', STAGES);
  f.stage = stage.sel;
  const who5 = WHO5.map((t, i) => selectField(`who5-${i}`, t, [['', 'Choose an answer'], ...WHO5_SCALE.map((s, j) => [String(j), `${j} \u2014 ${s}`])]));
  const barc = BARC10.map((t, i) => selectField(`barc-${i}`, t, [['', 'Choose an answer'], ...BARC_SCALE.slice(1).map((s, j) => [String(j + 1), `${j + 1} \u2014 ${s}`])]));
  const triggers = h('input', { id: 'triggers', name: 'triggers', 'aria-describedby': 'triggers-hint triggers-err' });
  const note = h('textarea', { id: 'note', name: 'note', 'aria-describedby': 'note-hint note-err' });
  const noteCount = h('span', {}, '0');
  const formErr = h('p', { class: 'error', id: 'checkin-error', role: 'alert' });
  const result = h('div', { class: 'notice', role: 'status', id: 'checkin-result' });
  const today = h('p', { id: 'today-status' });
  const maxNote = (app.conn.limits && app.conn.limits.max_note) || 2000;

  const form = h('form', { class: 'card', novalidate: true },
    mood.el, craving.el, sleep.el, use, stage.el,
    h('details', {}, h('summary', {}, 'Wellbeing over the last two weeks (WHO-5, optional)'),
      h('fieldset', {}, h('legend', {}, 'Over the last two weeks\u2026'), who5.map((x) => x.el))),
    h('details', {}, h('summary', {}, 'Recovery strengths (BARC-10, optional)'),
      h('fieldset', {}, h('legend', {}, 'How much do you agree?'), barc.map((x) => x.el))),
    h('label', { for: 'triggers' }, 'Anything that triggered cravings today?'),
    h('p', { class: 'hint', id: 'triggers-hint' }, 'Optional. Separate with commas: up to 10, each up to 40 characters.'),
    triggers, h('p', { class: 'error', id: 'triggers-err' }),
    h('div', { class: 'private' },
      h('label', { for: 'note' }, 'Private note'),
      h('p', { class: 'hint', id: 'note-hint' }, 'Only you can ever see this note. It is never shared, not even with your mentor. Up to ', String(maxNote), ' characters (', noteCount, ' used).'),
      note, h('p', { class: 'error', id: 'note-err' })),
    formErr,
    h('p', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'checkin-submit' }, 'Save my check-in')),
    result);
  clear(main, h('h1', {}, 'Daily check-in'), h('p', {}, 'A minute for yourself. Only the mood is required.'), today, form);

  const fields = () => ({ mood: f.mood.value, craving: f.craving.value, sleep: f.sleep.value,
    use: form.querySelector('input[name=use]:checked').value, stage: f.stage.value,
    who5: who5.map((x) => x.sel.value), barc: barc.map((x) => x.sel.value), triggers: triggers.value, note: note.value });
  const fill = (d) => {
    f.mood.value = d.mood ?? ''; f.craving.value = d.craving ?? ''; f.sleep.value = d.sleep ?? '';
    const u = form.querySelector(`input[name=use][value="${d.use || ''}"]`); if (u) u.checked = true;
    f.stage.value = d.stage || '';
    (d.who5 || []).forEach((v, i) => { who5[i].sel.value = v ?? ''; });
    (d.barc || []).forEach((v, i) => { barc[i].sel.value = v ?? ''; });
    triggers.value = d.triggers || ''; note.value = d.note || '';
    noteCount.textContent = String(byteLength(note.value));
  };

  const validate = () => {
    let ok = true;
    const setErr = (id, text) => { document.getElementById(`${id}-err`).textContent = text; if (text) ok = false; };
    for (const [id, required] of [['mood', true], ['craving', false], ['sleep', false]]) {
      const v = f[id].value.trim();
      if (!v) setErr(id, required ? 'Please give your mood, from 0 to 10.' : '');
      else if (!/^\d+$/.test(v) || Number(v) > 10) setErr(id, 'Please use a whole number from 0 to 10.');
      else setErr(id, '');
      f[id].setAttribute('aria-invalid', document.getElementById(`${id}-err`).textContent ? 'true' : 'false');
    }
    const list = triggers.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length > 10) setErr('triggers', `That is ${list.length} triggers; up to 10 please.`);
    else if (list.some((s) => byteLength(s) > 40)) setErr('triggers', 'Each trigger can be up to 40 characters.');
    else setErr('triggers', '');
    const n = byteLength(note.value);
    noteCount.textContent = String(n);
    setErr('note', n > maxNote ? `The note is ${n - maxNote} characters too long.` : '');
    return ok;
  };

  const all = (arr) => arr.every((x) => x.sel.value !== '');
  const some = (arr) => arr.some((x) => x.sel.value !== '');

  let pendingRetry = false;
  const submit = async () => {
    formErr.textContent = ''; result.textContent = '';
    if (!validate()) { formErr.textContent = 'Please check the answers marked above.'; return; }
    if ((some(who5) && !all(who5)) || (some(barc) && !all(barc))) {
      formErr.textContent = 'Please answer all of the WHO-5 or BARC-10 statements, or none of them.'; return;
    }
    const d = fields();
    const req = { tz: tzOffset(), mood: Number(d.mood) };
    if (d.craving !== '') req.craving = Number(d.craving);
    if (d.sleep !== '') req.sleep = Number(d.sleep);
    if (d.use) req.use = d.use;
    if (d.stage) req.stage = d.stage;
    if (all(who5)) req.who5 = d.who5.map(Number);
    if (all(barc)) req.barc10 = d.barc.map(Number);
    const tl = d.triggers.split(',').map((s) => s.trim()).filter(Boolean);
    if (tl.length) req.triggers = tl;
    if (d.note.trim()) req.note = d.note;
    try {
      const r = await app.conn.call('checkin.submit', req);
      pendingRetry = false;
      sessionStorage.removeItem(DRAFT);
      const parts = [`Saved for ${r.date}. Your streak is ${r.streak} day${r.streak === 1 ? '' : 's'}.`];
      if (r.who5_pct !== undefined && r.who5_pct !== null) parts.push(`Wellbeing (WHO-5): ${r.who5_pct}%.`);
      if (r.barc10_total !== undefined && r.barc10_total !== null) parts.push(`Recovery strengths (BARC-10): ${r.barc10_total} of 60.`);
      if (r.flags && r.flags.length) parts.push('Today sounds hard. The help button at the top is there any time.');
      result.textContent = parts.join(' ');
      today.textContent = 'You have checked in today. Saving again updates today\u2019s check-in.';
      announce('Check-in saved.');
    } catch (e) {
      if (e.code === 'disconnected') pendingRetry = true;
      formErr.textContent = describe(e);
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
  // Anything typed before today's check-in has been read wins over it: on a slow connection the
  // form is in use before the answer comes.
  let typed = false;
  form.addEventListener('input', () => { typed = true; validate(); sessionStorage.setItem(DRAFT, JSON.stringify(fields())); });

  app.view = { onReady: () => { if (pendingRetry) submit(); } };

  // A draft kept from before a reload, at once; else today's check-in, if any, to edit.
  const draft = sessionStorage.getItem(DRAFT);
  if (draft) fill(JSON.parse(draft));
  try {
    const r = await app.conn.call('checkin.list', { from: localDate(0), to: localDate(0) });
    const c = r.checkins && r.checkins[r.checkins.length - 1];
    if (c && !draft && !typed) {
      fill({ mood: c.mood, craving: c.craving, sleep: c.sleep, use: c.use, stage: c.stage,
        who5: c.who5 ? c.who5.map(String) : [], barc: c.barc10 ? c.barc10.map(String) : [],
        triggers: (c.triggers || []).join(', '), note: c.note || '' });
    }
    if (c) today.textContent = 'You have checked in today. Saving again updates today\u2019s check-in.';
  } catch { /* offline: the form still works and retries */ }
}

// ---- progress ------------------------------------------------------------------------------

// An inline SVG line chart of mood and craving (0 to 10) by day; the table beside it is its
// text alternative.
export function chart(checkins, days) {
  const W = 600, H = 220, L = 30, R = 10, T = 10, B = 30;
  const ns = 'http://www.w3.org/2000/svg';
  const el = (tag, attrs) => { const e = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); return e; };
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title' });
  const title = el('title', { id: 'chart-title' });
  title.textContent = `Mood and craving over the last ${days} days; the same numbers are in the table below.`;
  svg.append(title);
  const start = Date.parse(`${localDate(days - 1)}T00:00:00Z`);
  const x = (date) => L + ((Date.parse(`${date}T00:00:00Z`) - start) / 86400000) * ((W - L - R) / Math.max(1, days - 1));
  const y = (v) => T + (10 - v) * ((H - T - B) / 10);
  for (const v of [0, 5, 10]) {
    svg.append(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'axis' }));
    const t = el('text', { x: 4, y: y(v) + 4 }); t.textContent = String(v); svg.append(t);
  }
  const t0 = el('text', { x: L, y: H - 8 }); t0.textContent = localDate(days - 1); svg.append(t0);
  const t1 = el('text', { x: W - R - 70, y: H - 8 }); t1.textContent = localDate(0); svg.append(t1);
  for (const [key, cls] of [['mood', 'mood'], ['craving', 'craving']]) {
    const pts = checkins.filter((c) => c[key] !== undefined && c[key] !== null).map((c) => [x(c.date), y(c[key])]);
    if (pts.length > 1) svg.append(el('polyline', { points: pts.map((p) => p.join(',')).join(' '), class: cls }));
    for (const [px, py] of pts) svg.append(el('circle', { cx: px, cy: py, r: 4, class: `dot-${cls}` }));
  }
  return svg;
}

export function checkinTable(checkins, withNote) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', { class: 'visually-hidden' }, 'Check-ins by day'),
    h('thead', {}, h('tr', {}, ['Date', 'Mood', 'Craving', 'Sleep', 'WHO-5 %', 'BARC-10', withNote ? 'Note' : null].filter(Boolean).map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, checkins.slice().reverse().map((c) => h('tr', {},
      h('td', {}, c.date), h('td', {}, c.mood ?? '\u2013'), h('td', {}, c.craving ?? '\u2013'), h('td', {}, c.sleep ?? '\u2013'),
      h('td', {}, c.who5_pct ?? '\u2013'), h('td', {}, c.barc10_total ?? '\u2013'), withNote ? h('td', {}, c.note || '') : null)))));
}

export async function progressView(app) {
  const main = app.screen('My progress');
  const box = h('div', {});
  const show = async (days) => {
    clear(box, h('p', {}, 'Loading…'));
    try {
      const [s, l] = await Promise.all([app.conn.call('checkin.summary', { days: Math.max(7, days) }),
        app.conn.call('checkin.list', { from: localDate(days - 1), to: localDate(0) })]);
      const stat = (label, value) => h('div', { class: 'stat' }, h('b', {}, value ?? '\u2013'), label);
      const avg = (v) => (v === undefined || v === null ? '\u2013' : Number(v).toFixed(1));
      clear(box,
        h('div', { class: 'stats' }, stat('day streak', s.streak), stat('best streak', s.best_streak),
          stat(`check-ins in ${days} days`, s.count), stat('average mood', avg(s.mood_avg)),
          stat('average craving', avg(s.craving_avg)), stat('latest wellbeing (WHO-5 %)', s.who5_last),
          stat('latest recovery strengths (BARC-10, of 60)', s.barc10_last)),
        h('h2', {}, `Mood and craving, last ${days} days`),
        h('p', { class: 'legend' }, h('span', {}, '\u2014 solid line: mood'), h('span', {}, '- - dashed line: craving')),
        l.checkins.length ? chart(l.checkins, days) : h('p', {}, 'No check-ins in this period yet.'),
        h('details', {}, h('summary', {}, 'Show the numbers as a table'), checkinTable(l.checkins, true)));
    } catch (e) { clear(box, h('p', { class: 'error' }, describe(e))); }
  };
  const pick = h('fieldset', {}, h('legend', {}, 'Period'), h('div', { class: 'row' }, [7, 30, 90].map((d) =>
    h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'days', value: d, checked: d === 7, onchange: () => show(d) }), h('span', {}, `${d} days`)))));
  clear(main, h('h1', {}, 'My progress'), pick, box);
  await show(7);
}
