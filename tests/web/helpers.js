// Browser helpers for the tests: Debian's chromium through playwright-core, axe-core run in the
// page, and screenshots at a phone and a desktop size.
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync, appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Server, SHOTS, PASSWORD } from './server.js';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export async function launch() {
  // Never a downloaded browser: the Debian package only. Root needs --no-sandbox.
  const args = process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args });
}

// A fresh profile; bypassCSP only so that axe can be put into the page (the app itself never
// needs it, and a CSP violation by the app still shows up as a console error below).
export async function newPage(browser, opts = {}) {
  const ctx = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...opts });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(m.text())) page.errors.push(m.text()); });
  return page;
}

export async function signIn(page, url, handle, password = PASSWORD) {
  await page.goto(url);
  await page.waitForSelector('#si-handle');
  await page.fill('#si-handle', handle);
  await page.fill('#si-password', password);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#mood');
}

// Passes the page's WebSocket frames through, holding back each one from the server by
// `ms` while it is set, in order: a slow connection, to show what the page does while it
// waits. Call before the page connects.
export async function slowFromServer(page) {
  const lag = { ms: 0 };
  await page.routeWebSocket(/.*/, (ws) => {
    const server = ws.connectToServer();
    let last = 0; // when the frame before is due: none overtakes it once the lag is lifted
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      last = Math.max(Date.now() + lag.ms, last);
      setTimeout(() => ws.send(m), last - Date.now());
    });
  });
  return lag;
}

export const axeTotals = { screens: 0, passes: 0, violations: 0 };

// Runs axe with the WCAG 2.0/2.1/2.2 A and AA rules; fails on any violation.
export async function checkA11y(page, name) {
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ content: AXE });
  const r = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), AXE_TAGS);
  axeTotals.screens++;
  axeTotals.passes += r.passes.length;
  axeTotals.violations += r.violations.length;
  const lines = r.violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(lines, [], `axe violations on ${name}`);
}

// axe on the screen as it is, then screenshots at 375x812 and 1280x800.
export async function screen(page, name) {
  await checkA11y(page, name);
  mkdirSync(SHOTS, { recursive: true });
  const size = page.viewportSize();
  for (const [w, hgt] of [[375, 812], [1280, 800]]) {
    await page.setViewportSize({ width: w, height: hgt });
    await page.screenshot({ path: join(SHOTS, `${name}-${w}x${hgt}.png`) });
  }
  // Reflow (WCAG 1.4.10): at 320 px nothing makes the page scroll sideways.
  await page.setViewportSize({ width: 320, height: 640 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 320, `${name} is ${wide} px wide at a 320 px viewport`);
  await page.setViewportSize(size);
  assert.deepEqual(page.errors, [], `errors in the page on ${name}`);
}

export function record(line) {
  mkdirSync(SHOTS, { recursive: true });
  appendFileSync(join(SHOTS, 'results.txt'), `${line}\n`);
}

// Presses Tab until the element with this id has the focus (keyboard-only journeys).
export async function tabTo(page, id, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((x) => document.activeElement && document.activeElement.id === x, id)) return;
  }
  throw new Error(`Tab never reached #${id}`);
}

// A test file's server (with these [handle, role] users) and browser, started before its tests
// and stopped after them; `axeLabel` records the file's axe totals in results.txt.
export function useServer(users, axeLabel) {
  const env = { srv: null, browser: null };
  before(async () => {
    env.srv = new Server();
    current = env.srv;
    for (const [handle, role] of users) env.srv.addUser(handle, role);
    await env.srv.start();
    env.browser = await launch();
  });
  after(async () => {
    if (axeLabel) record(`${axeLabel}: ${axeTotals.screens} screens, ${axeTotals.passes} rule checks passed, ${axeTotals.violations} violations`);
    if (env.browser) await env.browser.close();
    if (env.srv) { await env.srv.stop(); env.srv.cleanup(); }
  });
  return env;
}

// The running test file's server, whose log a failed wait shows.
let current = null;

// Waits until the element's text matches the pattern. A wait that times out says what the
// element showed instead and what the server logged, which is all a CI run leaves behind.
export async function waitText(page, sel, re, timeout = 30000) {
  try {
    await page.waitForFunction(([s, r]) => new RegExp(r).test(document.querySelector(s)?.textContent || ''), [sel, re.source], { timeout });
  } catch (e) {
    const shown = await page.evaluate((s) => document.querySelector(s)?.textContent ?? '(no such element)', sel).catch(() => '(page gone)');
    const log = current && current.log ? current.log.trimEnd().split('\n').slice(-40).join('\n') : '';
    throw new Error(`${sel} never showed ${re} in ${timeout} ms; it shows: ${JSON.stringify(shown.slice(0, 500))}\nmutuald's last log lines:\n${log}`, { cause: e });
  }
}
