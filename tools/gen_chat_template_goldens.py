#!/usr/bin/env python3
"""Chat-template goldens from Python jinja2, configured as HF transformers configures it.

Writes tests/goldens/chat_templates/:
  conversations.json  the render contexts (messages, tools, add_generation_prompt,
                      bos/eos tokens) shared by every template
  <name>.json         one per template: its source and, per conversation, the exact
                      text jinja2 renders or the error it raises
  snippets.json       small templates, one language feature each (whitespace control,
                      operators, filters, tests, methods, Python str() of values...),
                      rendered over SNIPPET_CONTEXT

Templates: every ../shared/testdata/chat-templates/*.jinja, plus SmolLM2's, read from
the default model's GGUF metadata (tokenizer.chat_template) with gguf-py.

The environment replicates transformers' chat-template setup (transformers
utils/chat_template_utils.py, _compile_jinja_template) rather than importing it:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the
loopcontrols extension, a `tojson` filter that is json.dumps(ensure_ascii=False, ...),
and `raise_exception` / `strftime_now` globals. strftime_now is pinned to FIXED_NOW so
the goldens do not depend on the day they were generated. transformers passes
messages, tools (None when absent), documents (None) and add_generation_prompt,
plus the tokenizer's special tokens (bos_token, eos_token).

Usage: .venv/bin/python tools/gen_chat_template_goldens.py [path/to/SmolLM2-135M-Instruct.Q4_1.gguf]
Needs jinja2 (tools/requirements-peers.txt) and gguf.
"""
import datetime
import glob
import json
import os
import sys

import gguf
import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "goldens", "chat_templates")
TEMPLATE_DIR = os.path.join(ROOT, "..", "shared", "testdata", "chat-templates")
DEFAULT_MODEL = os.path.expanduser("~/.cache/lmx/models/SmolLM2-135M-Instruct.Q4_1.gguf")
FIXED_NOW = datetime.datetime(2024, 9, 3, 14, 5, 9)  # the C++ test pins the same instant


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return FIXED_NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and country, e.g. Paris, France"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"},
            },
            "required": ["location"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search_notes",
        "description": "Search the user's notes: returns matching titles",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Words to look for"},
                "limit": {"type": "integer", "description": "At most this many results"},
                "min_score": {"type": "number", "description": "Drop results below this score"},
                "exact": {"type": "boolean", "description": "Match whole words only"},
            },
            "required": ["query", "limit"],
        },
    },
}

WEATHER_CALL = {
    "id": "call12345",
    "type": "function",
    "function": {"name": "get_weather", "arguments": {"location": "Paris, France", "unit": "celsius"}},
}
SEARCH_CALL = {
    "id": "call67890",
    "type": "function",
    "function": {"name": "search_notes", "arguments": {"query": "groceries", "limit": 3, "min_score": 0.5, "exact": False}},
}
STRING_ARGS_CALL = {
    "id": "callabcde",
    "type": "function",
    "function": {"name": "get_weather", "arguments": "{\"location\": \"Tokyo\"}"},
}

UNICODE = "Ünïcødé café 你好 🎉 — «quotes» \"double\" 'single' <tag> & back\\slash\ttab\nsecond line\r\n  indented"


