// My recovery plan (goals with small steps, triggers, warning signs, coping strategies,
// people to call), and a mentee's plan as their mentor sees it. Limits are PROTOCOL.md's
// ("Recovery plan"); every one is shown next to what it limits and checked as the person
// types, so plan.set is only sent when it will be accepted.
import { describe } from './conn.js';
import { h, clear, announce, fmtDateTime, byteLength } from './dom.js';

export const LIMITS = { goals: 10, steps: 10, list: 20, people: 10, text: 200, name: 60, phone: 30, note: 200 };

const LISTS = [
  ['triggers', 'What can set me off', 'Triggers: people, places, feelings or times that make things harder.', 'trigger'],
  ['warning_signs', 'Warning signs', 'Signs that things are starting to slip, so you can act early.', 'warning sign'],
  ['coping', 'What helps me cope', 'Things that help when it gets hard.', 'coping strategy'],
];

function emptyPlan() {
  return { goals: [], triggers: [], warning_signs: [], coping: [], people: [] };
}

// A copy holding only what plan.set takes (no `updated`, no absent optional fields).
function toWire(p) {
  return {
    goals: p.goals.map((g) => ({ text: g.text.trim(), done: !!g.done, steps: g.steps.map((s) => ({ text: s.text.trim(), done: !!s.done })) })),
    triggers: p.triggers.map((t) => t.trim()),
    warning_signs: p.warning_signs.map((t) => t.trim()),
    coping: p.coping.map((t) => t.trim()),
    people: p.people.map((x) => {
      const o = { name: x.name.trim() };
      if (x.phone && x.phone.trim()) o.phone = x.phone.trim();
      if (x.note && x.note.trim()) o.note = x.note.trim();
      return o;
    }),
  };
}

// What is wrong with one text, or '' when it fits.
function textProblem(value, max, required, what) {
  const v = value.trim();
  if (required && !v) return `Write the ${what}, or remove it.`;
  const n = byteLength(v);
  if (n > max) return `This ${what} is ${n} characters long; it can be up to ${max}.`;
  return '';
}

let uid = 0;

// One text input with its label, a live count of its limit, and its error line.
function textField(label, value, max, required, what, onChange, attrs = {}) {
  const id = `pf-${++uid}`;
  const count = h('span', { class: 'count', id: `${id}-count` });
  const err = h('p', { class: 'error', id: `${id}-err` });
  const input = h('input', { id, value, 'aria-describedby': `${id}-count ${id}-err`, ...attrs });
  const check = () => {
    const n = byteLength(input.value.trim());
    count.textContent = `${n} of ${max} characters`;
    const why = textProblem(input.value, max, required, what);
    err.textContent = why;
    input.setAttribute('aria-invalid', why ? 'true' : 'false');
    return !why;
  };
  input.addEventListener('input', () => { onChange(input.value); check(); });
  check();
  return { input, check, el: h('div', { class: 'field' }, h('label', { for: id }, label), input, h('p', { class: 'hint' }, count), err) };
}

