#include "tokenizer/hf_model.hpp"

#include <array>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "tokenizer/bpe_merge.hpp"
#include "tokenizer/unicode.hpp"

namespace lmx::hf {

namespace {

using nlohmann::json;

std::string byte_token(uint8_t b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    return buf;
}

std::string opt_string(const json& j, const char* key) {
    return j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>() : std::string();
}

class Bpe : public Model {
public:
    explicit Bpe(const json& j) {
        if (j.contains("dropout") && j.at("dropout").is_number() && j.at("dropout").get<double>() > 0)
            fail("BPE dropout ", j.at("dropout").get<double>(), " is not supported (it makes tokenization random)");
        for (const auto& [token, id] : j.at("vocab").items()) vocab_.emplace(token, id.get<int32_t>());
        unk_ = opt_string(j, "unk_token");
        prefix_ = opt_string(j, "continuing_subword_prefix");
        suffix_ = opt_string(j, "end_of_word_suffix");
        fuse_unk_ = j.value("fuse_unk", false);
        byte_fallback_ = j.value("byte_fallback", false);
        ignore_merges_ = j.value("ignore_merges", false);
        if (!unk_.empty()) unk_id_ = find(unk_);  // HF only fails when the unknown token is needed
        for (int b = 0; b < 256; ++b) byte_ids_[static_cast<size_t>(b)] = find(byte_token(static_cast<uint8_t>(b)));

        const json& merges = j.at("merges");
        ranks_.reserve(merges.size());
        int32_t rank = 0;
        for (const json& m : merges) {
            std::string a, b;
            if (m.is_array() && m.size() == 2) {
                a = m[0].get<std::string>();
                b = m[1].get<std::string>();
            } else {
                const std::string s = m.get<std::string>();
                const size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                    fail("BPE merge '", s, "' is not two tokens separated by one space");
                a = s.substr(0, sp);
                b = s.substr(sp + 1);
            }
            const std::string merged = a + (b.compare(0, prefix_.size(), prefix_) == 0 ? b.substr(prefix_.size()) : b);
            const int32_t ia = find(a), ib = find(b), ir = find(merged);
            if (ia < 0 || ib < 0 || ir < 0)
                fail("BPE merge '", a, " ", b, "' uses a token that is not in the vocabulary ('",
                     ia < 0 ? a : ib < 0 ? b : merged, "')");
            ranks_.add(ia, ib, rank++, ir, false);
        }
    }

    void tokenize(std::u32string_view word, std::vector<int32_t>& out) const override {
        const std::string utf8 = unicode::to_utf8(word);
        if (ignore_merges_)
            if (const int32_t id = find(utf8); id >= 0) return out.push_back(id);
        std::vector<BpeSymbol> syms;
        bool unk_pending = false;  // unknown characters not yet added (fused when fuse_unk)
        const auto flush_unk = [&] {
            if (unk_pending) syms.push_back({unk_id_, 0, 0});
            unk_pending = false;
        };
        for (size_t i = 0; i < word.size(); ++i) {
            std::string s;
            if (i > 0) s = prefix_;
            unicode::append_utf8(s, word[i]);
            if (i + 1 == word.size()) s += suffix_;
            if (const int32_t id = find(s); id >= 0) {
                flush_unk();
                syms.push_back({id, 0, 0});
                continue;
            }
            if (byte_fallback_ && all_bytes_known(s)) {  // HF leaves a pending unknown for later, as here
                for (char byte : s) syms.push_back({byte_ids_[static_cast<uint8_t>(byte)], 0, 0});
                continue;
            }
            if (unk_id_ >= 0) {
                if (!(unk_pending && fuse_unk_)) flush_unk();
                unk_pending = true;
            }
        }
        flush_unk();
        ranks_.apply(syms);
        for (const BpeSymbol& s : syms) out.push_back(s.id);
    }

private:
    int32_t find(const std::string& s) const {
        const auto it = vocab_.find(s);
        return it == vocab_.end() ? -1 : it->second;
    }
    bool all_bytes_known(const std::string& s) const {
        for (char byte : s)
            if (byte_ids_[static_cast<uint8_t>(byte)] < 0) return false;
        return true;
    }

