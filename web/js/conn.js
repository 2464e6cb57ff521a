// The connection to mutuald: one WebSocket speaking MessagePack (PROTOCOL.md), request ids
// matched to replies, server pushes handed to listeners, and reconnection with backoff.
import { encode, decode } from '../vendor/msgpack.mjs';

const HUMAN = {
  bad_request: 'Something in that request was not accepted. Please check it and try again.',
  unknown_op: 'This server does not offer that yet.',
  unauthenticated: 'Please sign in again.',
  forbidden: 'You are not allowed to do that here.',
  not_found: 'That could not be found.',
  conflict: 'That clashes with something that already exists or already happened.',
  rate_limited: 'Too many tries in a short time.',
  too_large: 'That is longer than allowed.',
  room_full: 'This meeting is full.',
  caseload_full: 'That mentor already has a full caseload.',
  unavailable: 'The server cannot take this right now. Please try again shortly.',
  internal: 'Something went wrong on the server. Please try again.',
  disconnected: 'You are offline. What you typed is kept; it will be sent when the connection is back.',
};

// A wait in words: seconds while short, whole minutes (rounded up, so the person never tries
// too early) once it is long: "15 minutes" rather than "896 seconds".
export function waitWords(secs) {
  if (secs < 90) return `${secs} ${secs === 1 ? 'second' : 'seconds'}`;
  if (secs < 5400) return `${Math.ceil(secs / 60)} minutes`;
  return `${Math.ceil(secs / 3600)} hours`;
}

// A human sentence for a failed call, with the wait for rate_limited.
export function describe(err) {
  if (!err) return '';
  let text = err.msg || HUMAN[err.code] || String(err.message || err);
  // login and register say how long the wait is (retry_after); the per-connection request
  // limit does not, because a short pause is always enough there.
  if (err.code === 'rate_limited') {
    const n = Number(err.retry_after);
    text = n > 0 ? `${HUMAN.rate_limited} Please try again in ${waitWords(n)}.` : `${HUMAN.rate_limited} Please slow down for a moment.`;
  }
  return text;
}

// 64-bit integers arrive as BigInt (decode's useBigInt64): ids and millisecond times fit in a
// double exactly, so those become numbers; anything past 2^53 stays exact as a string rather
// than silently losing digits.
export function fixInts(v) {
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v) : v.toString();
  }
  if (Array.isArray(v)) return v.map(fixInts);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = fixInts(x);
    return out;
  }
  return v;
}

const CLOSE_WHY = {
  1001: 'The server is restarting.',
  1008: 'The connection was closed by the server (for example, your password was changed elsewhere).',
  1013: 'The server is busy.',
};

export class Conn extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.rid = 1;
    this.pending = new Map();
    this.ws = null;
    this.open = false;
    this.attempt = 0;
    this.limits = null;
    this.stopped = false;
  }

  connect() {
    this.stopped = false;
    const ws = new WebSocket(this.url, 'mutual.v1');
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = (ev) => this.onClose(ev);
    ws.onerror = () => {};
  }

  onMessage(data) {
    if (typeof data === 'string') return;
    let msg;
    try {
      msg = fixInts(decode(new Uint8Array(data), { useBigInt64: true }));
    } catch {
      return;
    }
    if (msg.op === 'welcome') {
      this.limits = msg.limits || null;
      this.open = true;
      this.attempt = 0;
      this.dispatchEvent(new CustomEvent('up', { detail: msg }));
      return;
    }
    if (msg.op === 'reply') {
      const p = this.pending.get(msg.rid);
      if (!p) return;
      this.pending.delete(msg.rid);
      if (msg.ok) p.resolve(msg);
      else p.reject(Object.assign(new Error(msg.msg || msg.code), msg));
      return;
    }
    this.dispatchEvent(new CustomEvent('push', { detail: msg }));
  }

  onClose(ev) {
    const was = this.open;
    this.open = false;
    this.ws = null;
    for (const p of this.pending.values()) {
      p.reject(Object.assign(new Error('disconnected'), { code: 'disconnected' }));
    }
    this.pending.clear();
    if (this.stopped) return;
    const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    const why = CLOSE_WHY[ev.code] || (was ? 'The connection was lost.' : 'The server cannot be reached.');
    this.dispatchEvent(new CustomEvent('down', { detail: { code: ev.code, why, retryIn: Math.round(delay / 1000) } }));
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // Sends a request; resolves with the reply, rejects with {code, msg, retry_after?}.
  call(op, fields = {}) {
    if (!this.open || !this.ws) {
      return Promise.reject(Object.assign(new Error('disconnected'), { code: 'disconnected' }));
    }
    const rid = this.rid++;
    const body = { op, rid };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) body[k] = v;
    return new Promise((resolve, reject) => {
      this.pending.set(rid, { resolve, reject });
      this.ws.send(encode(body));
    });
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }
}