def conversations():
    base = {"bos_token": "<s>", "eos_token": "</s>", "tools": None, "documents": None}

    def conv(name, messages, add_generation_prompt, tools=None):
        c = dict(base, messages=messages, add_generation_prompt=add_generation_prompt)
        if tools is not None:
            c["tools"] = tools
        return {"name": name, "context": c}

    return [
        conv("system_user", [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "What is the capital of France?"},
        ], True),
        conv("user_only", [{"role": "user", "content": "Hello!"}], True),
        conv("user_only_no_prompt", [{"role": "user", "content": "Hello!"}], False),
        conv("multi_turn", [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hi, who are you?"},
            {"role": "assistant", "content": "I am an assistant. How can I help?"},
            {"role": "user", "content": "Tell me a joke."},
            {"role": "assistant", "content": "Why did the chicken cross the road? To get to the other side."},
            {"role": "user", "content": "Another one, please."},
        ], True),
        conv("multi_turn_no_system", [
            {"role": "user", "content": "  Spaces around  "},
            {"role": "assistant", "content": "Noted.\n"},
            {"role": "user", "content": "Thanks"},
        ], False, []),
        conv("unicode_quotes_newlines", [
            {"role": "system", "content": UNICODE},
            {"role": "user", "content": UNICODE},
            {"role": "assistant", "content": "{\"json\": [1, 2.5, null, true]} '{{ not a template }}' {% raw %}"},
            {"role": "user", "content": ""},
        ], True, []),
        conv("tools_user", [
            {"role": "system", "content": "You can call tools."},
            {"role": "user", "content": "What's the weather in Paris?"},
        ], True, [WEATHER_TOOL, SEARCH_TOOL]),
        conv("tool_calls", [
            {"role": "user", "content": "What's the weather in Paris, and my grocery notes?"},
            {"role": "assistant", "content": "", "tool_calls": [WEATHER_CALL, SEARCH_CALL]},
            {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"temperature\": 21, \"sky\": \"clear\"}"},
            {"role": "tool", "tool_call_id": "call67890", "name": "search_notes", "content": "[\"Weekly groceries\", \"Party list\"]"},
            {"role": "assistant", "content": "It is 21 °C and clear in Paris. Notes: Weekly groceries, Party list."},
            {"role": "user", "content": "Thanks!"},
        ], True, [WEATHER_TOOL, SEARCH_TOOL]),
        conv("tool_call_string_arguments", [
            {"role": "system", "content": "Use tools when needed."},
            {"role": "user", "content": "Weather in Tokyo?"},
            {"role": "assistant", "content": None, "tool_calls": [STRING_ARGS_CALL]},
            {"role": "tool", "tool_call_id": "callabcde", "content": "sunny"},
        ], False, [WEATHER_TOOL]),
        conv("assistant_last", [
            {"role": "user", "content": "Say hi"},
            {"role": "assistant", "content": "Hi!"},
        ], False),
        conv("system_only", [{"role": "system", "content": "Only a system prompt."}], True),
        conv("unsupported_role", [
            {"role": "user", "content": "First"},
            {"role": "user", "content": "Second in a row"},
        ], True),
    ]


SNIPPET_CONTEXT = {
    "s": "  Hello, World!  ",
    "u": "héllo wörld",
    "n": 7,
    "f": 2.5,
    "items": [3, 1, 2],
    "words": ["b", "A", "c"],
    "d": {"b": 1, "a": [1, 2.0, None, True, "x"], "items": "key named items"},
    "people": [{"name": "Ann", "age": 31, "admin": True}, {"name": "bob", "age": 25}, {"name": "Cy", "age": 40, "admin": False}],
    "none": None,
    "t": True,
}

