// Mutual's browser app: the shell (session, navigation, help, connection banner) and the
// sign-in, sharing and account screens. Other screens live in their own modules.
import { Conn, describe } from './conn.js';
import { h, clear, announce } from './dom.js';
import { checkinView, progressView } from './checkin.js';
import { meetingsView, roomView } from './meetings.js';
import { messagesView, threadView, mentorView, menteeView, adminView, ALERT_TEXT } from './people.js';
import { planView, menteePlanView } from './plan.js';
import { servicesView, supervisionView } from './services.js';
import { safetyView } from './safety.js';

// The token is kept in sessionStorage: it survives a reload of this tab but not closing it,
// and other tabs and later visitors to a shared device do not inherit the session.
const TOKEN_KEY = 'mutual.token';

const BUILTIN_HELP = [
  { name: 'Samaritans (emotional support, any reason)', phone: '116 123', url: 'https://www.samaritans.org', hours: '24 hours, every day', region: 'GB' },
  { name: 'FRANK (drugs information and advice)', phone: '0300 123 6600', url: 'https://www.talktofrank.com', hours: '24 hours, every day', region: 'GB' },
  { name: '988 Suicide & Crisis Lifeline', phone: '988', url: 'https://988lifeline.org', hours: '24 hours, every day', region: 'US' },
  { name: 'SAMHSA National Helpline (treatment referral)', phone: '1-800-662-4357', url: 'https://www.samhsa.gov/find-help/national-helpline', hours: '24 hours, every day', region: 'US' },
];

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

export const app = {
  conn: new Conn(wsUrl),
  user: null,
  ready: false, // connected and, when there is a token, resumed
  unread: 0,
  alerts: 0, // alerts pushed to a mentor while on another screen
  safety: 0, // escalated alerts and reports pushed to an admin while on another screen
  resources: null, // the service's help list, fetched before sign-in
  events: new EventTarget(),
  view: null, // the current screen's {onPush, onReady, leave}
};

function setBanner(text, ok = false) {
  const b = document.getElementById('banner');
  b.hidden = !text;
  b.textContent = text || '';
  b.classList.toggle('ok', ok);
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}
app.go = go;

function navLinks() {
  const u = app.user;
  if (!u) return [['#/signin', 'Sign in'], ['#/register', 'Create an account']];
  const links = [['#/checkin', 'Check in'], ['#/progress', 'My progress'], ['#/plan', 'My plan'], ['#/meetings', 'Meetings'],
    ['#/messages', app.unread ? `Messages (${app.unread} new)` : 'Messages']];
  if (u.role === 'member' || u.role === 'family') links.push(['#/sharing', 'Sharing']);
  if (u.role === 'mentor') links.push(['#/mentor', app.alerts ? `My mentees (${app.alerts} new ${app.alerts === 1 ? 'alert' : 'alerts'})` : 'My mentees']);
  if (u.role === 'admin') links.push(['#/safety', app.safety ? `Safety (${app.safety} new)` : 'Safety'], ['#/admin', 'Admin'], ['#/supervision', 'Supervision']);
  links.push(['#/account', 'My account']);
  return links;
}

function renderNav() {
  const cur = location.hash.split('/').slice(0, 2).join('/') || '#/';
  clear(document.getElementById('nav'), h('ul', {}, navLinks().map(([href, text]) =>
    h('li', {}, h('a', { href, 'aria-current': href === cur ? 'page' : null }, text)))));
  const services = document.getElementById('services-link');
  if (cur === '#/services') services.setAttribute('aria-current', 'page');
  else services.removeAttribute('aria-current');
}
app.renderNav = renderNav;

function screen(title, ...children) {
  document.title = `${title} · Mutual`;
  const main = document.getElementById('main');
  clear(main, h('h1', {}, title), ...children);
  return main;
}
app.screen = screen;

// An error line placed next to what caused it.
export function errorLine(id) {
  return h('p', { class: 'error', id, role: 'alert' });
}

// ---- help ----------------------------------------------------------------------------------

