#include "runtime/compressor.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "base/crc32.hpp"
#include "base/error.hpp"
#include "base/sha256.hpp"
#include "kernels/kernels.hpp"
#include "runtime/range_coder.hpp"
#include "runtime/session.hpp"
#include "tokenizer/unicode.hpp"

namespace lmx {

namespace {

constexpr int kBatch = 32;  // positions per encoder forward pass (logits memory: kBatch x vocab floats)
constexpr size_t kMaxLanes = 16;  // chunks a decompression worker decodes in lockstep, at most
constexpr uint64_t kKvBudget = 512ull << 20;  // a decompression worker's KV cache, bytes: bounds its lanes

std::string hex(const std::array<uint8_t, 32>& h) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (uint8_t b : h) s += digits[b >> 4], s += digits[b & 15];
    return s;
}

std::array<uint8_t, 32> tokenizer_hash(const Tokenizer& tok) {
    Sha256 h;
    auto add_u32 = [&](uint32_t v) { h.update(&v, 4); };  // little-endian hosts only (x86, ARM, WASM)
    add_u32(static_cast<uint32_t>(tok.n_vocab()));
    add_u32(static_cast<uint32_t>(tok.bos_id()));
    add_u32(static_cast<uint32_t>(tok.eos_id()));
    for (int32_t id = 0; id < tok.n_vocab(); id++) {
        const std::string b = tok.token_bytes(id);
        add_u32(static_cast<uint32_t>(b.size()));
        h.update(b.data(), b.size());
    }
    return h.finish();
}

// Serialized progress reports from the workers.
class Progress {
public:
    Progress(const CompressOptions& o, uint64_t total) : fn_(o.progress), total_(total) {}
    void add(uint64_t bytes) {
        if (!fn_ || bytes == 0) return;
        std::lock_guard<std::mutex> lock(mu_);
        done_ += bytes;
        fn_(done_, total_);
    }

private:
    std::function<void(uint64_t, uint64_t)> fn_;
    std::mutex mu_;
    uint64_t done_ = 0, total_;
};

// Chunks end at most chunk_bytes in, moved back (by at most 3 bytes) to a UTF-8 character start.
std::vector<std::string_view> split_chunks(std::string_view data, uint32_t chunk_bytes) {
    std::vector<std::string_view> chunks;
    while (!data.empty()) {
        size_t n = std::min<size_t>(chunk_bytes, data.size());
        if (n < data.size())
            for (size_t back = 0; back < 3 && n - back > 1; back++)
                if ((static_cast<uint8_t>(data[n - back]) & 0xC0) != 0x80) {
                    n -= back;
                    break;
                }
        chunks.push_back(data.substr(0, n));
        data.remove_prefix(n);
    }
    return chunks;
}

}  // namespace

Compressor::Compressor(std::shared_ptr<const Model> model) : model_(std::move(model)) {
    if (model_->format() != Model::Format::gguf)
        fail("compression needs a GGUF model (its deterministic kernels make decoding exact); ", model_->path(), " is ONNX");
    Sha256 h;  // of the whole model file, as read or mapped at load
    h.update(model_->file().file_bytes(), model_->file().file_size());
    model_sha_ = h.finish();
    const Tokenizer& tok = model_->tokenizer();
    tokenizer_sha_ = tokenizer_hash(tok);
    byte_token_.fill(-1);
    for (int32_t id = tok.n_vocab() - 1; id >= 0; id--) {  // downwards: the lowest id wins
        const std::string b = tok.token_bytes(id);
        if (b.size() == 1) byte_token_[static_cast<uint8_t>(b[0])] = id;
    }
    start_token_ = tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id() >= 0 ? tok.eos_id() : 0;
}

void Compressor::frequencies(const float* logits, const CodingParams& p, bool after_escape, std::vector<uint32_t>& cum) {
    const uint32_t n = p.n_vocab, total = 1u << p.total_log2;
    const uint32_t esc = after_escape ? p.escape_run_freq : p.escape_freq;
    thread_local std::vector<float> e;
    e.resize(n);
    uint32_t top = 0;
    for (uint32_t i = 1; i < n; i++)
        if (logits[i] > logits[top]) top = i;
    for (uint32_t i = 0; i < n; i++) e[i] = logits[i] - logits[top];
    static const kernels::ExpRowFn exp_row = kernels::best_table().exp_det;  // det_exp's bits on every ISA
    exp_row(n, e.data(), e.data());
    double sum = 0;  // in index order: the same rounding everywhere
    for (uint32_t i = 0; i < n; i++) sum += e[i];
    // every token gets 1, the rest of the budget in proportion to its probability
    const double budget = static_cast<double>(total - esc - n);
    cum.resize(n + 2);
    cum[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        const double q = static_cast<double>(e[i]) / sum * budget;
        cum[i + 1] = cum[i] + 1 + (q > 0 ? static_cast<uint32_t>(q) : 0);  // NaN gives 0, never UB
    }
    if (cum[n] > total - esc) fail("internal error: frequency table overflows (", cum[n], " > ", total - esc, ")");
    // the rounding remainder goes to the most likely token
    const uint32_t extra = total - esc - cum[n];
    for (uint32_t i = top + 1; i <= n; i++) cum[i] += extra;
    cum[n + 1] = total;
}