SNIPPETS = [
    # whitespace control: trim_blocks, lstrip_blocks, -/+ modifiers, comments
    "a\n  {% if t %}\n  yes\n  {% endif %}\nb",
    "a  {%- if t -%}  x  {%- endif -%}  b",
    "  {%+ if t %}x{% endif +%}\ny",
    "a {# comment #}\n  {# own line #}\nb {{- ' c' }} {{ 'd' -}}  \n e",
    "{% raw %}{{ not evaluated }}{% endraw %}\n{{ 1 }}",
    "line1\r\nline2\n",
    "{% for i in items %}\n  - {{ i }}\n{% endfor %}\n",
    # Python str() of values
    "{{ none }} {{ t }} {{ f }} {{ 1.0 }} {{ 1e20 }} {{ 1e-5 }} {{ 0.1 + 0.2 }} {{ 3 / 2 }} {{ 10 / 5 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }}",
    "{{ d }} {{ items }} {{ (1, 'a') }} {{ (1,) }} {{ ['it\\'s', \"q\\\"\", 'tab\\t'] }}",
    "{{ undefined_name }}|{{ d.missing }}|{{ items[10] }}|{{ none.x }}",
    # operators and precedence
    "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'a' ~ 1 ~ none }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ not t or t and false }}",
    "{{ 1 == 1.0 }} {{ t == 1 }} {{ 'a' < 'b' }} {{ 3 in items }} {{ 'ell' in 'hello' }} {{ 'a' not in d }} {{ 'b' in d }}",
    "{{ 'x' if n > 5 else 'y' }} {{ 'x' if n > 50 }}|{{ -n }} {{ -f|abs }}",
    "{{ 'a' + 1 }}",
    "{{ undefined_name + 'a' }}",
    "{{ items[1:] }} {{ items[::-1] }} {{ u[1:4] }} {{ u[-3:] }} {{ s[::2] }} {{ items[-1] }} {{ u[0] }}",
    # filters
    "{{ s|trim }}|{{ s|upper }}|{{ s|lower }}|{{ 'hello world'|title }}|{{ 'hELLO'|capitalize }}|{{ s|replace('l', 'L') }}|{{ s|length }}|{{ u|length }}",
    "{{ items|first }} {{ items|last }} {{ items|join(', ') }} {{ items|sort }} {{ words|sort }} {{ items|sum }} {{ items|list }} {{ items|reverse|list }}",
    "{{ d|tojson }} {{ d|tojson(indent=2) }} {{ u|tojson }} {{ 'q\"\\\\\\n'|tojson }} {{ [] |tojson(indent=2) }} {{ d|tojson(sort_keys=true) }}",
    "{{ d|items|list }} {{ d|dictsort }} {{ d.items()|list }} {{ d.keys()|list }} {{ d.get('zz', 5) }} {{ d['items'] }} {{ d.items is defined }}",
    "{{ people|map(attribute='name')|join(',') }} {{ people|selectattr('admin')|map(attribute='name')|list }} {{ people|rejectattr('age', 'gt', 30)|map(attribute='name')|list }}",
    "{{ items|select('odd')|list }} {{ items|reject('equalto', 1)|list }} {{ words|map('upper')|list }} {{ people|sort(attribute='age')|map(attribute='name')|join }}",
    "{{ undefined_name|default('dflt') }} {{ ''|default('dflt', true) }} {{ none|default('x') }} {{ '3'|int + 1 }} {{ 'x'|int }} {{ '2.5'|float }} {{ 3|string ~ 'a' }}",
    "{{ 'a\nb\n\nc'|indent(2) }}|{{ 'a\nb'|indent(4, first=true) }}|{{ 'a\n\nb'|indent(2, blank=true) }}",
    "{{ '<a>'|safe + '<b>' }} {{ '<a>' + '<b>'|safe }} {{ '<x>'|e }}",
    "{{ items|map('string')|list }} {{ people|map(attribute='admin', default='?')|list }} {{ words|unique|list }}",
    # tests
    "{{ n is defined }} {{ x is defined }} {{ none is none }} {{ s is string }} {{ n is number }} {{ d is mapping }} {{ items is iterable }} {{ n is iterable }} {{ n is odd }} {{ n is divisibleby 7 }} {{ f is float }} {{ n is integer }} {{ t is boolean }} {{ n is not none }} {{ n is eq 7 }}",
    # string methods
    "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxaxx'.strip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ '  a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}",
    "{{ s.upper() }} {{ s.startswith('  H') }} {{ s.endswith(('!', '! ')) }} {{ 'a-b'.replace('-', '+') }} {{ 'hello'.find('l') }} {{ 'hello'.count('l') }} {{ ', '.join(words) }} {{ 'ab cd'.title() }}",
    # statements
    "{% for i in items %}{{ loop.index }}/{{ loop.length }}{{ '' if loop.last else ',' }}{% endfor %}",
    "{% for i in items if i > 1 %}{{ loop.index0 }}{{ loop.first }}{{ i }}{% else %}none{% endfor %}|{% for i in [] %}x{% else %}empty{% endfor %}",
    "{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}",
    "{% for i in items %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for p in people %}{{ loop.previtem.name if loop.previtem is defined else '-' }}>{{ loop.nextitem.name if loop.nextitem else '-' }} {% endfor %}",
    "{% set x = 1 %}{% for i in items %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}",
    "{% set ns = namespace(total=0, names=[]) %}{% for p in people %}{% set ns.total = ns.total + p.age %}{% set ns.names = ns.names + [p.name] %}{% endfor %}{{ ns.total }} {{ ns.names }}",
    "{% set a, b = [1, 2] %}{{ a }}{{ b }}{% set blk %}inner {{ n }}{% endset %}[{{ blk }}]",
    "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', punct='?') }} {{ greet(name='Cy') }}",
    "{% macro fact(k) %}{{ 1 if k <= 1 else k * fact(k - 1)|int }}{% endmacro %}{{ fact(5) }}",
    "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside {{ n }}{% endcall %}",
    "{% filter upper %}shout {{ s|trim }}{% endfilter %}",
    "{% if n > 10 %}big{% elif n > 5 %}mid{% else %}small{% endif %}",
    "{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ dict(a=1, b=2) }} {{ strftime_now('%Y-%m-%d %H:%M %b %A') }}",
    "{{ raise_exception('custom failure') }}",
    "{{ items.append(4) }}",
    "{{ items|length + people|selectattr('admin')|list|length }} {{ (people|first).name }} {{ people[0]['name'] }}",
    "{{ 'multi' 'part' }} {{ \"it's\" }} {{ '\\u00e9\\x41' }}",
    "{% if x is defined and x.y %}a{% else %}b{% endif %}",
    "{{ people|map(attribute='name')|tojson }}",
    "{{ n|length }}",
    "{% for x in none %}{% endfor %}",
]


