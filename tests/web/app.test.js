// Every journey of the browser app against the real mutuald, with several browsers at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD } from './server.js';
import { newPage, signIn, screen, tabTo, record, useServer, waitText, slowFromServer } from './helpers.js';

const env = useServer([['root', 'admin'], ['mona', 'mentor'], ['anna', 'member'], ['ben', 'member']], 'axe');

const text = (page, sel) => page.textContent(sel);

test('page load on loopback', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.srv.url); // a first visit warms the browser itself up; the second is measured
  await page.waitForSelector('#si-handle');
  await page.goto('about:blank');
  const t0 = Date.now();
  await page.goto(env.srv.url);
  await page.waitForSelector('#si-handle');
  const ready = Date.now() - t0;
  const nav = await page.evaluate(() => { const n = performance.getEntriesByType('navigation')[0]; return { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd }; });
  record(`load: DOMContentLoaded ${nav.dcl.toFixed(0)} ms, load ${nav.load.toFixed(0)} ms, sign-in form ready ${ready} ms`);
  await screen(page, 'signin');
  // 64-bit integers: a uint64 millisecond time decodes to an exact number; past 2^53 the value
  // is kept exact as a string instead of being rounded.
  const ints = await page.evaluate(async () => {
    const { encode, decode } = await import('/vendor/msgpack.mjs');
    const { fixInts } = await import('/js/conn.js');
    const u64 = (v) => { const b = new Uint8Array(9); b[0] = 0xcf; new DataView(b.buffer).setBigUint64(1, v); return b; };
    const ts = fixInts(decode(u64(1764750000123n), { useBigInt64: true }));
    const big = fixInts(decode(u64(9007199254740993n), { useBigInt64: true }));
    const small = fixInts(decode(encode({ rid: 7 }), { useBigInt64: true }));
    return { ts, tsType: typeof ts, big, small: small.rid };
  });
  assert.deepEqual(ints, { ts: 1764750000123, tsType: 'number', big: '9007199254740993', small: 7 });
  await page.context().close();
});

test('register as family, sign out, sign in, resume on reload, change password', async () => {
  const page = await newPage(env.browser);
  await page.goto(`${env.srv.url}#/register`);
  await page.waitForSelector('#rg-handle');
  await page.fill('#rg-handle', 'x');
  await page.fill('#rg-password', 'short');
  await page.click('form button[type=submit]');
  await waitText(page, '#rg-error', /3 to 32/);
  await screen(page, 'register-error');
  await page.fill('#rg-handle', 'carer.kim');
  await page.fill('#rg-password', PASSWORD);
  await page.check('input[name=role][value=family]');
  await page.click('form button[type=submit]');
  await page.waitForSelector('#mood');
  // Reload keeps the session (sessionStorage) and lands on the same screen.
  await page.reload();
  await page.waitForSelector('#mood');
  await page.goto(`${env.srv.url}#/account`);
  await page.waitForSelector('#pw-old');
  await screen(page, 'account');
  await page.fill('#pw-old', PASSWORD);
  await page.fill('#pw-new', 'another long password');
  await page.click('#pw-new ~ p button[type=submit], form:has(#pw-new) button[type=submit]');
  await waitText(page, 'form:has(#pw-new) .notice', /changed/);
  await page.click('#signout');
  await page.waitForSelector('#si-handle');
  // The name is taken now.
  await page.goto(`${env.srv.url}#/register`);
  await page.fill('#rg-handle', 'carer.kim');
  await page.fill('#rg-password', PASSWORD);
  await page.click('form button[type=submit]');
  await waitText(page, '#rg-error', /taken/);
  await signIn(page, env.srv.url, 'carer.kim', 'another long password');
  await page.context().close();
});