// Workers are threads: as many as asked for or the hardware has, capped by what the build
// runs (1 in single-threaded WASM) and by the n chunks at per_worker each. The chunking,
// and so the container, does not depend on it.
static int worker_count(size_t n, size_t per_worker, const CompressOptions& o) {
    const int wanted = std::min(o.workers > 0 ? o.workers : hardware_threads(), max_threads());
    return static_cast<int>(std::max<size_t>(1, std::min<size_t>((n + per_worker - 1) / per_worker, static_cast<size_t>(wanted))));
}

void Compressor::run_workers(size_t n, const CompressOptions& o, int64_t n_ctx, int n_seq,
                             const std::function<void(Session&, std::atomic<size_t>&)>& job) const {
    if (n == 0) return;
    const int workers = worker_count(n, static_cast<size_t>(n_seq), o);
    SessionOptions so;
    so.n_threads = o.threads_per_worker > 0 ? o.threads_per_worker : std::max(1, hardware_threads() / workers);
    so.n_ctx = n_ctx;
    so.n_seq = n_seq;
    so.deterministic = true;
    std::atomic<size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mu;
    auto work = [&] {
        try {
            Session s(model_, so);
            job(s, next);
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mu);
            if (!error) error = std::current_exception();
            next = n;
        }
    };
    std::vector<std::thread> threads;
    for (int w = 1; w < workers; w++) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
    if (error) std::rethrow_exception(error);
}

int64_t Compressor::max_chunk_positions(int64_t asked) const {
    const int n_ctx_train = model_->config().n_ctx_train;
    const int64_t model_max = n_ctx_train > 0 ? n_ctx_train : kMaxChunkBytes;
    return asked > 0 ? std::min(asked, model_max) : model_max;
}

// Runs of valid UTF-8 whose bytes all have tokens are tokenized, the rest escaped.
std::vector<Compressor::Item> Compressor::items_of(std::string_view chunk) const {
    const Tokenizer& tok = model_->tokenizer();
    std::vector<Item> items;
    std::string run;
    auto flush_run = [&] {
        if (run.empty()) return;
        const std::vector<int32_t> toks = tok.encode(run, false, false);
        std::string back;
        for (int32_t t : toks) back += tok.token_bytes(t);
        if (back == run) {
            for (int32_t t : toks) items.push_back({t, 0});
        } else {  // the tokenizer does not round-trip this run: escape it whole
            for (char c : run) items.push_back({-1, static_cast<uint8_t>(c)});
        }
        run.clear();
    };
    for (size_t i = 0; i < chunk.size();) {
        const int len = unicode::utf8_sequence_length(chunk, i);
        bool ok = len > 0;
        for (int k = 0; ok && k < len; k++) ok = byte_token_[static_cast<uint8_t>(chunk[i + static_cast<size_t>(k)])] >= 0;
        if (ok) {
            run.append(chunk.substr(i, static_cast<size_t>(len)));
            i += static_cast<size_t>(len);
        } else {
            flush_run();
            items.push_back({-1, static_cast<uint8_t>(chunk[i++])});
        }
    }
    flush_run();
    return items;
}

