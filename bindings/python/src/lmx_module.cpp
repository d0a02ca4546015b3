// lmx._lmx: the C++ runtime for Python (nanobind). The package lmx (bindings/python/lmx)
// wraps it. Compute runs with the GIL released; streamed text comes from a worker thread
// through a queue, so a Python thread keeps running while a model generates.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "base/cpu_features.hpp"
#include "base/error.hpp"
#include "kernels/kernels.hpp"
#include "runtime/chat.hpp"
#include "runtime/compressor.hpp"
#include "runtime/embedder.hpp"
#include "runtime/generator.hpp"
#include "runtime/logprobs.hpp"
#include "runtime/self_check.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

// A vector handed to numpy without a copy: the capsule owns it.
template <class T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& v, std::initializer_list<size_t> shape) {
    if (v.empty()) v.reserve(1);  // a valid data pointer for empty arrays
    auto* owned = new std::vector<T>(std::move(v));
    nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
    return nb::ndarray<nb::numpy, T>(owned->data(), shape, owner);
}

// Streamed text of one generation (or chat reply) run on a worker thread. The producer
// queues each piece; next() waits for one with the GIL released. Dropping the stream
// before the end cancels the generation at the next token.
class TextStream {
public:
    using Job = std::function<lmx::GenerateResult(const lmx::TextCallback&, size_t& reused)>;

    // `release` runs on the worker when the job is over (frees the model's session).
    TextStream(Job job, std::function<void()> release) {
        worker_ = std::thread([this, job = std::move(job), release = std::move(release)] {
            try {
                size_t reused = 0;
                lmx::GenerateResult r = job(
                    [this](std::string_view s) {
                        std::lock_guard<std::mutex> lock(mu_);
                        queue_.emplace_back(s);
                        cv_.notify_one();
                        return !cancel_.load();
                    },
                    reused);
                std::lock_guard<std::mutex> lock(mu_);
                result_ = std::move(r);
                reused_ = reused;
            } catch (...) {
                std::lock_guard<std::mutex> lock(mu_);
                error_ = std::current_exception();
            }
            release();
            std::lock_guard<std::mutex> lock(mu_);
            done_ = true;
            cv_.notify_one();
        });
    }
    TextStream(const TextStream&) = delete;
    TextStream& operator=(const TextStream&) = delete;
    ~TextStream() { close(); }

    // The next piece; std::nullopt at the end. Rethrows the generation's error.
    std::optional<std::string> next() {
        std::optional<std::string> piece;
        std::exception_ptr error;
        {
            nb::gil_scoped_release release;
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return !queue_.empty() || done_; });
            if (!queue_.empty()) {
                piece = std::move(queue_.front());
                queue_.pop_front();
            } else {
                error = std::exchange(error_, nullptr);
            }
        }
        if (error) std::rethrow_exception(error);
        return piece;
    }

    // Stops the generation (at the next token) and waits for the worker.
    void close() {
        cancel_.store(true);
        if (worker_.joinable()) {
            if (PyGILState_Check()) {
                nb::gil_scoped_release release;
                worker_.join();
            } else {
                worker_.join();
            }
        }
    }

    bool done() {
        std::lock_guard<std::mutex> lock(mu_);
        return done_ && queue_.empty();
    }
    // Valid once done(): what the generation returned.
    const lmx::GenerateResult& result() {
        std::lock_guard<std::mutex> lock(mu_);
        if (!done_) throw lmx::Error("the generation has not finished: iterate it to the end (or call text())");
        return result_;
    }
    size_t reused_tokens() {
        result();
        return reused_;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    bool done_ = false;
    std::exception_ptr error_;
    lmx::GenerateResult result_;
    size_t reused_ = 0;
    std::atomic<bool> cancel_{false};
    std::thread worker_;  // last: started once everything above exists
};

struct SamplingArgs {
    int max_tokens;
    float temperature;
    int top_k;
    float top_p, min_p, repeat_penalty;
    int repeat_last_n;
    uint64_t seed;
};

