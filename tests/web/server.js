// Starts the real mutuald on a free port with a temporary database, for the browser tests.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MUTUALD = process.env.MUTUALD || join(top, 'build/server/mutuald');
export const SHOTS = process.env.MUTUAL_SCREENSHOTS || join(top, 'build/web-screenshots');
export const PASSWORD = 'a long test password';

export class Server {
  constructor(extraConfig = '') {
    this.dir = mkdtempSync(join(tmpdir(), 'mutual-web-'));
    this.db = join(this.dir, 'mutual.db');
    this.conf = join(this.dir, 'mutual.conf');
    writeFileSync(this.conf, `rate_per_s = 100000\nburst = 100000\nlog_level = info\n${extraConfig}\n`);
    this.port = 0;
  }

  addUser(handle, role) {
    const r = spawnSync(MUTUALD, ['user', 'add', handle, '--role', role, '--db', this.db, '--config', this.conf], { input: `${PASSWORD}\n` });
    if (r.status !== 0) throw new Error(`user add ${handle}: ${r.stderr}`);
  }

  // Starts on a free port the first time, and on the same port after a stop.
  async start() {
    const args = ['serve', '--db', this.db, '--config', this.conf, '--listen', `127.0.0.1:${this.port}`];
    this.proc = spawn(MUTUALD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.log = '';
    this.proc.stderr.on('data', (d) => { this.log += d; });
    this.port = await new Promise((res, rej) => {
      let out = '';
      const t = setTimeout(() => rej(new Error(`mutuald did not start: ${out}${this.log}`)), 10000);
      this.proc.stdout.on('data', (d) => {
        out += d;
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) { clearTimeout(t); res(Number(m[1])); }
      });
      this.proc.on('exit', (code) => { clearTimeout(t); rej(new Error(`mutuald exited ${code}: ${this.log}`)); });
    });
    this.url = `http://127.0.0.1:${this.port}/`;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const done = new Promise((res) => this.proc.once('exit', res));
    this.proc.kill('SIGTERM');
    await done;
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