async function openHelp() {
  const dlg = document.getElementById('help-dialog');
  const list = document.getElementById('help-list');
  const source = document.getElementById('help-source');
  const mentor = document.getElementById('help-mentor');
  let resources = BUILTIN_HELP;
  source.textContent = 'Checking this service\u2019s own list…';
  clear(mentor);
  try {
    // Signed in with a mentor, `help` also alerts the mentor: only the button below may do that,
    // so a signed-in person reads the list fetched before sign-in on this connection.
    if (!app.conn.open) throw new Error('offline');
    if (!app.user) app.resources = (await app.conn.call('help')).resources;
    if (!app.resources) throw new Error('no list');
    resources = app.resources;
    source.textContent = 'These are the lines this service lists.';
  } catch {
    source.textContent = app.conn.open ? 'This is the list built into the app.' : 'The server cannot be reached, so this is the list built into the app.';
  }
  clear(list, resources.map((r) => h('li', {},
    h('strong', {}, r.name), r.phone ? [' \u2014 ', h('a', { href: `tel:${r.phone.replace(/[^0-9+]/g, '')}` }, r.phone)] : null,
    r.hours ? h('div', { class: 'hint' }, `${r.hours}${r.region ? ` (${r.region})` : ''}`) : null,
    r.url ? h('div', {}, h('a', { href: r.url, rel: 'noreferrer', target: '_blank' }, `${r.url.replace(/^https?:\/\//, '')} (opens in a new tab)`)) : null)));
  if (app.user && (app.user.role === 'member' || app.user.role === 'family')) {
    const status = h('p', { class: 'notice', role: 'status' });
    // The server passes on that help was asked for, never words typed with it, so none are asked.
    clear(mentor, h('h3', {}, 'Ask your mentor for help'),
      h('p', {}, 'Your mentor gets an alert straight away that you asked for help, whatever you share with them. They can then message you.'),
      h('p', { class: 'row' }, h('button', { type: 'button', class: 'primary', id: 'help-send', onclick: async () => {
        try {
          await app.conn.call('help', {});
          status.textContent = 'Your mentor has been told you asked for help. If no mentor is assigned, the service\u2019s coordinators are told.';
        } catch (e) { status.textContent = describe(e); }
      } }, 'Send a help request')), status);
  }
  if (!dlg.open) dlg.showModal();
}

// ---- session -------------------------------------------------------------------------------

function signedIn(user, token) {
  app.user = user;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  app.events.dispatchEvent(new CustomEvent('signedin'));
}

async function onUp() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const wasDown = !document.getElementById('banner').hidden;
  // Asked before any resume, so it is never a help request (see openHelp).
  try { app.resources = (await app.conn.call('help')).resources; } catch { /* the built-in list stays */ }
  if (token) {
    try {
      const r = await app.conn.call('resume', { token });
      app.user = r.user;
    } catch (e) {
      if (e.code === 'unauthenticated') {
        sessionStorage.removeItem(TOKEN_KEY);
        app.user = null;
      }
    }
  }
  app.ready = true;
  setBanner(wasDown ? 'Connected again.' : '', true);
  if (wasDown) setTimeout(() => { if (app.conn.open) setBanner(''); }, 4000);
  renderNav();
  if (app.view && app.view.onReady && app.view.user === (app.user && app.user.handle)) app.view.onReady();
  else route();
}

function onPush(msg) {
  if (msg.op === 'dm.msg' && app.user && msg.from !== app.user.handle) {
    if (!(app.view && app.view.thread === msg.from)) {
      app.unread++;
      renderNav();
      announce(`New message from ${msg.from}.`);
    }
  }
  // A help request must not wait until the mentor happens to open their caseload.
  if (msg.op === 'alert' && app.user && app.user.role === 'mentor' && !location.hash.startsWith('#/mentor')) {
    app.alerts++;
    renderNav();
    announce(`Alert: ${ALERT_TEXT[msg.kind] || msg.kind}, ${msg.handle}. See My mentees.`);
  }
  // An admin gets escalated alerts and reports from meetings; they wait on the Safety screen.
  if ((msg.op === 'alert' || msg.op === 'room.report') && app.user && app.user.role === 'admin' && !location.hash.startsWith('#/safety')) {
    app.safety++;
    renderNav();
    announce(msg.op === 'alert' ? `Escalated alert: ${ALERT_TEXT[msg.kind] || msg.kind}, ${msg.handle}. See Safety.` : `A message in ${msg.room} was reported. See Safety.`);
  }
  app.events.dispatchEvent(new CustomEvent('push', { detail: msg }));
  if (app.view && app.view.onPush) app.view.onPush(msg);
}