test('keyboard-only check-in, validation, same-day edit, progress', async () => {
  const page = await newPage(env.browser);
  await signIn(page, env.srv.url, 'anna');
  await screen(page, 'checkin');
  await tabTo(page, 'mood');
  await page.keyboard.type('11');
  await tabTo(page, 'checkin-submit');
  await page.keyboard.press('Enter');
  await waitText(page, '#mood-err', /0 to 10/);
  await screen(page, 'checkin-error');
  await page.focus('#mood');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('6');
  await tabTo(page, 'craving');
  await page.keyboard.type('3');
  await tabTo(page, 'note');
  await page.keyboard.type('Only for me.');
  await tabTo(page, 'checkin-submit');
  await page.keyboard.press('Enter');
  await waitText(page, '#checkin-result', /streak is 1 day/);
  await screen(page, 'checkin-saved');
  // The same day again: today's answers are shown to edit.
  await page.reload();
  await waitText(page, '#today-status', /already|checked in today/);
  await page.waitForFunction(() => document.querySelector('#mood').value === '6');
  assert.equal(await page.inputValue('#note'), 'Only for me.');
  await page.goto(`${env.srv.url}#/progress`);
  await page.waitForSelector('svg.chart');
  assert.match(await page.getAttribute('svg.chart', 'aria-labelledby'), /chart-title/);
  await screen(page, 'progress');
  await page.check('input[name=days][value="30"]');
  await page.waitForSelector('svg.chart');
  await page.context().close();
});

test('answers typed before today\u2019s check-in has loaded are kept', async () => {
  const page = await newPage(env.browser);
  // Frames from the server held back, so that the form is on the screen well before today's
  // check-in (mood 6, craving 3, from the test above) reaches it.
  const lag = await slowFromServer(page);
  await signIn(page, env.srv.url, 'anna');
  await waitText(page, '#today-status', /checked in today/);
  await page.goto(`${env.srv.url}#/progress`);
  await page.waitForSelector('svg.chart');
  lag.ms = 1500;
  await page.goto(`${env.srv.url}#/checkin`);
  await page.fill('#mood', '2');
  await page.fill('#craving', '8');
  assert.doesNotMatch(await text(page, '#today-status'), /checked in today/, 'the answer came before the typing');
  await waitText(page, '#today-status', /checked in today/);
  assert.equal(await page.inputValue('#mood'), '2');
  assert.equal(await page.inputValue('#craving'), '8');
  lag.ms = 0;
  // A reload keeps the draft rather than today's stored answers.
  await page.reload();
  await waitText(page, '#today-status', /checked in today/);
  assert.equal(await page.inputValue('#mood'), '2');
  assert.equal(await page.inputValue('#craving'), '8');
  await page.context().close();
});