std::string Compressor::compress(std::string_view data, const CompressOptions& o) const {
    const Tokenizer& tok = model_->tokenizer();
    ContainerHeader h;
    h.model_sha256 = model_sha_;
    h.tokenizer_sha256 = tokenizer_sha_;
    h.params.n_vocab = static_cast<uint32_t>(model_->config().n_vocab);
    h.params.chunk_bytes = o.chunk_bytes;
    if (o.chunk_bytes < 16 || o.chunk_bytes > kMaxChunkBytes)
        fail("chunk size ", o.chunk_bytes, " must be between 16 and ", kMaxChunkBytes, " bytes");
    h.original_bytes = data.size();
    h.original_crc32 = crc32(data);
    // The chunks and their items; a chunk with more items than the model has positions is
    // cut in two (again if need be), so a chunk size of more bytes than the context holds
    // tokens takes each chunk's context as far as the model reaches.
    const int64_t max_positions = max_chunk_positions(o.max_positions);
    std::vector<std::string_view> chunks, todo = split_chunks(data, o.chunk_bytes);
    std::vector<std::vector<Item>> chunk_items;
    std::reverse(todo.begin(), todo.end());  // a stack, the next chunk on top
    int64_t n_ctx = 1;
    while (!todo.empty()) {
        const std::string_view c = todo.back();
        todo.pop_back();
        std::vector<Item> items = items_of(c);
        if (static_cast<int64_t>(items.size()) > max_positions) {
            std::vector<std::string_view> halves = split_chunks(c, static_cast<uint32_t>((c.size() + 1) / 2));
            todo.insert(todo.end(), halves.rbegin(), halves.rend());
            continue;
        }
        n_ctx = std::max(n_ctx, static_cast<int64_t>(items.size()));
        chunks.push_back(c);
        chunk_items.push_back(std::move(items));
    }
    h.chunks.resize(chunks.size());
    std::vector<std::string> payloads(chunks.size());
    Progress progress(o, data.size());

    // each chunk is one sequence, coded kBatch positions per forward pass
    auto compress_chunk = [&](Session& s, size_t ci) {
        const std::vector<Item>& items = chunk_items[ci];
        // the model sees the start token then each item; row j of the logits predicts item j
        ArithmeticEncoder enc;
        std::vector<uint32_t> cum;
        uint32_t symbols = 0;
        bool after_escape = false;
        for (size_t b = 0; b < items.size(); b += kBatch) {
            const size_t e = std::min(items.size(), b + kBatch);
            Batch batch;
            for (size_t j = b; j < e; j++) {
                const int32_t feed = j == 0 ? start_token_ : items[j - 1].token >= 0 ? items[j - 1].token : byte_token_or_start(items[j - 1].byte);
                batch.add(feed, static_cast<int32_t>(j), 0, true);
            }
            const std::vector<float>& logits = s.decode(batch);
            uint64_t bytes = 0;
            for (size_t j = b; j < e; j++) {
                frequencies(logits.data() + (j - b) * h.params.n_vocab, h.params, after_escape, cum);
                const Item& it = items[j];
                const uint32_t sym = it.token >= 0 ? static_cast<uint32_t>(it.token) : h.params.n_vocab;
                enc.encode(cum[sym], cum[sym + 1] - cum[sym], cum.back());
                symbols++;
                if (it.token < 0) {
                    enc.encode(it.byte, 1, 256);
                    symbols++;
                }
                after_escape = it.token < 0;
                bytes += it.token >= 0 ? tok.token_bytes(it.token).size() : 1;
            }
            progress.add(bytes);
        }
        h.chunks[ci] = {static_cast<uint32_t>(chunks[ci].size()), symbols, 0};
        payloads[ci] = enc.finish();
        h.chunks[ci].coded_bytes = static_cast<uint32_t>(payloads[ci].size());
    };
    run_workers(chunks.size(), o, n_ctx, 1, [&](Session& s, std::atomic<size_t>& next) {
        for (size_t i; (i = next++) < chunks.size();) compress_chunk(s, i);
    });
    return write_container(h, payloads);
}