def smollm2_template(model_path):
    reader = gguf.GGUFReader(model_path)
    field = reader.fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def main():
    model_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    templates = {}
    for path in sorted(glob.glob(os.path.join(TEMPLATE_DIR, "*.jinja"))):
        with open(path, encoding="utf-8", newline="") as f:
            templates[os.path.basename(path)[: -len(".jinja")]] = f.read()
    templates["HuggingFaceTB-SmolLM2-135M-Instruct"] = smollm2_template(model_path)

    convs = conversations()
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "conversations.json"), "w", encoding="utf-8") as f:
        json.dump(convs, f, ensure_ascii=False, indent=1)
        f.write("\n")

    env = make_env()
    snippets = []
    for source in SNIPPETS:
        entry = {"source": source}
        try:
            entry["output"] = env.from_string(source).render(**SNIPPET_CONTEXT)
        except Exception as e:  # noqa: BLE001 - recorded as the expected failure
            entry["error"] = type(e).__name__
            entry["message"] = str(e)
        snippets.append(entry)
    with open(os.path.join(OUT_DIR, "snippets.json"), "w", encoding="utf-8") as f:
        json.dump({"context": SNIPPET_CONTEXT, "snippets": snippets}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"snippets: {sum('output' in e for e in snippets)} rendered, {sum('error' in e for e in snippets)} errors")

    for name, source in templates.items():
        template = env.from_string(source)
        results = {}
        n_ok = 0
        for c in convs:
            try:
                results[c["name"]] = {"output": template.render(**c["context"])}
                n_ok += 1
            except Exception as e:  # TemplateError, or a Python error inside the template (TypeError...)
                results[c["name"]] = {"error": type(e).__name__, "message": str(e)}
        with open(os.path.join(OUT_DIR, name + ".json"), "w", encoding="utf-8") as f:
            json.dump({"source": source, "results": results}, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"{name}: {n_ok} rendered, {len(convs) - n_ok} errors")


if __name__ == "__main__":
    main()