test('admin assigns a mentor; sharing; a live alert; DMs both ways with read receipts', async () => {
  const admin = await newPage(env.browser);
  await signIn(admin, env.srv.url, 'root');
  await admin.goto(`${env.srv.url}#/admin`);
  await admin.waitForSelector('#ma-user');
  await admin.fill('#ma-user', 'anna');
  await admin.fill('#ma-mentor', 'mona');
  await admin.click('form:has(#ma-user) button[type=submit]');
  await waitText(admin, '#admin-status', /assigned/);
  await admin.fill('#uc-handle', 'new.mentor');
  await admin.fill('#uc-password', PASSWORD);
  await admin.selectOption('#uc-role', 'mentor');
  await admin.click('form:has(#uc-handle) button[type=submit]');
  await waitText(admin, '#admin-status', /created/);
  await admin.waitForSelector('#stats .stat');
  await screen(admin, 'admin');

  const anna = await newPage(env.browser);
  await signIn(anna, env.srv.url, 'anna');
  await anna.goto(`${env.srv.url}#/sharing`);
  await waitText(anna, 'main', /Your mentor is mona/);
  await anna.check('input[name=share][value=scores]');
  await anna.click('main form button[type=submit]');
  await waitText(anna, 'main .notice', /Saved/);
  await screen(anna, 'sharing');

  const mona = await newPage(env.browser);
  await signIn(mona, env.srv.url, 'mona');
  await mona.goto(`${env.srv.url}#/mentor`);
  await waitText(mona, '#caseload', /anna/);
  await screen(mona, 'mentor');
  // A high craving raises an alert that arrives while the mentor watches.
  await anna.goto(`${env.srv.url}#/checkin`);
  await anna.waitForSelector('#mood');
  await anna.fill('#mood', '5');
  await anna.fill('#craving', '9');
  await anna.click('#checkin-submit');
  await waitText(anna, '#checkin-result', /Saved/);
  await waitText(mona, '#alerts', /High craving: anna/);
  await screen(mona, 'mentor-alert');
  await mona.click('#alerts button');
  await waitText(mona, '#alerts', /^$|No open alerts|^(?![\s\S]*High craving)/);
  await mona.goto(`${env.srv.url}#/mentor/anna`);
  await mona.waitForSelector('svg.chart');
  assert.doesNotMatch(await text(mona, 'main'), /Only for me/);
  await screen(mona, 'mentee-checkins');

  // Messages: anna writes, mona sees it live, answers; both see read receipts.
  await mona.goto(`${env.srv.url}#/messages/anna`);
  await mona.waitForSelector('#dm-text');
  await anna.goto(`${env.srv.url}#/messages`);
  await waitText(anna, '#threads', /mona/);
  await screen(anna, 'messages');
  await anna.click('#threads a');
  await anna.waitForSelector('#dm-text');
  await anna.fill('#dm-text', 'Hello Mona, rough day.');
  await anna.click('#dm-send');
  await waitText(mona, '#dm-log', /rough day/);
  await waitText(anna, '#dm-log', /read/);
  await mona.fill('#dm-text', 'I am here. Want to talk at 6?');
  await mona.click('#dm-send');
  await waitText(anna, '#dm-log', /talk at 6/);
  await waitText(mona, '#dm-log', /read/);
  await screen(anna, 'thread');
  // A message sent while the other is signed out arrives on sign-in.
  await anna.context().close();
  await mona.fill('#dm-text', 'Checking in on you.');
  await mona.click('#dm-send');
  await waitText(mona, '#dm-log', /Checking in on you/);
  const anna2 = await newPage(env.browser);
  await signIn(anna2, env.srv.url, 'anna');
  await waitText(anna2, '#nav', /Messages \(1 new\)/);
  for (const p of [admin, mona, anna2]) await p.context().close();
});

test('the next message, typed while one is on its way, is kept', async () => {
  const anna = await newPage(env.browser);
  const lag = await slowFromServer(anna);
  await signIn(anna, env.srv.url, 'anna');
  await anna.goto(`${env.srv.url}#/messages/mona`);
  await anna.waitForSelector('#dm-text');
  lag.ms = 1500;
  await anna.fill('#dm-text', 'First thing.');
  await anna.click('#dm-send');
  await anna.fill('#dm-text', 'And a second');
  lag.ms = 0;
  await waitText(anna, '#dm-log', /First thing/);
  assert.equal(await anna.inputValue('#dm-text'), 'And a second');
  await anna.click('#dm-send');
  await waitText(anna, '#dm-log', /And a second/);
  assert.equal(await anna.inputValue('#dm-text'), '');
  await anna.context().close();
});