lmx::GenerateOptions generate_options(const SamplingArgs& a, std::vector<std::string> stop) {
    if (a.max_tokens < 0) lmx::fail("max_tokens must be >= 0 (got ", a.max_tokens, ")");
    if (a.temperature < 0) lmx::fail("temperature must be >= 0 (got ", a.temperature, ")");
    if (a.top_k < 0) lmx::fail("top_k must be >= 0 (got ", a.top_k, ")");
    if (a.top_p < 0 || a.top_p > 1) lmx::fail("top_p must be in [0, 1] (got ", a.top_p, ")");
    if (a.min_p < 0 || a.min_p > 1) lmx::fail("min_p must be in [0, 1] (got ", a.min_p, ")");
    if (a.repeat_penalty <= 0) lmx::fail("repeat_penalty must be > 0 (got ", a.repeat_penalty, ")");
    if (a.repeat_last_n < 0) lmx::fail("repeat_last_n must be >= 0 (got ", a.repeat_last_n, ")");
    lmx::GenerateOptions o;
    o.max_tokens = a.max_tokens;
    o.stop = std::move(stop);
    o.sampling.temperature = a.temperature;
    o.sampling.top_k = a.top_k;
    o.sampling.top_p = a.top_p;
    o.sampling.min_p = a.min_p;
    o.sampling.repeat_penalty = a.repeat_penalty;
    o.sampling.repeat_last_n = a.repeat_last_n;
    o.sampling.seed = a.seed;
    return o;
}

// A GGUF decoder model with one generation session (created on first use) that
// generate() and chat() share, one at a time.
class Decoder {
public:
    Decoder(const std::string& path, int n_threads, int64_t n_ctx) : n_threads_(n_threads), n_ctx_(n_ctx) {
        if (n_threads < 0) lmx::fail("n_threads must be >= 0 (0: all cores)");
        if (n_ctx < 8) lmx::fail("n_ctx must be at least 8 (got ", n_ctx, ")");
        nb::gil_scoped_release release;
        model_ = lmx::Model::load(path);
    }

    const lmx::Model& model() const { return *model_; }

    std::vector<int32_t> tokenize(const std::string& text, bool add_special, bool parse_special) const {
        nb::gil_scoped_release release;
        return model_->tokenizer().encode(text, add_special, parse_special);
    }

    std::string detokenize(const std::vector<int32_t>& ids) const {
        nb::gil_scoped_release release;
        return model_->tokenizer().decode(ids);
    }

    std::unique_ptr<TextStream> generate(const std::string& prompt, const SamplingArgs& s, std::vector<std::string> stop,
                                         bool add_special, bool parse_special) {
        lmx::GenerateOptions o = generate_options(s, std::move(stop));
        o.add_special = add_special;
        o.parse_special = parse_special;
        acquire();
        chat_.reset();  // generate() overwrites the cache a chat would reuse
        return std::make_unique<TextStream>(
            [this, prompt, o](const lmx::TextCallback& cb, size_t&) { return lmx::generate(session(), prompt, o, cb); },
            [this] { busy_.store(false); });
    }

    std::unique_ptr<TextStream> chat(std::vector<std::pair<std::string, std::string>> messages, const SamplingArgs& s) {
        if (messages.empty() || messages.back().first != "user")
            lmx::fail("chat needs a conversation that ends with a message of role 'user'");
        const lmx::GenerateOptions o = generate_options(s, {});
        acquire();
        return std::make_unique<TextStream>(
            [this, messages = std::move(messages), o](const lmx::TextCallback& cb, size_t& reused) {
                if (!chat_) chat_ = std::make_unique<lmx::ChatSession>(session());
                std::vector<lmx::ChatMessage> history;
                for (size_t i = 0; i + 1 < messages.size(); i++) history.push_back({messages[i].first, messages[i].second});
                chat_->set_messages(std::move(history));
                lmx::ChatTurn t = chat_->send(messages.back().second, o, cb);
                reused = t.reused_tokens;
                return std::move(t.result);
            },
            [this] { busy_.store(false); });
    }

