#pragma once
// Character predicates and string helpers shared by the HF components, with the
// meaning Rust's char methods (which HF `tokenizers` calls) give them.
#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizer/unicode.hpp"

namespace lmx::hf {

// char::is_whitespace: the White_Space property.
inline bool is_whitespace(uint32_t cp) { return unicode::is_whitespace(cp); }
// char::is_numeric: general categories Nd, Nl, No.
inline bool is_numeric(uint32_t cp) { return unicode::category(cp) == unicode::UnicodeCategory::Number; }
// char::is_alphanumeric: Alphabetic or Numeric; Alphabetic approximated by L* and Nl.
inline bool is_alphanumeric(uint32_t cp) {
    const unicode::UnicodeCategory c = unicode::category(cp);
    return c == unicode::UnicodeCategory::Letter || c == unicode::UnicodeCategory::Number;
}
// BERT's punctuation: ASCII punctuation or any Unicode P*.
inline bool is_bert_punctuation(uint32_t cp) {
    if (cp < 0x80)
        return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
               (cp >= 0x7B && cp <= 0x7E);
    return unicode::category(cp) == unicode::UnicodeCategory::Punctuation;
}
// The CJK ideograph blocks BERT pads with spaces (HF's list, as llama.cpp copies it).
inline bool is_chinese_char(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Replaces every non-overlapping occurrence of `from` (left to right).
std::u32string replace_all(std::u32string_view text, std::u32string_view from, std::u32string_view to);
std::string replace_all_bytes(std::string_view text, std::string_view from, std::string_view to);

}  // namespace lmx::hf
