// The meetings list says who is present (handles, not only a count), live enough that a
// second browser sees the first one arrive after a reload of the list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './server.js';
import { launch, newPage, signIn, screen } from './helpers.js';

let srv, browser;

before(async () => {
  srv = new Server();
  srv.addUser('mona', 'mentor');
  srv.addUser('anna', 'member');
  srv.addUser('ben', 'member');
  await srv.start();
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) { await srv.stop(); srv.cleanup(); }
});

const waitText = (page, sel, re, timeout = 30000) => page.waitForFunction(([s, r]) => new RegExp(r).test(document.querySelector(s)?.textContent || ''), [sel, re.source], { timeout });

test('the meetings list names who is present', async () => {
  const mona = await newPage(browser);
  await signIn(mona, srv.url, 'mona');
  await mona.goto(`${srv.url}#/meetings`);
  await mona.click('summary:has-text("Create a meeting")');
  await mona.fill('#rf-room', 'open-circle');
  await mona.fill('#rf-name', 'Open circle');
  await mona.selectOption('#rf-audience', 'open');
  await mona.click('form:has(#rf-room) button[type=submit]');
  await waitText(mona, '#room-list', /Open circle/);
  assert.equal(await mona.locator('#room-list .here').count(), 0, 'nobody is named in an empty room');
  await mona.click('#room-list a.join');
  await mona.waitForSelector('#ctl-open');
  await mona.click('#ctl-open');
  await waitText(mona, '#ctl-open', /End the meeting/);

  const anna = await newPage(browser);
  await signIn(anna, srv.url, 'anna');
  await anna.goto(`${srv.url}#/meetings`);
  await waitText(anna, '#room-list', /open now, 1 here/);
  await waitText(anna, '#room-list .here', /Here now: mona$/);
  await anna.click('#room-list a.join');
  await waitText(anna, '#room-people', /anna/);

  const ben = await newPage(browser);
  await signIn(ben, srv.url, 'ben');
  await ben.goto(`${srv.url}#/meetings`);
  await waitText(ben, '#room-list .here', /Here now: mona, anna$/);
  assert.match(await ben.textContent('#room-list'), /open now, 2 here/);
  await screen(ben, 'meetings-here');
  for (const p of [mona, anna, ben]) await p.context().close();
});