// ---- screens -------------------------------------------------------------------------------

function signInView() {
  const handle = h('input', { id: 'si-handle', autocomplete: 'username', required: true, maxlength: 32 });
  const pw = h('input', { id: 'si-password', type: 'password', autocomplete: 'current-password', required: true });
  const err = errorLine('si-error');
  const form = h('form', { class: 'card', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    if (!handle.value.trim() || !pw.value) { err.textContent = 'Please enter your name on Mutual and your password.'; return; }
    try {
      const r = await app.conn.call('login', { handle: handle.value.trim(), password: pw.value });
      signedIn(r.user, r.token);
      go('#/checkin');
    } catch (e) { err.textContent = describe(e); pw.focus(); }
  } },
  h('label', { for: 'si-handle' }, 'Your name on Mutual'), handle,
  h('label', { for: 'si-password' }, 'Password'), pw, err,
  h('p', { class: 'row' }, h('button', { class: 'primary', type: 'submit' }, 'Sign in')));
  screen('Sign in', h('p', {}, 'Mutual is peer support for recovery: daily check-ins, meetings and your peer mentor.'),
    form, h('p', {}, 'New here? ', h('a', { href: '#/register' }, 'Create an account')));
  handle.focus();
}

function registerView() {
  const handle = h('input', { id: 'rg-handle', autocomplete: 'username', maxlength: 32, 'aria-describedby': 'rg-handle-hint' });
  const pw = h('input', { id: 'rg-password', type: 'password', autocomplete: 'new-password', 'aria-describedby': 'rg-password-hint' });
  const err = errorLine('rg-error');
  const role = (value, title, text) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'role', value, checked: value === 'member' }),
    h('span', {}, h('strong', {}, title), h('span', { class: 'hint', style: null }, ` \u2014 ${text}`)));
  const form = h('form', { class: 'card', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const hv = handle.value.trim();
    if (!/^[A-Za-z0-9_.-]{3,32}$/.test(hv)) { err.textContent = 'Your name on Mutual needs 3 to 32 letters, digits, dots, dashes or underscores.'; handle.focus(); return; }
    const bytes = new TextEncoder().encode(pw.value).length;
    if (bytes < 8 || bytes > 128) { err.textContent = 'Your password needs 8 to 128 characters.'; pw.focus(); return; }
    const r0 = form.querySelector('input[name=role]:checked').value;
    try {
      const r = await app.conn.call('register', { handle: hv, password: pw.value, role: r0 });
      signedIn(r.user, r.token);
      go('#/checkin');
    } catch (e) { err.textContent = e.code === 'conflict' ? 'That name is taken. Please choose another.' : describe(e); }
  } },
  h('label', { for: 'rg-handle' }, 'Choose a name on Mutual'),
  h('p', { class: 'hint', id: 'rg-handle-hint' }, 'A nickname, not your real name: 3 to 32 letters, digits, dots, dashes or underscores.'), handle,
  h('label', { for: 'rg-password' }, 'Choose a password'),
  h('p', { class: 'hint', id: 'rg-password-hint' }, '8 to 128 characters. A few words you will remember works well.'), pw,
  h('fieldset', {}, h('legend', {}, 'I am joining as'),
    role('member', 'Someone in recovery', 'for your own recovery: daily check-ins, recovery meetings and a peer mentor.'),
    role('family', 'A family member or carer', 'to support someone else: carers\u2019 meetings and your own check-ins.')),
  err, h('p', { class: 'row' }, h('button', { class: 'primary', type: 'submit' }, 'Create my account')));
  screen('Create an account', form, h('p', {}, 'Already have an account? ', h('a', { href: '#/signin' }, 'Sign in')));
  handle.focus();
}