std::string Compressor::decompress(std::string_view container, const CompressOptions& o) const {
    const ParsedContainer c = parse_container(container);
    const ContainerHeader& h = c.header;
    if (h.numerics != kNumericsVersion)
        fail("compressed file was made with numerics revision ", h.numerics, ", this lmx computes revision ",
             kNumericsVersion, ": decompress it with the lmx release that wrote it");
    if (h.model_sha256 != model_sha_)
        fail("compressed file was made with another model (SHA-256 ", hex(h.model_sha256), "); this one is ",
             model_->path(), " (", hex(model_sha_), "): pass the original model with -m");
    if (h.tokenizer_sha256 != tokenizer_sha_)
        fail("compressed file was made with another tokenizer (SHA-256 ", hex(h.tokenizer_sha256), " vs ", hex(tokenizer_sha_), ")");
    if (h.params.n_vocab != static_cast<uint32_t>(model_->config().n_vocab))
        fail("compressed file codes a vocabulary of ", h.params.n_vocab, " tokens, the model has ", model_->config().n_vocab);
    const Tokenizer& tok = model_->tokenizer();
    std::vector<std::string> out(h.chunks.size());
    Progress progress(o, h.original_bytes);

    // A chunk being decoded: its arithmetic decoder, what it has produced, what the model sees next.
    struct Lane {
        size_t ci;
        ArithmeticDecoder dec;
        int32_t feed;
        uint32_t symbols = 0, pos = 0;
        bool after_escape = false;
        uint64_t reported = 0;
    };
    // Decodes the symbol(s) of one position from its logits; true when the chunk is complete.
    auto step = [&](Lane& l, const float* logits, std::vector<uint32_t>& cum) {
        const ChunkEntry& e = h.chunks[l.ci];
        std::string& text = out[l.ci];
        frequencies(logits, h.params, l.after_escape, cum);
        const uint32_t total = cum.back(), t = l.dec.target(total);
        const uint32_t sym = static_cast<uint32_t>(std::upper_bound(cum.begin(), cum.end(), t) - cum.begin()) - 1;
        l.dec.consume(cum[sym], cum[sym + 1] - cum[sym], total);
        l.symbols++;
        l.pos++;
        l.after_escape = sym == h.params.n_vocab;
        if (l.after_escape) {
            if (l.symbols == e.symbols) fail("compressed file is corrupt: chunk ", l.ci, " ends inside an escape");
            const uint32_t byte = l.dec.target(256);
            l.dec.consume(byte, 1, 256);
            l.symbols++;
            text.push_back(static_cast<char>(byte));
            l.feed = byte_token_or_start(static_cast<uint8_t>(byte));
        } else {
            text += tok.token_bytes(static_cast<int32_t>(sym));
            l.feed = static_cast<int32_t>(sym);
        }
        if (text.size() > e.original_bytes) fail("compressed file is corrupt: chunk ", l.ci, " decodes to too many bytes");
        if (text.size() - l.reported >= 256) progress.add(text.size() - l.reported), l.reported = text.size();
        return l.symbols >= e.symbols;
    };
    auto finish = [&](const Lane& l) {
        const ChunkEntry& e = h.chunks[l.ci];
        if (out[l.ci].size() != e.original_bytes)
            fail("compressed file is corrupt: chunk ", l.ci, " decodes to ", out[l.ci].size(), " bytes, not ", e.original_bytes);
        progress.add(out[l.ci].size() - l.reported);
    };
    // Each worker decodes its lanes' chunks in lockstep, one position of each per forward
    // pass (the batch's rows share every weight read); a finished chunk's slot takes the
    // next. The chunks spread evenly over the workers (up to kMaxLanes each), so none
    // decodes a tail alone while another idles. Each sequence's logits are bit-identical
    // to decoding it alone (deterministic mode).
    // A chunk has at most one position per coded symbol and per byte, and compress never
    // gives it more than the model's context: a file that claims more is corrupt.
    uint32_t max_symbols = 1;
    for (const ChunkEntry& e : h.chunks) max_symbols = std::max(max_symbols, e.symbols);
    const int64_t n_ctx = std::min<int64_t>({max_symbols, h.params.chunk_bytes, max_chunk_positions()});
    const size_t n_chunks = h.chunks.size();
    const size_t workers = static_cast<size_t>(worker_count(n_chunks, 1, o));
    const models::DecoderConfig& mc = model_->config();
    const uint64_t kv_bytes = 4ull * static_cast<uint64_t>(mc.n_layers * mc.n_kv_heads * mc.head_dim) * static_cast<uint64_t>(n_ctx);  // fp16 k and v
    const size_t lanes_fit = static_cast<size_t>(std::max<uint64_t>(1, kKvBudget / std::max<uint64_t>(1, kv_bytes)));
    const int lanes = static_cast<int>(std::min({kMaxLanes, lanes_fit, (n_chunks + workers - 1) / workers}));
    run_workers(n_chunks, o, n_ctx, lanes, [&](Session& s, std::atomic<size_t>& next) {
        std::vector<std::optional<Lane>> slot(static_cast<size_t>(lanes));
        auto refill = [&](size_t k) {
            slot[k].reset();
            if (const size_t ci = next++; ci < n_chunks) slot[k].emplace(Lane{ci, ArithmeticDecoder(c.payloads[ci]), start_token_});
        };
        for (size_t k = 0; k < slot.size(); k++) refill(k);
        std::vector<uint32_t> cum;
        std::vector<size_t> rows;
        for (;;) {
            Batch batch;
            rows.clear();
            for (size_t k = 0; k < slot.size(); k++) {
                if (!slot[k]) continue;
                if (slot[k]->pos >= h.chunks[slot[k]->ci].original_bytes || slot[k]->pos >= n_ctx)
                    fail("compressed file is corrupt: chunk ", slot[k]->ci, " codes more items than its bytes or the model's context");
                batch.add(slot[k]->feed, static_cast<int32_t>(slot[k]->pos), static_cast<int32_t>(k), true);
                rows.push_back(k);
            }
            if (rows.empty()) break;
            const std::vector<float>& logits = s.decode(batch);
            for (size_t r = 0; r < rows.size(); r++) {
                Lane& l = *slot[rows[r]];
                if (step(l, logits.data() + r * h.params.n_vocab, cum)) {
                    finish(l);
                    refill(rows[r]);
                }
            }
        }
    });
    std::string data;
    data.reserve(h.original_bytes);
    for (const std::string& t : out) data += t;
    if (crc32(data) != h.original_crc32) fail("compressed file is corrupt: the decompressed data fails its CRC-32 check");
    return data;
}

}  // namespace lmx
