// Unicode normalization forms (UAX #15): decompose with the generated full
// decompositions (Hangul syllables algorithmically), put combining marks in canonical
// order, and for NFC / NFKC recompose with the primary composites.
#include <algorithm>

#include "tokenizer/unicode.hpp"

namespace lmx::unicode {

namespace {

constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

void decompose(std::u32string& out, uint32_t cp, bool compat) {
    if (cp >= kSBase && cp < kSBase + kSCount) {
        const uint32_t s = cp - kSBase;
        out += static_cast<char32_t>(kLBase + s / kNCount);
        out += static_cast<char32_t>(kVBase + (s % kNCount) / kTCount);
        if (s % kTCount) out += static_cast<char32_t>(kTBase + s % kTCount);
        return;
    }
    const Mapping* m = compat ? find_mapping(kNfkd, kNfkdCount, cp) : find_mapping(kNfd, kNfdCount, cp);
    if (m)
        out.append(kMappingPool + m->offset, kMappingPool + m->offset + m->length);
    else
        out += static_cast<char32_t>(cp);
}

// Stable sort of every run of non-starters by combining class.
void reorder(std::u32string& s) {
    for (size_t i = 0; i < s.size();) {
        if (combining_class(s[i]) == 0) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < s.size() && combining_class(s[j]) != 0) ++j;
        if (j - i > 1)
            std::stable_sort(s.begin() + static_cast<std::ptrdiff_t>(i), s.begin() + static_cast<std::ptrdiff_t>(j),
                             [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
        i = j;
    }
}

uint32_t compose_pair(uint32_t a, uint32_t b) {
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
        return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
        return a + (b - kTBase);
    const Composition* end = kCompositions + kCompositionCount;
    const Composition* it = std::lower_bound(kCompositions, end, std::pair<uint32_t, uint32_t>(a, b),
                                             [](const Composition& c, const std::pair<uint32_t, uint32_t>& k) {
                                                 return c.first != k.first ? c.first < k.first : c.second < k.second;
                                             });
    return it != end && it->first == a && it->second == b ? it->composite : 0;
}

// The canonical composition algorithm over a decomposed, reordered string.
void compose(std::u32string& s) {
    if (s.empty()) return;
    size_t starter = std::u32string::npos;  // index of the last starter in the output
    size_t out = 0;
    int last_ccc = -1;
    for (size_t i = 0; i < s.size(); ++i) {
        const char32_t c = s[i];
        const int ccc = combining_class(c);
        if (starter != std::u32string::npos && (last_ccc < ccc || (last_ccc == 0 && out == starter + 1))) {
            // Not blocked from the starter: either nothing in between, or all lower classes.
            if (const uint32_t p = compose_pair(s[starter], c)) {
                s[starter] = p;
                continue;
            }
        }
        if (ccc == 0) {
            starter = out;
            last_ccc = 0;
        } else {
            last_ccc = ccc;
        }
        s[out++] = c;
    }
    s.resize(out);
}

}  // namespace

std::u32string normalize(NormalForm form, std::u32string_view text) {
    const bool compat = form == NormalForm::NFKC || form == NormalForm::NFKD;
    std::u32string out;
    out.reserve(text.size());
    for (char32_t cp : text) decompose(out, cp, compat);
    reorder(out);
    if (form == NormalForm::NFC || form == NormalForm::NFKC) compose(out);
    return out;
}

}  // namespace lmx::unicode
