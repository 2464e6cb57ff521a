// Small DOM helpers. Everything is built with text nodes, never innerHTML, so nothing a
// person types can become markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) add(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  add(el, children);
  return el;
}

// Empties a message box once its message is sent, unless more was typed while it was on its
// way: that is the next message, and is kept.
export function clearIfSent(input, sent) {
  if (input.value.trim() === sent) input.value = '';
}

// Says something to screen readers through the polite live region.
export function announce(text) {
  const region = document.getElementById('announce');
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

export function fmtTime(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function fmtDateTime(ts) {
  return new Date(ts).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

// The user's offset from UTC in minutes, as checkin.submit wants it.
export function tzOffset() {
  return -new Date().getTimezoneOffset();
}

// "YYYY-MM-DD" of the local day `daysAgo` days before today.
export function localDate(daysAgo = 0) {
  const d = new Date(Date.now() - daysAgo * 86400000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function byteLength(s) {
  return new TextEncoder().encode(s).length;
}