    // (ids, logprob[n-1], top_ids[n-1, top], top_logprob[n-1, top])
    using I32 = nb::ndarray<nb::numpy, int32_t>;
    using F64 = nb::ndarray<nb::numpy, double>;
    std::tuple<I32, F64, I32, F64> logprobs(const std::string& text, int top, bool deterministic, bool add_special) const {
        if (top < 0) lmx::fail("top must be >= 0 (got ", top, ")");
        std::vector<int32_t> ids;
        lmx::TokenLogprobs lp;
        {
            nb::gil_scoped_release release;
            ids = model_->tokenizer().encode(text, add_special, false);
            if (ids.empty()) lmx::fail("the text has no tokens");
            lmx::SessionOptions so;
            so.n_threads = n_threads_;
            so.n_ctx = static_cast<int64_t>(ids.size());
            so.deterministic = deterministic;
            lmx::Session session(model_, so);
            lp = lmx::token_logprobs(session, ids, top);
        }
        const size_t n = ids.size(), k = static_cast<size_t>(lp.top);
        return {to_numpy(std::move(ids), {n}), to_numpy(std::move(lp.logprob), {n - 1}),
                to_numpy(std::move(lp.top_ids), {n - 1, k}), to_numpy(std::move(lp.top_logprob), {n - 1, k})};
    }

    nb::bytes compress(nb::bytes data, uint32_t chunk_bytes, int workers, int threads) {
        if (chunk_bytes < 16) lmx::fail("chunk_bytes must be at least 16 (got ", chunk_bytes, ")");
        const std::string_view in(static_cast<const char*>(data.data()), data.size());
        std::string out;
        {
            nb::gil_scoped_release release;
            lmx::CompressOptions o;
            o.chunk_bytes = chunk_bytes;
            o.workers = workers;
            o.threads_per_worker = threads;
            out = compressor().compress(in, o);
        }
        return nb::bytes(out.data(), out.size());
    }

    nb::bytes decompress(nb::bytes blob, int workers, int threads) {
        const std::string_view in(static_cast<const char*>(blob.data()), blob.size());
        std::string out;
        {
            nb::gil_scoped_release release;
            lmx::CompressOptions o;
            o.workers = workers;
            o.threads_per_worker = threads;
            out = compressor().decompress(in, o);
        }
        return nb::bytes(out.data(), out.size());
    }

    nb::dict self_check(int n_threads) const {
        lmx::SelfCheck sc;
        {
            nb::gil_scoped_release release;
            sc = lmx::self_check(model_, n_threads);
        }
        nb::dict d;
        d["isa"] = sc.isa;
        d["cpu_features"] = lmx::cpu_features_string();
        d["threads"] = sc.n_threads;
        d["forward_ms"] = sc.forward_ms;
        d["kv_cache_bytes"] = sc.kv_bytes;
        d["arena_bytes"] = sc.arena_bytes;
        return d;
    }

    nb::dict info() const {
        const lmx::models::DecoderConfig& c = model_->config();
        const lmx::Tokenizer& tok = model_->tokenizer();
        nb::dict d;
        d["path"] = model_->path();
        d["arch"] = c.arch;
        d["n_vocab"] = c.n_vocab;
        d["n_ctx_train"] = c.n_ctx_train;
        d["n_layers"] = c.n_layers;
        d["n_embd"] = c.n_embd;
        d["n_ff"] = c.n_ff;
        d["n_heads"] = c.n_heads;
        d["n_kv_heads"] = c.n_kv_heads;
        d["head_dim"] = c.head_dim;
        d["bos_id"] = tok.bos_id();
        d["eos_id"] = tok.eos_id();
        d["has_chat_template"] = !model_->file().get_string("tokenizer.chat_template", "").empty();
        d["file_bytes"] = model_->file().file_size();
        d["load_ms"] = model_->load_ms();
        d["n_ctx"] = n_ctx_;
        return d;
    }

private:
    void acquire() {
        bool expected = false;
        if (!busy_.compare_exchange_strong(expected, true))
            lmx::fail("the model is busy with another generate() or chat() stream: finish or close() it first, "
                      "or use one Model per thread");
    }
    lmx::Session& session() {  // on the worker, while busy_
        if (!session_) session_ = std::make_unique<lmx::Session>(model_, lmx::SessionOptions{n_threads_, n_ctx_, 1});
        return *session_;
    }
    const lmx::Compressor& compressor() {  // hashes the model file once
        std::call_once(compressor_once_, [this] { compressor_ = std::make_unique<lmx::Compressor>(model_); });
        return *compressor_;
    }