test('a meeting: mentor facilitates, members join through the lobby, hands, floor, mute, end', async () => {
  const mona = await newPage(env.browser);
  await signIn(mona, env.srv.url, 'mona');
  await mona.goto(`${env.srv.url}#/meetings`);
  await mona.click('summary:has-text("Create a meeting")');
  await mona.fill('#rf-room', 'smart-tue');
  await mona.fill('#rf-name', 'SMART Tuesday');
  await mona.fill('#rf-format', 'SMART');
  await mona.selectOption('#rf-audience', 'recovery');
  await mona.selectOption('#rf-day', '2');
  await mona.fill('#rf-time', '19:00');
  // A new room defaults to showing newcomers only what is said after they join.
  assert.ok(await mona.isChecked('input[name=backlog][value=join]'));
  await mona.check('input[name=backlog][value=recent]');
  await mona.check('#rf-listed');
  await mona.click('form:has(#rf-room) button[type=submit]');
  await waitText(mona, '#room-list', /SMART Tuesday/);
  // What the server stored comes back in rooms.list.
  await waitText(mona, '#room-list .room-details', /also sees what was said earlier[\s\S]*Listed in the public/);
  // A listed room with a weekly time offers its calendar, which the server answers.
  assert.equal(await mona.textContent('#room-list a.ics'), 'Add SMART Tuesday to your calendar');
  const ics = await mona.evaluate(async () => {
    const r = await fetch(document.querySelector('#room-list a.ics').href);
    return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
  });
  assert.equal(ics.status, 200);
  assert.match(ics.type, /text\/calendar/);
  assert.match(ics.body, /BEGIN:VCALENDAR[\s\S]*RRULE:FREQ=WEEKLY[\s\S]*SUMMARY:SMART Tuesday/);
  await screen(mona, 'meetings');
  await mona.click('#room-list a.join');
  await mona.waitForSelector('#ctl-open');
  await mona.click('#ctl-open');
  await waitText(mona, '#ctl-open', /End the meeting/);
  await mona.click('#ctl-lobby');
  await waitText(mona, '#ctl-lobby', /off/);
  await screen(mona, 'room-facilitator');

  // Anna joins with the keyboard only and waits in the lobby.
  const anna = await newPage(env.browser);
  await signIn(anna, env.srv.url, 'anna');
  await anna.goto(`${env.srv.url}#/meetings`);
  await anna.waitForSelector('#room-list a.join');
  await tabTo(anna, 'room-list', 0).catch(() => {});
  for (let i = 0; i < 80; i++) {
    await anna.keyboard.press('Tab');
    if (await anna.evaluate(() => document.activeElement?.classList.contains('join'))) break;
  }
  await anna.keyboard.press('Enter');
  await waitText(anna, '#room-status', /Waiting to be admitted/);
  await screen(anna, 'room-lobby');
  await waitText(mona, '#knocks', /anna/);
  await screen(mona, 'room-knock');
  await mona.click('#knocks button:has-text("Admit")');
  await anna.waitForSelector('#say-text');
  await anna.focus('#say-text');
  await anna.keyboard.type('Hi all, day 12 today.');
  await anna.keyboard.press('Tab');
  await anna.keyboard.press('Enter');
  await waitText(mona, '#room-log', /day 12/);

  const ben = await newPage(env.browser);
  await signIn(ben, env.srv.url, 'ben');
  await ben.goto(`${env.srv.url}#/room/smart-tue`);
  await waitText(mona, '#knocks', /ben/);
  await mona.click('#knocks button:has-text("Deny")');
  await waitText(ben, '#room-status', /did not admit/);
  await screen(ben, 'room-denied');

  // Floor mode, a raised hand and a timed share with a countdown.
  await mona.click('#ctl-floor');
  await anna.click('#hand');
  await waitText(mona, '#hands', /anna/);
  await mona.selectOption('#give-secs', '60');
  await mona.click('#hands button');
  await waitText(anna, '#floor-line', /you/);
  await anna.waitForSelector('#countdown');
  assert.match(await text(anna, '#countdown'), /^[01]:\d\d$/);
  await screen(anna, 'room-floor');
  await anna.fill('#say-text', 'Sharing now.');
  await anna.click('#say-send');
  await waitText(mona, '#room-log', /Sharing now/);
  await mona.click('button:has-text("Take the floor back")');
  await mona.click('button:has-text("Mute anna")');
  await waitText(anna, '#room-status', /muted/);
  await screen(anna, 'room-muted');
  await mona.click('button:has-text("Unmute anna")');
  await waitText(anna, '#room-status', /speak again/);
  await mona.click('#ctl-open');
  await waitText(anna, '#room-status', /ended/);
  await screen(anna, 'room-ended');

  // Closing reset the lobby: anna comes straight back in, is removed with a ban, cannot
  // rejoin, and is let back in after an unban.
  await mona.click('#ctl-open');
  await waitText(mona, '#ctl-open', /End the meeting/);
  await anna.goto(`${env.srv.url}#/meetings`);
  await anna.goto(`${env.srv.url}#/room/smart-tue`);
  await anna.waitForSelector('#say-text');
  await mona.click('button:has-text("Ban anna")');
  await waitText(anna, '#room-status', /cannot rejoin/);
  await screen(anna, 'room-banned');
  await anna.goto(`${env.srv.url}#/meetings`);
  await anna.goto(`${env.srv.url}#/room/smart-tue`);
  await waitText(anna, '#room-status', /cannot join/);
  await mona.fill('#unban-handle', 'anna');
  await mona.click('form:has(#unban-handle) button[type=submit]');
  // The facilitator is told once the unban is stored, and only then may anna come back.
  await waitText(mona, '#announce', /anna can join this meeting again/);
  assert.equal(await mona.inputValue('#unban-handle'), '');
  await anna.goto(`${env.srv.url}#/meetings`);
  await anna.goto(`${env.srv.url}#/room/smart-tue`);
  await anna.waitForSelector('#say-text');

  // Editing the meeting: the new name shows in the list.
  await mona.click('summary:has-text("Edit this meeting")');
  await mona.fill('#facilitator #rf-name', 'SMART Tuesday evening');
  assert.ok(await mona.isChecked('#facilitator input[name=backlog][value=recent]'));
  assert.ok(await mona.isChecked('#facilitator #rf-listed'));
  await mona.check('#facilitator input[name=backlog][value=join]');
  await mona.uncheck('#facilitator #rf-listed');
  await screen(mona, 'room-edit');
  await mona.click('#facilitator form:has(#rf-name) button[type=submit]');
  await waitText(mona, '#announce', /Meeting saved/);
  await anna.goto(`${env.srv.url}#/meetings`);
  await waitText(anna, '#room-list', /SMART Tuesday evening/);
  await waitText(anna, '#room-list .room-details', /sees only what is said after they first join[\s\S]*Not listed/);
  assert.equal(await anna.locator('#room-list a.ics').count(), 0); // unlisted: no public calendar
  assert.match(await text(mona, 'main .room-details'), /only what is said after they first join[\s\S]*Not listed/);
  await mona.click('#ctl-open');
  for (const p of [mona, anna, ben]) await p.context().close();
});