export async function planView(app) {
  const main = app.screen('My plan');
  let plan = emptyPlan();
  let dirty = false;
  const info = h('p', { class: 'hint', id: 'plan-info' });
  const status = h('p', { class: 'notice', role: 'status', id: 'plan-status' });
  const formErr = h('p', { class: 'error', id: 'plan-error', role: 'alert' });
  const body = h('div', { id: 'plan-body' });
  let checks = [];

  const changed = () => { dirty = true; status.textContent = 'You have changes that are not saved yet.'; };
  const limitLine = (n, max, what) => h('p', { class: 'hint limit' }, `${n} of ${max} ${what}${n >= max ? ' \u2014 the most a plan holds; remove one to add another' : ''}.`);
  // Re-renders from the model and puts the focus on `focusId` (a new entry's input).
  const render = (focusSel) => {
    checks = [];
    uid = 0;
    const goals = plan.goals.map((g, gi) => {
      const gt = textField(`Goal ${gi + 1}`, g.text, LIMITS.text, true, 'goal', (v) => { g.text = v; changed(); });
      checks.push(gt.check);
      const steps = g.steps.map((s, si) => {
        const st = textField(`Step ${si + 1} of goal ${gi + 1}`, s.text, LIMITS.text, true, 'step', (v) => { s.text = v; changed(); });
        checks.push(st.check);
        return h('li', { class: 'step' }, st.el,
          h('div', { class: 'row' },
            h('label', { class: 'choice inline' }, h('input', { type: 'checkbox', checked: !!s.done, onchange: (ev) => { s.done = ev.target.checked; changed(); announce(s.done ? `Step ${si + 1} ticked off.` : `Step ${si + 1} is open again.`); } }),
              h('span', {}, `Step ${si + 1} done`)),
            h('button', { type: 'button', class: 'small', onclick: () => { g.steps.splice(si, 1); changed(); render(`#goal-${gi} .add-step`); announce('Step removed.'); } }, `Remove step ${si + 1}`)));
      });
      const full = g.steps.length >= LIMITS.steps;
      return h('fieldset', { class: 'goal', id: `goal-${gi}` }, h('legend', {}, `Goal ${gi + 1}`), gt.el,
        h('label', { class: 'choice inline' }, h('input', { type: 'checkbox', checked: !!g.done, onchange: (ev) => { g.done = ev.target.checked; changed(); } }), h('span', {}, `Goal ${gi + 1} reached`)),
        h('h3', {}, 'Small steps towards it'), limitLine(g.steps.length, LIMITS.steps, 'steps'),
        h('ol', { class: 'plain steps' }, steps),
        h('p', { class: 'row' },
          h('button', { type: 'button', class: 'small add-step', disabled: full, onclick: () => { g.steps.push({ text: '', done: false }); changed(); render(`#goal-${gi} li.step:last-child input:not([type])`); } }, `Add a step to goal ${gi + 1}`),
          h('button', { type: 'button', class: 'small danger', onclick: () => { plan.goals.splice(gi, 1); changed(); render('#add-goal'); announce(`Goal ${gi + 1} removed.`); } }, `Remove goal ${gi + 1}`)));
    });
    const lists = LISTS.map(([key, title, hint, what]) => {
      const items = plan[key].map((t, i) => {
        const f = textField(`${what[0].toUpperCase()}${what.slice(1)} ${i + 1}`, t, LIMITS.text, true, what, (v) => { plan[key][i] = v; changed(); });
        checks.push(f.check);
        return h('li', {}, f.el, h('button', { type: 'button', class: 'small', onclick: () => { plan[key].splice(i, 1); changed(); render(`#add-${key}`); } }, `Remove ${what} ${i + 1}`));
      });
      return h('section', { class: 'card', 'aria-labelledby': `h-${key}` }, h('h2', { id: `h-${key}` }, title), h('p', { class: 'hint' }, hint),
        limitLine(plan[key].length, LIMITS.list, `${what === 'coping strategy' ? 'coping strategies' : `${what}s`}`),
        h('ul', { class: 'plain' }, items),
        h('button', { type: 'button', id: `add-${key}`, disabled: plan[key].length >= LIMITS.list, onclick: () => { plan[key].push(''); changed(); render(`#h-${key} ~ ul li:last-child input`); } }, `Add a ${what}`));
    });
    const people = plan.people.map((x, i) => {
      const n = textField(`Name of person ${i + 1}`, x.name, LIMITS.name, true, 'name', (v) => { x.name = v; changed(); });
      const p = textField(`Phone of person ${i + 1} (optional)`, x.phone || '', LIMITS.phone, false, 'phone number', (v) => { x.phone = v; changed(); }, { type: 'tel', autocomplete: 'off' });
      const note = textField(`Note about person ${i + 1} (optional)`, x.note || '', LIMITS.note, false, 'note', (v) => { x.note = v; changed(); });
      checks.push(n.check, p.check, note.check);
      return h('li', { class: 'person' }, n.el, p.el, note.el,
        h('button', { type: 'button', class: 'small', onclick: () => { plan.people.splice(i, 1); changed(); render('#add-person'); } }, `Remove person ${i + 1}`));
    });
    clear(body,
      h('section', { class: 'card', 'aria-labelledby': 'h-goals' }, h('h2', { id: 'h-goals' }, 'My goals'),
        h('p', { class: 'hint' }, 'What you want, in your own words, each with small steps you can tick off. Any path counts: stopping, cutting down, or medication-assisted recovery.'),
        limitLine(plan.goals.length, LIMITS.goals, 'goals'), goals,
        h('button', { type: 'button', id: 'add-goal', disabled: plan.goals.length >= LIMITS.goals, onclick: () => { plan.goals.push({ text: '', done: false, steps: [] }); changed(); render(`#goal-${plan.goals.length - 1} input`); } }, 'Add a goal')),
      lists,
      h('section', { class: 'card private', 'aria-labelledby': 'h-people' }, h('h2', { id: 'h-people' }, 'People I can call'),
        h('p', { class: 'hint' }, 'Only you ever see these, never your mentor: they are other people\u2019s details.'),
        limitLine(plan.people.length, LIMITS.people, 'people'), h('ul', { class: 'plain' }, people),
        h('button', { type: 'button', id: 'add-person', disabled: plan.people.length >= LIMITS.people, onclick: () => { plan.people.push({ name: '', phone: '', note: '' }); changed(); render('#h-people ~ ul li:last-child input'); } }, 'Add a person')));
    if (focusSel) {
      const el = body.querySelector(focusSel);
      if (el && !el.disabled) el.focus();
    }
  };

  const load = async () => {
    if (dirty) return; // a reconnect must not throw away what was typed
    try {
      const r = await app.conn.call('plan.get');
      plan = { ...emptyPlan(), ...r.plan };
      plan.people = (plan.people || []).map((x) => ({ name: x.name, phone: x.phone || '', note: x.note || '' }));
      info.textContent = r.plan.updated ? `Last saved ${fmtDateTime(r.plan.updated)}.` : 'You have no plan yet. Start with a goal, or anything below.';
      status.textContent = '';
      render();
    } catch (e) { formErr.textContent = describe(e); }
  };

  const save = async (ev) => {
    ev.preventDefault();
    formErr.textContent = '';
    const bad = checks.filter((c) => !c()).length;
    if (bad) {
      formErr.textContent = `${bad} ${bad === 1 ? 'entry needs' : 'entries need'} a change before the plan can be saved (see the messages above).`;
      const first = body.querySelector('[aria-invalid=true]');
      if (first) first.focus();
      return;
    }
    try {
      const r = await app.conn.call('plan.set', { plan: toWire(plan) });
      dirty = false;
      status.textContent = `Saved ${fmtDateTime(r.updated)}.`;
      info.textContent = `Last saved ${fmtDateTime(r.updated)}.`;
      announce('Your plan is saved.');
    } catch (e) {
      // what was typed stays in the form; the sentence says what to change or that it retries
      formErr.textContent = describe(e);
    }
  };

  clear(main, h('h1', {}, 'My plan'),
    h('p', {}, 'Your own plan for staying well: what you are working towards, what puts you at risk, and what helps. If you share scores with your mentor, they can read it (never the people you list).'),
    info,
    h('form', { novalidate: true, onsubmit: save }, body, formErr,
      h('p', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'plan-save' }, 'Save my plan')), status));
  app.view = { onReady: load, leave: () => {} };
  await load();
}