    std::shared_ptr<const lmx::Model> model_;
    int n_threads_;
    int64_t n_ctx_;
    std::atomic<bool> busy_{false};
    std::unique_ptr<lmx::Session> session_;
    std::unique_ptr<lmx::ChatSession> chat_;
    std::once_flag compressor_once_;
    std::unique_ptr<lmx::Compressor> compressor_;
};

// A BERT-family embedding model folder; one Embedder per (pooling, normalize) asked for.
class Encoder {
public:
    Encoder(const std::string& dir, int n_threads) : dir_(lmx::embedding_model_path(dir)), n_threads_(n_threads) {
        if (n_threads < 0) lmx::fail("n_threads must be >= 0 (0: all cores)");
        nb::gil_scoped_release release;
        default_ = &embedder(std::nullopt, std::nullopt);
    }

    std::vector<int32_t> tokenize(const std::string& text, bool add_special, bool parse_special) {
        nb::gil_scoped_release release;
        std::lock_guard<std::mutex> lock(mu_);
        return default_->tokenizer().encode(text, add_special, parse_special);
    }

    std::string detokenize(const std::vector<int32_t>& ids) {
        nb::gil_scoped_release release;
        std::lock_guard<std::mutex> lock(mu_);
        return default_->tokenizer().decode(ids);
    }

    nb::ndarray<nb::numpy, float> embed(const std::vector<std::string>& texts, std::optional<bool> normalize,
                                        std::optional<std::string> pooling) {
        std::vector<float> flat;
        size_t dims = 0;
        {
            nb::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mu_);
            lmx::Embedder& e = embedder(normalize, pooling);
            dims = static_cast<size_t>(e.dims());
            const std::vector<std::vector<float>> v = e.embed(texts);
            flat.reserve(v.size() * dims);
            for (const std::vector<float>& row : v) flat.insert(flat.end(), row.begin(), row.end());
        }
        return to_numpy(std::move(flat), {texts.size(), dims});
    }

    nb::dict info() {
        std::lock_guard<std::mutex> lock(mu_);
        const lmx::Embedder& e = *default_;
        nb::dict d;
        d["path"] = dir_;
        d["dims"] = e.dims();
        d["max_length"] = e.max_length();
        d["n_vocab"] = e.tokenizer().n_vocab();
        d["pooling"] = std::string(lmx::ops::pooling_name(e.pooling()));
        d["normalize"] = e.normalize();
        d["model_id"] = e.model_id();
        d["threads"] = e.n_threads();
        d["isa"] = std::string(lmx::kernels::isa_name(lmx::kernels::best_table().isa));  // what Embedder runs on
        return d;
    }

private:
    lmx::Embedder& embedder(std::optional<bool> normalize, const std::optional<std::string>& pooling) {
        const std::string key = (pooling ? *pooling : "") + ":" + (normalize ? (*normalize ? "1" : "0") : "");
        auto it = embedders_.find(key);
        if (it == embedders_.end()) {
            lmx::EmbedderOptions o;
            if (pooling) o.pooling = lmx::parse_pooling(*pooling);
            o.normalize = normalize;
            o.n_threads = n_threads_;
            it = embedders_.emplace(key, std::make_unique<lmx::Embedder>(dir_, o)).first;
        }
        return *it->second;
    }

    std::string dir_;
    int n_threads_;
    std::mutex mu_;
    std::map<std::string, std::unique_ptr<lmx::Embedder>> embedders_;  // "pooling:normalize"; ":" = the model's
    lmx::Embedder* default_ = nullptr;                                  // the model's own settings
};

}  // namespace