test('help: the service list and a help request when signed in; the built-in list offline', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.srv.url);
  await page.waitForSelector('#si-handle');
  await page.click('#help-button');
  await waitText(page, '#help-source', /this service lists/);
  await waitText(page, '#help-list', /Samaritans/);
  await screen(page, 'help');
  await page.keyboard.press('Escape');
  await signIn(page, env.srv.url, 'anna');
  await page.click('#help-button');
  await page.waitForSelector('#help-send');
  await page.click('#help-send');
  await waitText(page, '#help-mentor .notice', /told/);
  await page.keyboard.press('Escape');
  await page.context().close();
});

test('a help request reaches the mentor live, on any screen', async () => {
  const admin = await newPage(env.browser);
  await signIn(admin, env.srv.url, 'root');
  await admin.goto(`${env.srv.url}#/admin`);
  await admin.waitForSelector('#uc-handle');
  await admin.fill('#uc-handle', 'cal');
  await admin.fill('#uc-password', PASSWORD);
  await admin.selectOption('#uc-role', 'member');
  await admin.click('form:has(#uc-handle) button[type=submit]');
  await waitText(admin, '#admin-status', /created/);
  // A mentor of their own, so no earlier alert is counted with this one.
  await admin.fill('#uc-handle', 'meg');
  await admin.fill('#uc-password', PASSWORD);
  await admin.selectOption('#uc-role', 'mentor');
  await admin.click('form:has(#uc-handle) button[type=submit]');
  await waitText(admin, '#admin-status', /created/);
  await admin.fill('#ma-user', 'cal');
  await admin.fill('#ma-mentor', 'meg');
  await admin.click('form:has(#ma-user) button[type=submit]');
  await waitText(admin, '#admin-status', /assigned/);
  await admin.context().close();

  // The mentor is on the check-in screen, not their caseload; cal shares nothing.
  const mona = await newPage(env.browser);
  await signIn(mona, env.srv.url, 'meg');
  const cal = await newPage(env.browser);
  await signIn(cal, env.srv.url, 'cal');
  await cal.click('#help-button');
  await cal.click('#help-send');
  await waitText(cal, '#help-mentor .notice', /told/);
  await waitText(mona, '#nav', /My mentees \(1 new alert\)/); // opening the help list alone alerts nobody
  await waitText(mona, '#announce', /Asked for help, cal/);
  await screen(mona, 'mentor-help-nav');
  await mona.click('#nav a[href="#/mentor"]');
  await waitText(mona, '#alerts', /Asked for help: cal/);
  await waitText(mona, '#nav', /^(?![\s\S]*new alert)/);
  await screen(mona, 'mentor-help-alert');
  await mona.click('#alerts button:has-text("Acknowledge (cal)")');
  await waitText(mona, '#alerts', /^(?![\s\S]*Asked for help: cal)/);
  for (const p of [mona, cal]) await p.context().close();
});

