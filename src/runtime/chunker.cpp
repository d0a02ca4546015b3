#include "runtime/chunker.hpp"

#include <deque>

#include "base/error.hpp"

namespace lmx {

namespace {

struct Span {
    size_t begin, end;
};

// Python's str.strip() set for the characters chunks meet in practice (ASCII
// whitespace and the information separators str.isspace() counts).
bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

class Splitter {
public:
    Splitter(std::string_view text, const ChunkerOptions& o, const LengthFn& length) : text_(text), o_(o), length_(length) {}

    void split(Span s, size_t first_sep) {
        const std::string_view t = view(s);
        // The first separator present in the text; the rest are for its too-long pieces.
        size_t sep = o_.separators.size() - 1, next = o_.separators.size();
        for (size_t i = first_sep; i < o_.separators.size(); i++) {
            if (o_.separators[i].empty()) { sep = i; next = o_.separators.size(); break; }
            if (t.find(o_.separators[i]) != std::string_view::npos) { sep = i; next = i + 1; break; }
        }
        std::vector<Span> good;
        for (const Span& piece : pieces(s, o_.separators[sep])) {
            if (length_(view(piece)) < o_.chunk_size) {
                good.push_back(piece);
                continue;
            }
            if (!good.empty()) merge(good), good.clear();
            if (next >= o_.separators.size()) emit(piece);
            else split(piece, next);
        }
        if (!good.empty()) merge(good);
    }

    std::vector<Chunk> chunks;

private:
    std::string_view view(Span s) const { return text_.substr(s.begin, s.end - s.begin); }

    // The text cut before each occurrence of sep (the separator starts the next piece);
    // with sep "", one piece per UTF-8 code point. Empty pieces are dropped.
    std::vector<Span> pieces(Span s, const std::string& sep) const {
        std::vector<Span> out;
        if (sep.empty()) {
            for (size_t i = s.begin; i < s.end;) {
                size_t j = i + 1;
                while (j < s.end && (static_cast<unsigned char>(text_[j]) & 0xC0) == 0x80) j++;
                out.push_back({i, j});
                i = j;
            }
            return out;
        }
        size_t start = s.begin;
        for (size_t at = text_.find(sep, s.begin); at != std::string_view::npos && at + sep.size() <= s.end;
             at = text_.find(sep, at + sep.size())) {
            if (at > start) out.push_back({start, at});
            start = at;
        }
        if (s.end > start) out.push_back({start, s.end});
        return out;
    }

    // Neighbouring pieces joined while they fit, the last ones kept as overlap (the
    // separator is inside the pieces, so joining adds no length).
    void merge(const std::vector<Span>& splits) {
        std::deque<std::pair<Span, size_t>> current;  // pieces with their lengths
        size_t total = 0;
        for (const Span& d : splits) {
            const size_t len = length_(view(d));
            if (total + len > o_.chunk_size && !current.empty()) {
                emit({current.front().first.begin, current.back().first.end});
                while (total > o_.chunk_overlap || (total + len > o_.chunk_size && total > 0)) {
                    total -= current.front().second;
                    current.pop_front();
                }
            }
            current.push_back({d, len});
            total += len;
        }
        if (!current.empty()) emit({current.front().first.begin, current.back().first.end});
    }

    void emit(Span s) {
        while (s.begin < s.end && is_space(static_cast<unsigned char>(text_[s.begin]))) s.begin++;
        while (s.end > s.begin && is_space(static_cast<unsigned char>(text_[s.end - 1]))) s.end--;
        if (s.begin < s.end) chunks.push_back({s.begin, s.end, std::string(view(s))});
    }

    std::string_view text_;
    const ChunkerOptions& o_;
    const LengthFn& length_;
};

}  // namespace

std::vector<Chunk> split_text(std::string_view text, const ChunkerOptions& opts, const LengthFn& length) {
    if (opts.chunk_overlap > opts.chunk_size)
        fail("chunk overlap ", opts.chunk_overlap, " is larger than the chunk size ", opts.chunk_size);
    if (opts.separators.empty() || !opts.separators.back().empty())
        fail("the last chunk separator must be \"\" (split into characters), so every text can be cut");
    Splitter s(text, opts, length);
    s.split({0, text.size()}, 0);
    return std::move(s.chunks);
}

}  // namespace lmx