NB_MODULE(_lmx, m) {
    m.doc() = "lmx C++ runtime (use the lmx package, which wraps this module)";
    nb::exception<lmx::Error>(m, "LmxError", PyExc_RuntimeError);

    m.def("default_model_path", &lmx::default_model_path, "$LMX_HOME (default ~/.cache/lmx/models) + the default model's file name");
    m.def("model_home", &lmx::model_home, "$LMX_HOME, default ~/.cache/lmx/models");
    m.def("embedding_model_path", &lmx::embedding_model_path, "model"_a, "$LMX_HOME/NAME when that folder or file exists, else NAME as a path");
    m.def("is_embedding_model", &lmx::is_embedding_model, "path"_a, "an HF model folder, a GGUF file of architecture bert, or an ONNX encoder export");
    m.def("cpu_features", &lmx::cpu_features_string);
    m.def("default_thread_count", &lmx::hardware_threads);

    nb::class_<SamplingArgs>(m, "SamplingArgs")
        .def(nb::init<int, float, int, float, float, float, int, uint64_t>(), "max_tokens"_a, "temperature"_a, "top_k"_a,
             "top_p"_a, "min_p"_a, "repeat_penalty"_a, "repeat_last_n"_a, "seed"_a);

    nb::class_<TextStream>(m, "TextStream")
        .def("next", &TextStream::next, "the next piece of text, None at the end")
        .def("close", &TextStream::close, "stop generating (at the next token) and wait")
        .def_prop_ro("done", &TextStream::done)
        .def_prop_ro("text", [](TextStream& s) { return s.result().text; })
        .def_prop_ro("finish_reason", [](TextStream& s) { return s.result().finish_reason; })
        .def_prop_ro("prompt_tokens", [](TextStream& s) { return s.result().prompt_tokens; })
        .def_prop_ro("tokens", [](TextStream& s) { return s.result().tokens; })
        .def_prop_ro("prompt_ms", [](TextStream& s) { return s.result().prompt_ms; })
        .def_prop_ro("generate_ms", [](TextStream& s) { return s.result().generate_ms; })
        .def_prop_ro("reused_tokens", &TextStream::reused_tokens);

    nb::class_<Decoder>(m, "Decoder")
        .def(nb::init<const std::string&, int, int64_t>(), "path"_a, "n_threads"_a = 0, "n_ctx"_a = 2048)
        .def("tokenize", &Decoder::tokenize, "text"_a, "add_special"_a = true, "parse_special"_a = false)
        .def("detokenize", &Decoder::detokenize, "ids"_a)
        .def("generate", &Decoder::generate, "prompt"_a, "sampling"_a, "stop"_a, "add_special"_a = true,
             "parse_special"_a = true, nb::keep_alive<0, 1>())
        .def("chat", &Decoder::chat, "messages"_a, "sampling"_a, nb::keep_alive<0, 1>())
        .def("logprobs", &Decoder::logprobs, "text"_a, "top"_a = 0, "deterministic"_a = false, "add_special"_a = true)
        .def("compress", &Decoder::compress, "data"_a, "chunk_bytes"_a = 4096, "workers"_a = 0, "threads"_a = 0)
        .def("decompress", &Decoder::decompress, "blob"_a, "workers"_a = 0, "threads"_a = 0)
        .def("self_check", &Decoder::self_check, "n_threads"_a = 0)
        .def("info", &Decoder::info);

    nb::class_<Encoder>(m, "Encoder")
        .def(nb::init<const std::string&, int>(), "path"_a, "n_threads"_a = 0)
        .def("tokenize", &Encoder::tokenize, "text"_a, "add_special"_a = true, "parse_special"_a = false)
        .def("detokenize", &Encoder::detokenize, "ids"_a)
        .def("embed", &Encoder::embed, "texts"_a, "normalize"_a = nb::none(), "pooling"_a = nb::none())
        .def("info", &Encoder::info);
}