test('facilitator: lock and unlock, an untimed floor taken back, remove without a ban', async () => {
  const mona = await newPage(env.browser);
  await signIn(mona, env.srv.url, 'mona');
  await mona.goto(`${env.srv.url}#/meetings`);
  await mona.click('summary:has-text("Create a meeting")');
  await mona.fill('#rf-room', 'quiet-room');
  await mona.fill('#rf-name', 'Quiet room');
  await mona.click('form:has(#rf-room) button[type=submit]');
  await waitText(mona, '#room-list', /Quiet room/);
  await mona.goto(`${env.srv.url}#/room/quiet-room`);
  await mona.waitForSelector('#ctl-open');
  await mona.click('#ctl-open');
  await waitText(mona, '#ctl-open', /End the meeting/);
  await mona.click('#ctl-lock');
  await waitText(mona, '#ctl-lock', /^Unlock$/);
  await waitText(mona, '#floor-line', /locked/);
  await screen(mona, 'room-locked');

  const ben = await newPage(env.browser);
  await signIn(ben, env.srv.url, 'ben');
  await ben.goto(`${env.srv.url}#/room/quiet-room`);
  await waitText(ben, '#room-status', /cannot join this meeting/);
  await mona.click('#ctl-lock');
  await waitText(mona, '#ctl-lock', /^Lock$/);
  await ben.goto(`${env.srv.url}#/meetings`);
  await ben.goto(`${env.srv.url}#/room/quiet-room`);
  await ben.waitForSelector('#say-text');

  // An untimed share: no countdown, and the facilitator takes the floor back.
  await mona.click('#ctl-floor');
  await ben.click('#hand');
  await waitText(mona, '#hands', /ben/);
  assert.equal(await mona.inputValue('#give-secs'), '');
  await mona.click('#hands button');
  await waitText(ben, '#floor-line', /The floor: you/);
  assert.equal(await ben.$('#countdown'), null);
  await mona.click('button:has-text("Take the floor back")');
  await waitText(ben, '#floor-line', /Nobody has the floor/);

  // Removed without a ban: told so, and can come back.
  await mona.click('button:has-text("Remove ben")');
  await waitText(ben, '#room-status', /removed you from this meeting\.$/);
  await screen(ben, 'room-removed');
  await ben.goto(`${env.srv.url}#/meetings`);
  await ben.goto(`${env.srv.url}#/room/quiet-room`);
  await ben.waitForSelector('#say-text');
  await mona.click('#ctl-open');
  await waitText(ben, '#room-status', /ended/);
  for (const p of [mona, ben]) await p.context().close();
});