    BpeRanks ranks_;
    std::string unk_, prefix_, suffix_;
    int32_t unk_id_ = -1;
    bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
    std::array<int32_t, 256> byte_ids_{};
};

class WordPiece : public Model {
public:
    WordPiece(std::unordered_map<std::string, int32_t> vocab, int32_t unk_id, std::string word_prefix,
              std::string continuing_prefix, size_t max_chars)
        : unk_id_(unk_id), word_prefix_(std::move(word_prefix)), prefix_(std::move(continuing_prefix)),
          max_chars_(max_chars) {
        vocab_ = std::move(vocab);
    }

    void tokenize(std::u32string_view word, std::vector<int32_t>& out) const override {
        if (word.size() > max_chars_) return out.push_back(unk_id_);
        const size_t mark = out.size();
        for (size_t start = 0; start < word.size();) {
            int32_t id = -1;
            size_t end = word.size();
            for (; end > start; --end) {
                std::string s = start == 0 ? word_prefix_ : prefix_;
                s += unicode::to_utf8(word.substr(start, end - start));
                const auto it = vocab_.find(s);
                if (it != vocab_.end()) {
                    id = it->second;
                    break;
                }
            }
            if (id < 0) {
                out.resize(mark);
                return out.push_back(unk_id_);
            }
            out.push_back(id);
            start = end;
        }
    }

private:
    int32_t unk_id_;
    std::string word_prefix_, prefix_;
    size_t max_chars_;
};

class WordLevel : public Model {
public:
    explicit WordLevel(const json& j) {
        for (const auto& [token, id] : j.at("vocab").items()) vocab_.emplace(token, id.get<int32_t>());
        const auto it = vocab_.find(opt_string(j, "unk_token"));
        if (it == vocab_.end()) fail("WordLevel's unk_token is not in its vocabulary");
        unk_id_ = it->second;
    }
    void tokenize(std::u32string_view word, std::vector<int32_t>& out) const override {
        const auto it = vocab_.find(unicode::to_utf8(word));
        out.push_back(it == vocab_.end() ? unk_id_ : it->second);
    }

private:
    int32_t unk_id_ = -1;
};

// A byte trie over the pieces, for the prefix searches of the Viterbi pass.
class ByteTrie {
public:
    ByteTrie() : nodes_(1) {}
    void insert(const std::string& key, int32_t value) {
        uint32_t n = 0;
        for (char c : key) {
            const uint64_t k = edge(n, c);
            auto it = edges_.find(k);
            if (it == edges_.end()) {
                nodes_.push_back(-1);
                it = edges_.emplace(k, static_cast<uint32_t>(nodes_.size() - 1)).first;
            }
            n = it->second;
        }
        nodes_[n] = value;
    }
    // Calls f(length, value) for every key that is a prefix of s.
    template <class F>
    void prefixes(std::string_view s, F f) const {
        uint32_t n = 0;
        for (size_t i = 0; i < s.size(); ++i) {
            const auto it = edges_.find(edge(n, s[i]));
            if (it == edges_.end()) return;
            n = it->second;
            if (nodes_[n] >= 0) f(i + 1, nodes_[n]);
        }
    }

private:
    static uint64_t edge(uint32_t node, char c) { return (static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(c); }
    std::vector<int32_t> nodes_;
    std::unordered_map<uint64_t, uint32_t> edges_;
};

class Unigram : public Model {
public:
    explicit Unigram(const json& j) {
        const json& v = j.at("vocab");
        pieces_.reserve(v.size());
        min_score_ = std::numeric_limits<double>::max();
        for (const json& e : v) {
            const int32_t id = static_cast<int32_t>(pieces_.size());
            pieces_.push_back({e.at(0).get<std::string>(), e.at(1).get<double>()});
            vocab_.emplace(pieces_.back().text, id);
            trie_.insert(pieces_.back().text, id);
            min_score_ = std::min(min_score_, pieces_.back().score);
        }
        if (j.contains("unk_id") && j.at("unk_id").is_number_integer()) {
            unk_id_ = j.at("unk_id").get<int32_t>();
            if (unk_id_ < 0 || unk_id_ >= static_cast<int32_t>(pieces_.size())) fail("Unigram unk_id ", unk_id_, " is outside the vocabulary");
        }
        byte_fallback_ = j.value("byte_fallback", false);
        for (int b = 0; b < 256; ++b) {
            const auto it = vocab_.find(byte_token(static_cast<uint8_t>(b)));
            byte_ids_[static_cast<size_t>(b)] = it == vocab_.end() ? -1 : it->second;
        }
    }