async function sharingView() {
  const main = screen('Sharing with my mentor', h('p', {}, 'Loading…'));
  let info;
  try { info = await app.conn.call('mentor.get'); } catch (e) { clear(main, h('h1', {}, 'Sharing with my mentor'), h('p', { class: 'error' }, describe(e))); return; }
  const status = h('p', { class: 'notice', role: 'status' });
  const opt = (value, title, text) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'share', value, checked: info.share === value }),
    h('span', {}, h('strong', {}, title), ` \u2014 ${text}`));
  const form = h('form', { class: 'card', onsubmit: async (ev) => {
    ev.preventDefault();
    const share = form.querySelector('input[name=share]:checked').value;
    try { await app.conn.call('consent.set', { share }); status.textContent = 'Saved. Your choice applies from now on.'; }
    catch (e) { status.textContent = describe(e); }
  } },
  h('fieldset', {}, h('legend', {}, 'What my mentor may see'),
    opt('none', 'Nothing', 'your mentor sees none of your check-ins and gets no alerts (a help request you send still reaches them).'),
    opt('alerts', 'Alerts only', 'your mentor is alerted when a check-in shows high craving, low mood or wellbeing, use above your plan, or missed days; never your answers or note.'),
    opt('scores', 'Alerts and scores', 'your mentor also sees your check-in answers and chart; never your private note.')),
  h('p', { class: 'row' }, h('button', { class: 'primary', type: 'submit' }, 'Save my choice')), status);
  clear(main, h('h1', {}, 'Sharing with my mentor'),
    h('p', {}, info.mentor ? ['Your mentor is ', h('strong', {}, info.mentor), '.'] : 'You have no mentor assigned yet. Your choice will apply when you have one.'),
    form);
}

