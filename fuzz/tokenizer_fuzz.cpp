// libFuzzer target for the tokenizer.json loader, the regex engine and encode/decode.
// The first byte picks what the rest is:
//   0: a tokenizer.json; if it loads, it encodes and decodes a fixed text and itself
//   1: a regex pattern, a newline, then text for it to scan
//   2: text encoded and decoded by a small built-in tokenizer.json that uses most
//      components (Split regex, ByteLevel BPE, added tokens, normalizers, Metaspace...)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

namespace {

constexpr std::string_view kBuiltIn = R"({
 "added_tokens": [
  {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
  {"id": 9, "content": "<m>", "single_word": false, "lstrip": true, "rstrip": true, "normalized": false, "special": true},
  {"id": 10, "content": "ab cd", "single_word": true, "lstrip": false, "rstrip": false, "normalized": true, "special": false}],
 "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
   {"type": "Split", "pattern": {"Regex": "(?i:'s|'t)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
   {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
   "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}}},
 "decoder": {"type": "ByteLevel"},
 "model": {"type": "BPE", "unk_token": null, "byte_fallback": false, "ignore_merges": true,
   "vocab": {"<s>": 0, "a": 1, "b": 2, "ab": 3, "Ġ": 4, "Ġa": 5, "c": 6, "abc": 7, "Ġab": 8},
   "merges": ["a b", "Ġ a", "ab c", "Ġa b"]}
})";

void exercise(const lmx::Tokenizer& tok, std::string_view text) {
    for (bool special : {false, true}) {
        const std::vector<int32_t> ids = tok.encode(text, special, special);
        (void)tok.decode(ids, !special);
        lmx::StreamDecoder stream(tok);
        for (int32_t id : ids) (void)stream.push(id);
        (void)stream.flush();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        switch (data[0] % 3) {
            case 0: {
                const auto tok = lmx::Tokenizer::from_hf_json_text(rest, "", "fuzz");
                exercise(*tok, "Hello world! 123 <s> ab cd \xE4\xB8\xAD\xF0\x9F\x98\x80  \n\n x");
                exercise(*tok, rest.substr(0, 256));
                break;
            }
            case 1: {
                const size_t nl = rest.find('\n');
                if (nl == std::string_view::npos) break;
                const lmx::Regex re(rest.substr(0, nl));
                (void)re.find_all(lmx::unicode::to_code_points(rest.substr(nl + 1)));
                break;
            }
            default: {
                static const auto tok = lmx::Tokenizer::from_hf_json_text(kBuiltIn, "", "built-in");
                exercise(*tok, rest);
            }
        }
    } catch (const lmx::Error&) {
        // rejected input with a message: what should happen
    }
    return 0;
}