    // Unigram::encode_optimized: the best-scoring segmentation, unknown characters
    // scored min_score - 10 and fused into one unknown token.
    void tokenize(std::u32string_view word, std::vector<int32_t>& out) const override {
        const std::string s = unicode::to_utf8(word);
        struct Best {
            int32_t id = -1;
            double score = 0;
            size_t start = 0;
            bool set = false;
        };
        std::vector<Best> best(s.size() + 1);
        best[0].set = true;
        const double unk_score = min_score_ - 10.0;
        for (size_t at = 0; at < s.size();) {
            const size_t len = static_cast<size_t>(std::max(1, unicode::utf8_sequence_length(s, at)));
            const double here = best[at].score;
            bool single = false;
            trie_.prefixes(std::string_view(s).substr(at), [&](size_t n, int32_t id) {
                Best& t = best[at + n];
                const double cand = here + pieces_[static_cast<size_t>(id)].score;
                if (!t.set || cand > t.score) t = {id, cand, at, true};
                if (n == len) single = true;
            });
            if (!single) {
                if (unk_id_ < 0) fail("the Unigram model has no unk_id but '", s.substr(at, len), "' is not in its vocabulary");
                Best& t = best[at + len];
                const double cand = here + unk_score;
                if (!t.set || cand > t.score) t = {unk_id_, cand, at, true};
            }
            at += len;
        }
        // Walk back; runs of unknown pieces become one.
        std::vector<std::pair<size_t, size_t>> spans;  // [start, end) of each token
        std::vector<int32_t> ids;
        for (size_t end = s.size(); end > 0;) {
            const Best& b = best[end];
            if (b.id == unk_id_ && !ids.empty() && ids.back() == unk_id_)
                spans.back().first = b.start;
            else
                spans.push_back({b.start, end}), ids.push_back(b.id);
            end = b.start;
        }
        for (size_t i = ids.size(); i-- > 0;) {
            if (ids[i] != unk_id_) {
                out.push_back(ids[i]);
                continue;
            }
            const std::string piece = s.substr(spans[i].first, spans[i].second - spans[i].first);
            const auto it = vocab_.find(piece);
            if (it != vocab_.end()) {
                out.push_back(it->second);
                continue;
            }
            if (byte_fallback_ && all_bytes_known(piece)) {
                for (char byte : piece) out.push_back(byte_ids_[static_cast<uint8_t>(byte)]);
                continue;
            }
            out.push_back(unk_id_);
        }
    }

private:
    bool all_bytes_known(const std::string& s) const {
        for (char byte : s)
            if (byte_ids_[static_cast<uint8_t>(byte)] < 0) return false;
        return true;
    }
    struct PieceScore {
        std::string text;
        double score;
    };
    std::vector<PieceScore> pieces_;
    ByteTrie trie_;
    double min_score_ = 0;
    int32_t unk_id_ = -1;
    bool byte_fallback_ = false;
    std::array<int32_t, 256> byte_ids_{};
};

}  // namespace

std::unique_ptr<Model> wordpiece(std::unordered_map<std::string, int32_t> vocab, int32_t unk_id, std::string word_prefix,
                                 std::string continuing_prefix, size_t max_chars) {
    return std::make_unique<WordPiece>(std::move(vocab), unk_id, std::move(word_prefix), std::move(continuing_prefix),
                                       max_chars);
}

std::unique_ptr<Model> model_from_json(const json& j) {
    const std::string type = j.contains("type") ? j.at("type").get<std::string>()
                              : j.contains("merges")       ? "BPE"
                              : j.contains("continuing_subword_prefix") ? "WordPiece" : "";
    if (type == "BPE") return std::make_unique<Bpe>(j);
    if (type == "Unigram") return std::make_unique<Unigram>(j);
    if (type == "WordLevel") return std::make_unique<WordLevel>(j);
    if (type == "WordPiece") {
        std::unordered_map<std::string, int32_t> vocab;
        for (const auto& [token, id] : j.at("vocab").items()) vocab.emplace(token, id.get<int32_t>());
        const std::string unk = j.value("unk_token", std::string("[UNK]"));
        const auto it = vocab.find(unk);
        if (it == vocab.end()) fail("WordPiece's unk_token '", unk, "' is not in its vocabulary");
        const int32_t unk_id = it->second;
        return wordpiece(std::move(vocab), unk_id, "", j.value("continuing_subword_prefix", std::string("##")),
                         j.value("max_input_chars_per_word", size_t{100}));
    }
    fail("model type '", type, "' is not supported; lmx knows BPE, WordPiece, Unigram and WordLevel");
}

}  // namespace lmx::hf
