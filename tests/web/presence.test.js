// The meetings list says who is present (handles, not only a count), live enough that a
// second browser sees the first one arrive after a reload of the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, signIn, screen, useServer, waitText } from './helpers.js';

const env = useServer([['mona', 'mentor'], ['anna', 'member'], ['ben', 'member']]);

test('the meetings list names who is present', async () => {
  const mona = await newPage(env.browser);
  await signIn(mona, env.srv.url, 'mona');
  await mona.goto(`${env.srv.url}#/meetings`);
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

  const anna = await newPage(env.browser);
  await signIn(anna, env.srv.url, 'anna');
  await anna.goto(`${env.srv.url}#/meetings`);
  await waitText(anna, '#room-list', /open now, 1 here/);
  await waitText(anna, '#room-list .here', /Here now: mona$/);
  await anna.click('#room-list a.join');
  await waitText(anna, '#room-people', /anna/);

  const ben = await newPage(env.browser);
  await signIn(ben, env.srv.url, 'ben');
  await ben.goto(`${env.srv.url}#/meetings`);
  await waitText(ben, '#room-list .here', /Here now: mona, anna$/);
  assert.match(await ben.textContent('#room-list'), /open now, 2 here/);
  await screen(ben, 'meetings-here');
  for (const p of [mona, anna, ben]) await p.context().close();
});
