// Issue 15's screens: my recovery plan with its limits shown as one types, the services
// directory beside the help button (before sign-in too, kept by admins), the mentor's view of
// a mentee's plan (only at share scores, never the people in it), the admin's supervision
// table. Several browsers at once against the real mutuald.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, signIn, screen, useServer, waitText } from './helpers.js';

const env = useServer([['root', 'admin'], ['mona', 'mentor'], ['anna', 'member']]);

const text = (page, sel) => page.textContent(sel);

test('services directory: beside the help button, before sign-in, kept by an admin', async () => {
  const visitor = await newPage(env.browser);
  await visitor.goto(env.srv.url);
  await visitor.waitForSelector('#si-handle');
  // the link sits with the help button, in the header of every screen
  assert.equal(await visitor.evaluate(() => document.getElementById('services-link').parentElement === document.getElementById('help-button').parentElement), true);
  // the help dialog points to the directory too, and following it closes the dialog
  await visitor.click('#help-button');
  await visitor.click('#help-services');
  await waitText(visitor, '#services', /No local services are listed yet/);
  assert.equal(await visitor.evaluate(() => document.getElementById('help-dialog').open), false);
  assert.equal(await visitor.getAttribute('#services-link', 'aria-current'), 'page');
  await screen(visitor, 'services-empty');

  const admin = await newPage(env.browser);
  await signIn(admin, env.srv.url, 'root');
  await admin.click('#services-link');
  await admin.waitForSelector('#sa-name');
  // a bad web address is refused next to the form, and nothing is added
  await admin.fill('#sa-name', 'Anytown needle exchange');
  await admin.fill('#sa-url', 'ftp://example.org');
  await admin.click('#sa-add');
  await waitText(admin, '#sa-error', /http:\/\/ or https:\/\//);
  await admin.fill('#sa-url', 'https://example.org/nsp');
  await admin.fill('#sa-description', 'Clean needles and syringes, naloxone kits and training, drug checking.');
  await admin.fill('#sa-hours', 'Mon-Fri 10:00-16:00');
  await admin.fill('#sa-region', 'Anytown');
  await admin.fill('#sa-referral', 'self-referral, drop in');
  await admin.selectOption('#sa-category', 'harm_reduction');
  await admin.click('#sa-add');
  await waitText(admin, '#svc-status', /Anytown needle exchange is listed/);
  await admin.fill('#sa-name', 'SMART Recovery online');
  await admin.fill('#sa-phone', '0330 053 6022');
  await admin.selectOption('#sa-category', 'mutual_aid');
  await admin.click('#sa-add');
  await waitText(admin, '#services', /SMART Recovery online/);
  await screen(admin, 'services-admin');

  // the visitor, still not signed in, sees both, grouped by kind, and can filter
  await visitor.click('#svc-show');
  await waitText(visitor, '#services', /2 services/);
  const body = await text(visitor, '#services');
  assert.match(body, /Harm reduction \(needle and syringe programmes/);
  assert.match(body, /How to get in/);
  assert.equal(await visitor.locator('#services a[href="https://example.org/nsp"]').count(), 1);
  assert.equal(await visitor.locator('#services button').count(), 0, 'no admin controls before sign-in');
  await screen(visitor, 'services');
  await visitor.fill('#svc-region', 'Elsewhere');
  await visitor.click('#svc-show');
  await waitText(visitor, '#services', /1 service\b/);
  assert.doesNotMatch(await text(visitor, '#services'), /needle/);
  await visitor.fill('#svc-region', '');
  await visitor.selectOption('#svc-category', 'harm_reduction');
  await visitor.click('#svc-show');
  await waitText(visitor, '#services', /needle exchange/);
  assert.doesNotMatch(await text(visitor, '#services'), /SMART/);

  // an admin removes one; the visitor no longer finds it
  await admin.click('button:has-text("Remove SMART Recovery online")');
  await waitText(admin, '#svc-status', /no longer listed/);
  await visitor.selectOption('#svc-category', '');
  await visitor.click('#svc-show');
  await waitText(visitor, '#services', /1 service\b/);
  for (const p of [admin, visitor]) await p.context().close();
});

test('my plan: limits shown while typing, steps ticked off, saved and read back', async () => {
  const anna = await newPage(env.browser);
  await signIn(anna, env.srv.url, 'anna');
  await anna.click('#nav a[href="#/plan"]');
  await waitText(anna, '#plan-info', /no plan yet/);
  await screen(anna, 'plan-empty');
  await anna.click('#add-goal');
  // the new goal's input has the focus, with its count
  assert.equal(await anna.evaluate(() => document.activeElement.closest('#goal-0') !== null), true);
  await anna.keyboard.type('Get back to work');
  await waitText(anna, '#goal-0', /16 of 200 characters/);
  await waitText(anna, '#h-goals ~ .limit, #plan-body', /1 of 10 goals/);
  await anna.click('#goal-0 .add-step');
  await anna.keyboard.type('Call the job centre');
  await anna.click('#goal-0 .add-step');
  await anna.keyboard.type('x'.repeat(201));
  await waitText(anna, '#goal-0', /201 characters long; it can be up to 200/);
  // saving is refused until it fits, and says why; nothing is lost
  await anna.click('#plan-save');
  await waitText(anna, '#plan-error', /1 entry needs a change/);
  assert.equal(await anna.evaluate(() => document.activeElement.getAttribute('aria-invalid')), 'true');
  await screen(anna, 'plan-error');
  await anna.fill('#goal-0 li.step:nth-child(2) input:not([type])', 'Update my CV');
  await anna.check('#goal-0 li.step:nth-child(1) input[type=checkbox]');
  await anna.click('#add-triggers');
  await anna.keyboard.type('Payday');
  await anna.click('#add-warning_signs');
  await anna.keyboard.type('Skipping meals');
  await anna.click('#add-coping');
  await anna.keyboard.type('Walk the dog');
  await anna.click('#add-person');
  await anna.keyboard.type('Sam');
  await anna.fill('#plan-body li.person input[type=tel]', '07700 900123');
  await anna.click('#plan-save');
  await waitText(anna, '#plan-status', /Saved/);
  await screen(anna, 'plan');
  // a reload reads the plan back from the server
  await anna.reload();
  await anna.waitForSelector('#goal-0');
  assert.equal(await anna.inputValue('#goal-0 input:not([type])'), 'Get back to work');
  assert.equal(await anna.isChecked('#goal-0 li.step:nth-child(1) input[type=checkbox]'), true);
  assert.equal(await anna.isChecked('#goal-0 li.step:nth-child(2) input[type=checkbox]'), false);
  assert.equal(await anna.inputValue('#plan-body li.person input[type=tel]'), '07700 900123');
  // at ten goals the button is off and the limit says why
  for (let i = 1; i < 10; i++) {
    await anna.click('#add-goal');
    await anna.keyboard.type(`Goal number ${i + 1}`);
  }
  await waitText(anna, '#plan-body', /10 of 10 goals \u2014 the most a plan holds/);
  assert.equal(await anna.isDisabled('#add-goal'), true);
  await anna.click('#plan-save');
  await waitText(anna, '#plan-status', /Saved/);
  await screen(anna, 'plan-full');
  // remove the extra goals again, so the mentor's view below is short
  for (let i = 9; i >= 1; i--) await anna.click(`#goal-${i} button.danger`);
  await anna.click('#plan-save');
  await waitText(anna, '#plan-status', /Saved/);
  await anna.context().close();
});

test('the mentor reads a mentee\u2019s plan only at share scores, never the people', async () => {
  const admin = await newPage(env.browser);
  await signIn(admin, env.srv.url, 'root');
  await admin.goto(`${env.srv.url}#/admin`);
  await admin.waitForSelector('#ma-user');
  await admin.fill('#ma-user', 'anna');
  await admin.fill('#ma-mentor', 'mona');
  await admin.click('form:has(#ma-user) button[type=submit]');
  await waitText(admin, '#admin-status', /assigned/);

  const mona = await newPage(env.browser);
  await signIn(mona, env.srv.url, 'mona');
  await mona.goto(`${env.srv.url}#/mentor`);
  await waitText(mona, '#caseload', /anna/);
  assert.equal(await mona.locator('#caseload a[href="#/mentor/anna/plan"]').count(), 0, 'no plan link while anna shares nothing');
  await mona.goto(`${env.srv.url}#/mentor/anna/plan`);
  await waitText(mona, '#mentee-plan-error', /does not share their plan/);
  await screen(mona, 'mentee-plan-forbidden');

  const anna = await newPage(env.browser);
  await signIn(anna, env.srv.url, 'anna');
  await anna.goto(`${env.srv.url}#/sharing`);
  await anna.waitForSelector('input[name=share][value=scores]');
  await anna.check('input[name=share][value=scores]');
  await anna.click('main form button[type=submit]');
  await waitText(anna, 'main .notice', /Saved/);

  await mona.goto(`${env.srv.url}#/mentor`);
  await mona.waitForSelector('#caseload a[href="#/mentor/anna/plan"]');
  await screen(mona, 'mentor-caseload');
  // at a phone's width the caseload is a list of blocks, not a table to scroll sideways
  await mona.setViewportSize({ width: 375, height: 812 });
  const caseload = await mona.evaluate(() => { const t = document.getElementById('caseload-table'); return { table: t.scrollWidth, box: t.parentElement.clientWidth, page: document.documentElement.scrollWidth }; });
  assert.ok(caseload.table <= caseload.box && caseload.page <= 375, `caseload at 375 px: ${JSON.stringify(caseload)}`);
  await mona.setViewportSize({ width: 1280, height: 800 });
  await mona.click('#caseload a[href="#/mentor/anna/plan"]');
  await waitText(mona, 'main', /Goal 1: Get back to work/);
  const seen = await text(mona, 'main');
  assert.match(seen, /Done: Call the job centre/);
  assert.match(seen, /To do: Update my CV/);
  assert.match(seen, /Payday/);
  assert.match(seen, /Walk the dog/);
  assert.doesNotMatch(seen, /Sam|07700/);
  await screen(mona, 'mentee-plan');
  // back to alerts only: the plan is closed to the mentor at once
  await anna.goto(`${env.srv.url}#/sharing`);
  await anna.waitForSelector('input[name=share][value=alerts]');
  await anna.check('input[name=share][value=alerts]');
  await anna.click('main form button[type=submit]');
  await waitText(anna, 'main .notice', /Saved/);
  await mona.goto(`${env.srv.url}#/mentor/anna/plan`);
  await mona.reload();
  await waitText(mona, '#mentee-plan-error', /does not share their plan/);

  // supervision: the admin sees mona's load, never her check-ins
  await admin.click('#nav a[href="#/supervision"]');
  await waitText(admin, '#supervision', /mona/);
  const row = await text(admin, '#supervision tbody tr');
  assert.match(row, /mona\s*1\s*0\s*0\s*0\s*none acknowledged/);
  await screen(admin, 'supervision');
  await mona.goto(`${env.srv.url}#/supervision`);
  await waitText(mona, '#supervision', /Only an admin/);
  for (const p of [admin, mona, anna]) await p.context().close();
});