function accountView() {
  const u = app.user;
  const oldPw = h('input', { id: 'pw-old', type: 'password', autocomplete: 'current-password' });
  const newPw = h('input', { id: 'pw-new', type: 'password', autocomplete: 'new-password', 'aria-describedby': 'pw-new-hint' });
  const pwErr = errorLine('pw-error');
  const pwOk = h('p', { class: 'notice', role: 'status' });
  const delPw = h('input', { id: 'del-password', type: 'password', autocomplete: 'current-password' });
  const delErr = errorLine('del-error');
  const exportStatus = h('p', { class: 'notice', role: 'status' });
  screen('My account',
    h('p', {}, 'Signed in as ', h('strong', {}, u.handle), ` (${u.role}).`),
    h('p', { class: 'row' }, h('button', { type: 'button', id: 'signout', onclick: async () => {
      try { await app.conn.call('logout'); } catch { /* the token is dropped here either way */ }
      sessionStorage.removeItem(TOKEN_KEY);
      app.user = null;
      app.unread = 0;
      renderNav();
      go('#/signin');
      announce('You are signed out.');
    } }, 'Sign out')),
    h('h2', {}, 'Change my password'),
    h('form', { class: 'card', novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      pwErr.textContent = ''; pwOk.textContent = '';
      const n = new TextEncoder().encode(newPw.value).length;
      if (n < 8 || n > 128) { pwErr.textContent = 'The new password needs 8 to 128 characters.'; return; }
      try {
        await app.conn.call('password.set', { old: oldPw.value, new: newPw.value });
        oldPw.value = ''; newPw.value = '';
        pwOk.textContent = 'Your password is changed. Your other devices are signed out.';
      } catch (e) { pwErr.textContent = e.code === 'forbidden' ? 'Your current password is not right.' : describe(e); }
    } },
    h('label', { for: 'pw-old' }, 'Current password'), oldPw,
    h('label', { for: 'pw-new' }, 'New password'), h('p', { class: 'hint', id: 'pw-new-hint' }, '8 to 128 characters.'), newPw,
    pwErr, h('p', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Change password')), pwOk),
    h('h2', {}, 'My data'),
    h('div', { class: 'card' },
      h('p', {}, 'Download everything Mutual keeps about you (your check-ins with your notes, your messages, alerts about you, your own meeting messages still kept) as one JSON file.'),
      h('p', { class: 'row' }, h('button', { type: 'button', id: 'export', onclick: async () => {
        try {
          const r = await app.conn.call('me.export');
          delete r.op; delete r.rid; delete r.ok;
          const blob = new Blob([JSON.stringify(r, null, 2)], { type: 'application/json' });
          const a = h('a', { href: URL.createObjectURL(blob), download: `mutual-${u.handle}.json` });
          document.body.append(a); a.click(); a.remove();
          exportStatus.textContent = 'Your file is downloading.';
        } catch (e) { exportStatus.textContent = describe(e); }
      } }, 'Download my data')), exportStatus),
    h('h2', {}, 'Delete my account'),
    h('form', { class: 'card', novalidate: true, onsubmit: async (ev) => {
      ev.preventDefault();
      delErr.textContent = '';
      try {
        await app.conn.call('me.delete', { password: delPw.value });
        sessionStorage.removeItem(TOKEN_KEY);
        app.user = null;
        renderNav();
        screen('Your account is deleted', h('p', {}, 'Everything listed has been erased. Take care of yourself.'), h('p', {}, h('a', { href: '#/register' }, 'Create a new account')));
      } catch (e) { delErr.textContent = e.code === 'forbidden' ? 'That password is not right.' : describe(e); }
    } },
    h('p', {}, 'This erases, for good: your account and sign-ins, all your check-ins and private notes, your messages with your mentor, alerts about you, your mentor assignment, and your messages kept in meetings. Your name becomes free for others. Records that a moderator acted in a meeting stay, showing you as \u201c(erased)\u201d.'),
    h('label', { for: 'del-password' }, 'Your password, to confirm'), delPw, delErr,
    h('p', { class: 'row' }, h('button', { type: 'submit', class: 'danger' }, 'Delete my account for good'))));
}

// ---- routing -------------------------------------------------------------------------------

function route() {
  if (app.view && app.view.leave) app.view.leave();
  app.view = null;
  renderNav();
  const parts = (location.hash || '#/').slice(2).split('/').map(decodeURIComponent);
  const [page, arg, sub] = parts;
  if (!app.ready) return;
  if (page === 'services') { // the directory is for everyone, signed in or not
    servicesView(app);
    if (app.view) app.view.user = app.user && app.user.handle;
    document.getElementById('main').focus({ preventScroll: true });
    return;
  }
  if (!app.user) {
    if (page === 'register') return registerView();
    return signInView();
  }
  const views = {
    checkin: () => checkinView(app), progress: () => progressView(app), sharing: sharingView,
    meetings: () => meetingsView(app), room: () => roomView(app, arg), messages: () => (arg ? threadView(app, arg) : messagesView(app)),
    mentor: () => (!arg ? mentorView(app) : sub === 'plan' ? menteePlanView(app, arg) : menteeView(app, arg)),
    admin: () => adminView(app), safety: () => safetyView(app), account: accountView, plan: () => planView(app), supervision: () => supervisionView(app),
  };
  (views[page] || views.checkin)();
  if (app.view) app.view.user = app.user.handle;
  document.getElementById('main').focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);
document.getElementById('help-button').addEventListener('click', openHelp);
document.getElementById('help-close').addEventListener('click', () => document.getElementById('help-dialog').close());
// The directory is a page of its own: following the link from the dialog closes the dialog.
document.getElementById('help-services').addEventListener('click', () => document.getElementById('help-dialog').close());
app.conn.addEventListener('up', onUp);
app.conn.addEventListener('push', (ev) => onPush(ev.detail));
app.conn.addEventListener('down', (ev) => {
  app.ready = !!app.user; // screens stay usable to read; calls fail with "offline" until back
  setBanner(`${ev.detail.why} Reconnecting in ${ev.detail.retryIn} s\u2026 Nothing you typed is lost.`);
  if (!app.user) route();
});
app.events.addEventListener('signedin', () => { app.unread = 0; app.alerts = 0; app.safety = 0; renderNav(); });
app.conn.connect();
setTimeout(() => { if (!app.ready && !app.conn.open) { app.ready = true; route(); } }, 4000);
