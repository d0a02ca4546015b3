#include "server/chat_page.hpp"

namespace lmx::server {

std::string_view chat_page_html() {
    static constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>lmx chat</title><link rel="icon" href="data:,">
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:760px;margin:0 auto;padding:12px;color:#222}
header{display:flex;gap:8px;align-items:center;margin-bottom:8px}header h1{font-size:18px;margin:0 auto 0 0}
#log{border:1px solid #ccc;border-radius:6px;padding:8px;min-height:320px;max-height:65vh;overflow-y:auto}
.msg{white-space:pre-wrap;margin:6px 0;padding:6px 8px;border-radius:6px}.user{background:#e8f0fe}.assistant{background:#f3f3f3}
.error{background:#fde8e8;color:#900}form{display:flex;gap:6px;margin-top:8px}textarea{flex:1;font:inherit;min-height:3em}
</style></head><body>
<header><h1>lmx chat</h1><label>model <select id="model"></select></label><input id="key" type="password" placeholder="API key (if any)"></header>
<div id="log"></div>
<form id="form"><textarea id="input" placeholder="Type a message; Enter sends, Shift+Enter adds a line"></textarea>
<button id="send" type="submit">Send</button><button id="stop" type="button" disabled>Stop</button></form>
<script>
const $ = (id) => document.getElementById(id);
const history = [];
let controller = null;
function headers() {
  const h = {'Content-Type': 'application/json'};
  if ($('key').value) h['Authorization'] = 'Bearer ' + $('key').value;
  return h;
}
function add(role, text) {
  const d = document.createElement('div');
  d.className = 'msg ' + role; d.textContent = text; $('log').appendChild(d);
  $('log').scrollTop = $('log').scrollHeight; return d;
}
async function loadModels() {
  try {
    const r = await fetch('/v1/models', {headers: headers()});
    const j = await r.json();
    $('model').innerHTML = '';
    for (const m of j.data || []) { const o = document.createElement('option'); o.textContent = m.id; $('model').appendChild(o); }
    if (j.error) add('error', j.error.message);
  } catch (e) { add('error', String(e)); }
}
async function send(text) {
  history.push({role: 'user', content: text}); add('user', text);
  const out = add('assistant', ''); let reply = '';
  controller = new AbortController(); $('stop').disabled = false; $('send').disabled = true;
  try {
    const r = await fetch('/v1/chat/completions', {method: 'POST', headers: headers(), signal: controller.signal,
      body: JSON.stringify({model: $('model').value, messages: history, stream: true})});
    if (!r.ok) { const j = await r.json(); throw new Error(j.error ? j.error.message : r.statusText); }
    const reader = r.body.getReader(); const dec = new TextDecoder(); let buf = '';
    for (;;) {
      const {value, done} = await reader.read(); if (done) break;
      buf += dec.decode(value, {stream: true});
      let at;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const line = buf.slice(0, at); buf = buf.slice(at + 2);
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        const j = JSON.parse(line.slice(6));
        if (j.error) throw new Error(j.error.message);
        const c = j.choices && j.choices[0] && j.choices[0].delta && j.choices[0].delta.content;
        if (c) { reply += c; out.textContent = reply; $('log').scrollTop = $('log').scrollHeight; }
      }
    }
  } catch (e) { if (e.name !== 'AbortError') add('error', e.message); }
  history.push({role: 'assistant', content: reply});
  controller = null; $('stop').disabled = true; $('send').disabled = false;
}
$('form').onsubmit = (e) => { e.preventDefault(); const t = $('input').value.trim(); if (t && !controller) { $('input').value = ''; send(t); } };
$('input').onkeydown = (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('form').requestSubmit(); } };
$('stop').onclick = () => { if (controller) controller.abort(); };
$('key').onchange = loadModels;
loadModels();
</script></body></html>
)html";
    return kPage;
}

}  // namespace lmx::server
