// Safety journeys: a member reports a message in a meeting (with a reason, and the 200-byte
// limit shown), the facilitator in the meeting and an admin elsewhere see it live, and an admin
// receives and acknowledges the help request of someone who has no mentor (escalated at once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, signIn, screen, useServer, waitText } from './helpers.js';

// cara has no mentor: her help request goes to the admins.
const env = useServer([['root', 'admin'], ['mona', 'mentor'], ['anna', 'member'], ['ben', 'member'], ['cara', 'member']], 'axe (report.test.js)');

test('a reported message reaches the facilitator and the admin; an admin acknowledges an escalated help request', async () => {
  // The admin works on the Admin screen: what arrives waits under Safety.
  const root = await newPage(env.browser);
  await signIn(root, env.srv.url, 'root');
  await root.goto(`${env.srv.url}#/admin`);
  await root.waitForSelector('#uc-handle');

  const mona = await newPage(env.browser);
  await signIn(mona, env.srv.url, 'mona');
  await mona.goto(`${env.srv.url}#/meetings`);
  await mona.click('summary:has-text("Create a meeting")');
  await mona.fill('#rf-room', 'peer-wed');
  await mona.fill('#rf-name', 'Peer support Wednesday');
  await mona.selectOption('#rf-audience', 'recovery');
  await mona.click('form:has(#rf-room) button[type=submit]');
  await waitText(mona, '#room-list', /Peer support Wednesday/);
  await mona.goto(`${env.srv.url}#/room/peer-wed`);
  await mona.waitForSelector('#ctl-open');
  await mona.click('#ctl-open');
  await waitText(mona, '#ctl-open', /End the meeting/);

  const ben = await newPage(env.browser);
  await signIn(ben, env.srv.url, 'ben');
  await ben.goto(`${env.srv.url}#/room/peer-wed`);
  await ben.waitForSelector('#say-text');
  const anna = await newPage(env.browser);
  await signIn(anna, env.srv.url, 'anna');
  await anna.goto(`${env.srv.url}#/room/peer-wed`);
  await anna.waitForSelector('#say-text');
  await anna.fill('#say-text', 'Glad to be here tonight.');
  await anna.click('#say-send');
  await ben.fill('#say-text', 'Nobody here will ever stay clean, you are all wasting your time.');
  await ben.click('#say-send');
  await waitText(anna, '#room-log', /wasting your time/);
  await ben.fill('#say-text', 'Anyway, see you next week.');
  await ben.click('#say-send');
  await waitText(anna, '#room-log', /see you next week/);

  // One's own message has no Report button; another's has.
  assert.equal(await anna.locator('#room-log li.mine button.report').count(), 0);
  await anna.click('#room-log li:has-text("wasting your time") button.report');
  const seq = await anna.getAttribute('#room-log li:has-text("wasting your time")', 'data-seq');
  const reason = `#report-${seq}-reason`;
  await anna.waitForSelector(reason);
  // The form is outside the live log (so it is not read out as a message) and quotes what
  // is being reported.
  assert.equal(await anna.locator('#room-log form').count(), 0);
  await waitText(anna, '#report-slot blockquote', /wasting your time/);
  // Too long a reason is caught as it is typed (with its size) and sends nothing; the alert
  // is said once when the limit is crossed, while the count follows every key.
  await anna.fill(reason, 'x'.repeat(201));
  await waitText(anna, `#report-${seq}-count`, /201 of 200 bytes/);
  await waitText(anna, `#report-${seq}-error`, /over 200 bytes/);
  assert.equal(await anna.getAttribute(reason, 'aria-invalid'), 'true');
  await anna.fill(reason, 'x'.repeat(202));
  await waitText(anna, `#report-${seq}-count`, /202 of 200 bytes/);
  // Report on another message while this one has a reason typed: this one stays, with focus.
  await anna.click('#room-log li:has-text("see you next week") button.report');
  assert.equal(await anna.locator('#report-slot form').count(), 1);
  assert.equal(await anna.evaluate(() => document.activeElement.id), `report-${seq}-reason`);
  await anna.click(`#report-${seq}-send`);
  await waitText(anna, `#report-${seq}-error`, /200/);
  // Nothing went: a moment later the form is still there and the button still offers Report.
  await anna.waitForTimeout(500);
  assert.equal(await anna.locator(`#report-${seq}-done`).count(), 0);
  assert.equal(await anna.locator(`#report-${seq}-reason`).count(), 1);
  assert.equal(await anna.isDisabled('#room-log li:has-text("wasting your time") button.report'), false);
  await anna.fill(reason, 'Discouraging people who are early in recovery.');
  await waitText(anna, `#report-${seq}-error`, /^$/);
  assert.equal(await anna.getAttribute(reason, 'aria-invalid'), null);
  await screen(anna, 'room-report-form');
  await anna.click(`#report-${seq}-send`);
  await waitText(anna, `#report-${seq}-done`, /Reported/);
  // Focus moves to the confirmation, not to the page; the button says what happened.
  assert.equal(await anna.evaluate(() => document.activeElement.id), `report-${seq}-done`);
  const reported = '#room-log li:has-text("wasting your time") button.report';
  assert.ok(await anna.isDisabled(reported));
  assert.equal(await anna.getAttribute(reported, 'aria-label'), 'You reported this message from ben');
  await screen(anna, 'room-reported');

  // The facilitator in the meeting sees it at once, with the text and the reason.
  await waitText(mona, '#reports', /anna reported a message from ben/);
  await waitText(mona, '#reports', /wasting your time[\s\S]*Discouraging people/);
  await waitText(mona, '#report-note', /anna reported a message from ben/);
  await mona.click('#report-note button');
  assert.equal(await mona.evaluate(() => document.activeElement.id), 'reports');
  await screen(mona, 'room-facilitator-report');

  // The admin is told in the navigation, and the Safety screen lists it.
  await waitText(root, '#nav', /Safety \(1 new\)/);
  await root.click('#nav a[href="#/safety"]');
  await waitText(root, '#report-list', /anna reported a message from ben in peer-wed/);
  await waitText(root, '#report-list', /Reason given: Discouraging people/);
  await waitText(root, '#nav', /^(?![\s\S]*Safety \()/);
  assert.equal(await root.locator('#report-list li.report-item').count(), 1);

  // Someone without a mentor asks for help: the admins get it at once, escalated.
  const cara = await newPage(env.browser);
  await signIn(cara, env.srv.url, 'cara');
  await cara.click('#help-button');
  await cara.click('#help-send');
  await waitText(cara, '#help-mentor .notice', /coordinators are told/);
  await waitText(root, '#escalated', /Asked for help: cara/);
  await waitText(root, '#escalated', /escalated/);
  await screen(root, 'safety');
  await root.click('#escalated button:has-text("Acknowledge (cara)")');
  await waitText(root, '#escalated', /^(?![\s\S]*Asked for help: cara)/);
  // Acknowledged for good: a fresh load lists no open escalated alert.
  await root.reload();
  await waitText(root, '#escalated', /No escalated alerts are open/);

  // The audit log keeps the report and its reason; on a phone each entry is a block of lines.
  await root.goto(`${env.srv.url}#/admin`);
  await waitText(root, '#audit-table', /report[\s\S]*Discouraging people/);
  await waitText(root, '#audit-table', /escalate/);
  await root.setViewportSize({ width: 375, height: 812 });
  const display = await root.evaluate(() => getComputedStyle(document.querySelector('#audit-table tr')).display);
  assert.equal(display, 'block');
  await root.setViewportSize({ width: 1280, height: 800 });
  await screen(root, 'admin-audit');
  for (const p of [root, mona, ben, anna, cara]) await p.context().close();
});