// A mentee's plan, for their mentor, when the mentee shares scores. The server never sends
// `people` to a mentor, and this view has no place for them either.
export async function menteePlanView(app, handle) {
  const main = app.screen(`Plan of ${handle}`);
  try {
    const { plan } = await app.conn.call('mentee.plan', { handle });
    const list = (items) => (items && items.length ? h('ul', {}, items.map((t) => h('li', {}, t))) : h('p', { class: 'hint' }, 'Nothing written yet.'));
    const goals = (plan.goals || []).map((g, gi) => h('li', { class: 'card' },
      h('h3', {}, `Goal ${gi + 1}: ${g.text}`, g.done ? ' (reached)' : ''),
      (g.steps || []).length ? h('ul', { class: 'plain' }, g.steps.map((s) => h('li', {}, `${s.done ? '\u2713 Done: ' : 'To do: '}${s.text}`))) : h('p', { class: 'hint' }, 'No steps yet.')));
    clear(main, h('h1', {}, `Plan of ${handle}`),
      h('p', {}, `${handle} shares scores with you, so you can read their plan. The people they can call stay private to them.`),
      plan.updated ? h('p', { class: 'hint' }, `Last changed ${fmtDateTime(plan.updated)}.`) : h('p', {}, `${handle} has not written a plan yet.`),
      h('h2', {}, 'Goals'), goals.length ? h('ul', { class: 'plain' }, goals) : h('p', { class: 'hint' }, 'No goals yet.'),
      [['triggers', 'Triggers'], ['warning_signs', 'Warning signs'], ['coping', 'Coping strategies']].map(([key, title]) => [h('h2', {}, title), list(plan[key])]),
      h('p', {}, h('a', { href: `#/mentor/${encodeURIComponent(handle)}` }, `Check-ins of ${handle}`), ' \u00b7 ', h('a', { href: '#/mentor' }, 'Back to my mentees')));
  } catch (e) {
    clear(main, h('h1', {}, `Plan of ${handle}`), h('p', { class: 'error', id: 'mentee-plan-error' },
      e.code === 'forbidden' ? `${handle} does not share their plan with you. A mentor reads a mentee\u2019s plan only while the mentee shares scores.` : describe(e)),
    h('p', {}, h('a', { href: '#/mentor' }, 'Back to my mentees')));
  }
}