test('WHO-5 and BARC-10 answers saved and shown on progress; an admin changes a role', async () => {
  const page = await newPage(env.browser);
  await page.goto(`${env.srv.url}#/register`);
  await page.waitForSelector('#rg-handle');
  await page.fill('#rg-handle', 'dee.w');
  await page.fill('#rg-password', PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#mood');
  await page.fill('#mood', '6');
  await page.click('summary:has-text("WHO-5")');
  for (let i = 0; i < 5; i++) await page.selectOption(`#who5-${i}`, '3');
  await page.click('summary:has-text("BARC-10")');
  for (let i = 0; i < 10; i++) await page.selectOption(`#barc-${i}`, '4');
  await screen(page, 'checkin-scales');
  await page.click('#checkin-submit');
  // WHO-5: 5 x 3 = 15 of 25, 60 %; BARC-10: 10 x 4 = 40 of 60.
  await waitText(page, '#checkin-result', /WHO-5\): 60%[\s\S]*BARC-10\): 40 of 60/);
  await page.goto(`${env.srv.url}#/progress`);
  await page.waitForSelector('svg.chart');
  await waitText(page, 'main', /latest wellbeing \(WHO-5 %\)/);
  const row = await page.textContent('main table tbody tr');
  assert.match(row, /60/);
  assert.match(row, /40/);
  await screen(page, 'progress-scales');
  // The answers come back to edit the same day.
  await page.goto(`${env.srv.url}#/checkin`);
  await page.waitForFunction(() => document.querySelector('#who5-4').value === '3' && document.querySelector('#barc-9').value === '4');

  const admin = await newPage(env.browser);
  await signIn(admin, env.srv.url, 'root');
  await admin.goto(`${env.srv.url}#/admin`);
  await admin.waitForSelector('#ur-handle');
  await admin.fill('#ur-handle', 'dee.w');
  await admin.selectOption('#ur-role', 'mentor');
  await admin.click('form:has(#ur-handle) button[type=submit]');
  await waitText(admin, '#admin-status', /Role changed/);
  await admin.fill('#ur-handle', 'nobody.here');
  await admin.click('form:has(#ur-handle) button[type=submit]');
  await waitText(admin, '#admin-status', /^(?!Role changed)\S/); // an unknown name is refused with a sentence
  await admin.context().close();
  // Signed in again, dee.w has a mentor's screens.
  await page.goto(`${env.srv.url}#/account`);
  await page.click('#signout');
  await signIn(page, env.srv.url, 'dee.w');
  await waitText(page, '#nav', /My mentees/);
  assert.doesNotMatch(await text(page, '#nav'), /Sharing/);
  await page.context().close();
});

test('reconnects after a server restart; offline help list; nothing typed is lost', async () => {
  const page = await newPage(env.browser);
  await signIn(page, env.srv.url, 'ben');
  await page.fill('#mood', '4');
  await env.srv.stop();
  await waitText(page, '#banner', /Reconnecting/);
  await page.click('#help-button');
  await waitText(page, '#help-source', /built into the app/);
  await waitText(page, '#help-list', /988/);
  await screen(page, 'help-offline');
  await page.keyboard.press('Escape');
  await page.click('#checkin-submit');
  await waitText(page, '#checkin-error', /offline/);
  assert.equal(await page.inputValue('#mood'), '4');
  await env.srv.start();
  await waitText(page, '#banner', /Connected again/, 60000);
  // The form retried by itself once the connection was back.
  await waitText(page, '#checkin-result', /Saved/);
  await page.context().close();
});

test('too many wrong passwords: the wait is shown', async () => {
  const page = await newPage(env.browser);
  await page.goto(env.srv.url);
  await page.waitForSelector('#si-handle');
  let msg = '';
  for (let i = 0; i < 7 && !/Too many/.test(msg); i++) {
    await page.fill('#si-handle', 'nobody.here');
    await page.fill('#si-password', `wrong password ${i}`);
    await page.evaluate(() => { document.querySelector('#si-error').textContent = ''; });
    await page.click('form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#si-error').textContent.length > 0);
    msg = await text(page, '#si-error');
  }
  // The server's retry_after is the wait, within the 900 s login window; a long one is said in
  // minutes.
  const m = /Too many tries[\s\S]*try again in (\d+) (seconds?|minutes)\./.exec(msg);
  assert.ok(m, `no wait in: ${msg}`);
  const secs = Number(m[1]) * (m[2] === 'minutes' ? 60 : 1);
  assert.ok(secs >= 1 && secs <= 900, `wait ${m[1]} ${m[2]}`);
  await screen(page, 'signin-rate-limited');
  const shown = await page.evaluate(async () => {
    const { describe } = await import('/js/conn.js');
    return [1, 89, 90, 896, 3600, 7200].map((s) => describe({ code: 'rate_limited', retry_after: s }));
  });
  assert.match(shown[0], /try again in 1 second\./);
  assert.match(shown[1], /try again in 89 seconds\./);
  assert.match(shown[2], /try again in 2 minutes\./);
  assert.match(shown[3], /try again in 15 minutes\./);
  assert.match(shown[4], /try again in 60 minutes\./);
  assert.match(shown[5], /try again in 2 hours\./);
  await page.context().close();
});

test('a facilitator in a meeting reconnects after a restart and is told whether anything was missed', async () => {
  const mona = await newPage(env.browser);
  await signIn(mona, env.srv.url, 'mona');
  await mona.goto(`${env.srv.url}#/room/smart-tue`);
  await mona.waitForSelector('#ctl-open');
  if (/Open the meeting/.test(await text(mona, '#ctl-open'))) {
    await mona.click('#ctl-open');
    await waitText(mona, '#ctl-open', /End the meeting/);
  }
  await mona.fill('#say-text', 'Before the restart.');
  await mona.click('#say-send');
  await waitText(mona, '#room-log', /Before the restart/);
  await env.srv.stop();
  await waitText(mona, '#banner', /Reconnecting/);
  await env.srv.start();
  await waitText(mona, '#banner', /Connected again/, 60000);
  await waitText(mona, '#room-status', /Reconnected; (you missed nothing|some earlier messages could not be recovered)/);
  await screen(mona, 'room-reconnected');
  await mona.fill('#say-text', 'After the restart.');
  await mona.click('#say-send');
  await waitText(mona, '#room-log', /After the restart/);
  await mona.context().close();
});

test('my data: download and delete the account', async () => {
  const page = await newPage(env.browser);
  await page.goto(`${env.srv.url}#/register`);
  await page.waitForSelector('#rg-handle');
  await page.fill('#rg-handle', 'leaving.soon');
  await page.fill('#rg-password', PASSWORD);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#mood');
  await page.goto(`${env.srv.url}#/account`);
  await page.waitForSelector('#export');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const body = JSON.parse(await (await dl.createReadStream()).toArray().then((c) => Buffer.concat(c).toString()));
  assert.equal(body.user.handle, 'leaving.soon');
  await page.fill('#del-password', 'wrong password!');
  await page.click('form:has(#del-password) button[type=submit]');
  await waitText(page, '#del-error', /not right/);
  await page.fill('#del-password', PASSWORD);
  await page.click('form:has(#del-password) button[type=submit]');
  await waitText(page, 'main h1', /deleted/);
  await screen(page, 'deleted');
  await page.context().close();
});
