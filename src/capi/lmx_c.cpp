// The C ABI over the runtime: translates exceptions into status codes and a
// per-thread error message.
#include "lmx/lmx.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "base/error.hpp"
#include "base/mapped_file.hpp"
#include "base/sha256.hpp"
#include "runtime/compressor.hpp"
#include "runtime/generator.hpp"
#include "runtime/logprobs.hpp"

struct lmx_model {
    std::shared_ptr<const lmx::Model> model;
    std::mutex compressor_mu;                         // created on first use: it hashes the file
    std::unique_ptr<const lmx::Compressor> compressor;
};
struct lmx_session {
    lmx::Session session;
};

namespace {

thread_local std::string g_last_error;

template <class F>
lmx_status guarded(F&& f) {
    try {
        g_last_error.clear();
        return f();
    } catch (const std::exception& e) {
        g_last_error = e.what();
    } catch (...) {
        g_last_error = "unknown error";
    }
    return LMX_ERR_FAILED;
}

lmx_status invalid(const char* what) {
    g_last_error = what;
    return LMX_ERR_INVALID_ARGUMENT;
}

}  // namespace

extern "C" {

const char* lmx_last_error(void) { return g_last_error.c_str(); }

const char* lmx_default_model_path(void) {
    thread_local std::string path;
    path = lmx::default_model_path();
    return path.c_str();
}

lmx_status lmx_model_load(const char* path, lmx_model** out) {
    if (!path || !out) return invalid("lmx_model_load: path and out must not be null");
    return guarded([&] {
        *out = new lmx_model{lmx::Model::load(path)};
        return LMX_OK;
    });
}

void lmx_model_free(lmx_model* model) { delete model; }

int32_t lmx_model_n_vocab(const lmx_model* model) { return model ? model->model->config().n_vocab : 0; }

lmx_status lmx_tokenize(const lmx_model* model, const char* text, size_t len, int add_special, int parse_special,
                        int32_t* ids, size_t cap, size_t* n_ids) {
    if (!model || (!text && len) || !n_ids || (!ids && cap)) return invalid("lmx_tokenize: null argument");
    return guarded([&] {
        std::vector<int32_t> v = model->model->tokenizer().encode(std::string_view(text ? text : "", len), add_special != 0, parse_special != 0);
        *n_ids = v.size();
        if (v.size() > cap) return LMX_ERR_BUFFER_TOO_SMALL;
        if (!v.empty()) std::memcpy(ids, v.data(), v.size() * sizeof(int32_t));
        return LMX_OK;
    });
}

lmx_status lmx_detokenize(const lmx_model* model, const int32_t* ids, size_t n_ids, char* buf, size_t cap, size_t* len) {
    if (!model || (!ids && n_ids) || !len || (!buf && cap)) return invalid("lmx_detokenize: null argument");
    return guarded([&] {
        const int32_t n_vocab = model->model->config().n_vocab;
        for (size_t i = 0; i < n_ids; i++)
            if (ids[i] < 0 || ids[i] >= n_vocab) lmx::fail("token id ", ids[i], " is outside the vocabulary (", n_vocab, " tokens)");
        std::string s = model->model->tokenizer().decode(std::vector<int32_t>(ids, ids + n_ids));
        *len = s.size();
        if (s.size() > cap) return LMX_ERR_BUFFER_TOO_SMALL;
        if (!s.empty()) std::memcpy(buf, s.data(), s.size());
        return LMX_OK;
    });
}

lmx_status lmx_session_create(const lmx_model* model, int32_t n_threads, int64_t n_ctx, lmx_session** out) {
    if (!model || !out) return invalid("lmx_session_create: model and out must not be null");
    if (n_threads < 0 || n_ctx <= 0) return invalid("lmx_session_create: need n_threads >= 0 and n_ctx > 0");
    return guarded([&] {
        *out = new lmx_session{lmx::Session(model->model, {n_threads, n_ctx, 1})};
        return LMX_OK;
    });
}

void lmx_session_free(lmx_session* session) { delete session; }

lmx_generate_params lmx_generate_default_params(void) {
    lmx::SamplingParams s;
    return {128, s.temperature, s.top_k, s.top_p, s.min_p, s.repeat_penalty, s.seed};
}

lmx_status lmx_generate(lmx_session* session, const char* prompt, size_t prompt_len, const lmx_generate_params* params,
                        lmx_text_callback callback, void* user) {
    if (!session || (!prompt && prompt_len) || !params) return invalid("lmx_generate: null argument");
    return guarded([&] {
        lmx::GenerateOptions o;
        o.max_tokens = params->max_tokens;
        o.sampling.temperature = params->temperature;
        o.sampling.top_k = params->top_k;
        o.sampling.top_p = params->top_p;
        o.sampling.min_p = params->min_p;
        o.sampling.repeat_penalty = params->repeat_penalty;
        o.sampling.seed = params->seed;
        lmx::TextCallback cb;
        if (callback) cb = [&](std::string_view s) { return callback(s.data(), s.size(), user) != 0; };
        lmx::generate(session->session, std::string_view(prompt ? prompt : "", prompt_len), o, cb);
        return LMX_OK;
    });
}

const char* lmx_version(void) { return "0.1.0"; }

void* lmx_alloc(size_t size) { return std::malloc(size ? size : 1); }
void lmx_free(void* ptr) { std::free(ptr); }

lmx_status lmx_model_load_memory(void* data, size_t size, const char* name, lmx_model** out) {
    if (!data || !out) {
        std::free(data);
        return invalid("lmx_model_load_memory: data and out must not be null");
    }
    return guarded([&] {
        // The MappedFile owns data from here on, also if parsing throws.
        auto file = std::make_unique<lmx::MappedFile>(name ? name : "<memory>", static_cast<uint8_t*>(data), size);
        *out = new lmx_model{lmx::Model::load(std::move(file))};
        return LMX_OK;
    });
}

lmx_status lmx_model_info(const lmx_model* model, lmx_model_info_t* out) {
    if (!model || !out) return invalid("lmx_model_info: null argument");
    const lmx::models::DecoderConfig& c = model->model->config();
    *out = {c.n_vocab, c.n_ctx_train, c.n_layers, c.n_embd, c.n_heads, c.n_kv_heads};
    return LMX_OK;
}

lmx_status lmx_model_sha256(const lmx_model* model, char* hex) {
    if (!model || !hex) return invalid("lmx_model_sha256: null argument");
    return guarded([&] {
        const lmx::gguf::File& f = model->model->file();
        const std::string h = lmx::sha256_hex(f.file_bytes(), f.file_size());
        std::memcpy(hex, h.c_str(), h.size() + 1);
        return LMX_OK;
    });
}

lmx_status lmx_session_create_ex(const lmx_model* model, int32_t n_threads, int32_t n_ctx, uint32_t flags,
                                 lmx_session** out) {
    if (!model || !out) return invalid("lmx_session_create_ex: model and out must not be null");
    if (n_threads < 0 || n_ctx <= 0) return invalid("lmx_session_create_ex: need n_threads >= 0 and n_ctx > 0");
    return guarded([&] {
        lmx::SessionOptions o;
        o.n_threads = n_threads;
        o.n_ctx = n_ctx;
        o.deterministic = (flags & LMX_SESSION_DETERMINISTIC) != 0;
        *out = new lmx_session{lmx::Session(model->model, o)};
        return LMX_OK;
    });
}

const char* lmx_session_isa(const lmx_session* session) {
    return session ? session->session.isa().data() : "";
}

lmx_status lmx_logits(lmx_session* session, const int32_t* ids, size_t n_ids, int32_t n_past, float* out, size_t cap,
                      size_t* n_out) {
    if (!session || (!ids && n_ids) || (!out && cap) || !n_out || n_past < 0) return invalid("lmx_logits: null argument or negative n_past");
    return guarded([&] {
        lmx::Session& s = session->session;
        const size_t n_vocab = static_cast<size_t>(s.model().config().n_vocab);
        *n_out = n_ids * n_vocab;
        if (*n_out > cap) return LMX_ERR_BUFFER_TOO_SMALL;
        if (static_cast<int64_t>(n_past) + static_cast<int64_t>(n_ids) > s.n_ctx())
            lmx::fail(n_past + n_ids, " positions do not fit the session's context of ", s.n_ctx());
        for (size_t i = 0; i < n_ids; i++)
            if (ids[i] < 0 || static_cast<size_t>(ids[i]) >= n_vocab) lmx::fail("token id ", ids[i], " is outside the vocabulary");
        constexpr size_t kBatch = 512;  // batching never changes the logits (tested bit-for-bit)
        for (size_t i = 0; i < n_ids; i += kBatch) {
            lmx::Batch b;
            for (size_t j = i; j < std::min(n_ids, i + kBatch); j++) b.add(ids[j], n_past + static_cast<int32_t>(j), 0, true);
            const std::vector<float>& l = s.decode(b);
            std::memcpy(out + i * n_vocab, l.data(), l.size() * sizeof(float));
        }
        return LMX_OK;
    });
}

lmx_status lmx_logprobs(lmx_session* session, const int32_t* ids, size_t n_ids, double* out, size_t cap, size_t* n_out) {
    if (!session || !ids || n_ids == 0 || (!out && cap) || !n_out) return invalid("lmx_logprobs: null argument or no ids");
    return guarded([&] {
        *n_out = n_ids - 1;
        if (*n_out > cap) return LMX_ERR_BUFFER_TOO_SMALL;
        const lmx::TokenLogprobs lp = lmx::token_logprobs(session->session, std::vector<int32_t>(ids, ids + n_ids));
        if (!lp.logprob.empty()) std::memcpy(out, lp.logprob.data(), lp.logprob.size() * sizeof(double));
        return LMX_OK;
    });
}

// generate() (runtime/generator.cpp) split into steps, without stop strings.
struct lmx_generator {
    lmx::Session& session;
    lmx::Sampler sampler;
    lmx::StreamDecoder stream;
    int max_tokens;
    int generated = 0;
    int64_t pos = 0;
    const float* logits = nullptr;
    bool done = false;
};

lmx_status lmx_generate_start(lmx_session* session, const char* prompt, size_t prompt_len,
                              const lmx_generate_params* params, lmx_generator** out) {
    if (!session || (!prompt && prompt_len) || !params || !out) return invalid("lmx_generate_start: null argument");
    return guarded([&] {
        lmx::Session& s = session->session;
        const lmx::Tokenizer& tok = s.model().tokenizer();
        lmx::SamplingParams sp;
        sp.temperature = params->temperature;
        sp.top_k = params->top_k;
        sp.top_p = params->top_p;
        sp.min_p = params->min_p;
        sp.repeat_penalty = params->repeat_penalty;
        sp.seed = params->seed;
        const std::vector<int32_t> ids = tok.encode(std::string_view(prompt ? prompt : "", prompt_len), true, true);
        const int64_t n = static_cast<int64_t>(ids.size());
        if (n == 0) lmx::fail("the prompt is empty and the model adds no BOS token: give a prompt");
        if (n >= s.n_ctx()) lmx::fail("the prompt has ", n, " tokens but the context holds ", s.n_ctx());
        auto g = std::make_unique<lmx_generator>(lmx_generator{s, lmx::Sampler(sp), lmx::StreamDecoder(tok), params->max_tokens});
        for (int32_t t : ids) g->sampler.accept(t);
        constexpr int64_t kBatch = 512;
        for (int64_t i = 0; i < n; i += kBatch) {
            lmx::Batch b;
            for (int64_t j = i; j < std::min(n, i + kBatch); j++) b.add(ids[static_cast<size_t>(j)], static_cast<int32_t>(j), 0, j == n - 1);
            g->logits = s.decode(b).data();
        }
        g->pos = n;
        g->done = g->max_tokens <= 0;
        *out = g.release();
        return LMX_OK;
    });
}

lmx_status lmx_generate_next(lmx_generator* g, char* buf, size_t cap, size_t* len, int32_t* done) {
    if (!g || (!buf && cap) || !len || !done) return invalid("lmx_generate_next: null argument");
    return guarded([&] {
        std::string text;
        if (!g->done) {
            const lmx::Tokenizer& tok = g->session.model().tokenizer();
            const int32_t next = g->sampler.sample(g->logits, g->session.model().config().n_vocab);
            if (tok.is_end_of_generation(next)) {
                g->done = true;
            } else {
                text = g->stream.push(next);
                g->generated++;
                if (g->generated >= g->max_tokens || g->pos >= g->session.n_ctx()) {
                    g->done = true;
                } else {
                    lmx::Batch b;
                    b.add(next, static_cast<int32_t>(g->pos++), 0, true);
                    g->logits = g->session.decode(b).data();
                }
            }
            if (g->done) text += g->stream.flush();
        }
        *len = text.size();
        *done = g->done ? 1 : 0;
        if (text.size() > cap) return LMX_ERR_BUFFER_TOO_SMALL;  // only with a buffer under 64 bytes
        if (!text.empty()) std::memcpy(buf, text.data(), text.size());
        return LMX_OK;
    });
}

void lmx_generator_free(lmx_generator* gen) { delete gen; }

}  // extern "C"

namespace {

const lmx::Compressor& compressor_of(const lmx_model* model) {
    auto* m = const_cast<lmx_model*>(model);
    std::lock_guard<std::mutex> lock(m->compressor_mu);
    if (!m->compressor) m->compressor = std::make_unique<const lmx::Compressor>(m->model);
    return *m->compressor;
}

lmx_status copy_out(const std::string& s, uint8_t** out, size_t* out_len) {
    auto* p = static_cast<uint8_t*>(std::malloc(s.size() ? s.size() : 1));
    if (!p) lmx::fail("out of memory for ", s.size(), " bytes");
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    *out = p;
    *out_len = s.size();
    return LMX_OK;
}

}  // namespace

extern "C" {

lmx_status lmx_compress(const lmx_model* model, const void* data, size_t len, uint32_t chunk_bytes, uint8_t** out,
                        size_t* out_len) {
    if (!model || (!data && len) || !out || !out_len) return invalid("lmx_compress: null argument");
    return guarded([&] {
        lmx::CompressOptions o;
        if (chunk_bytes) o.chunk_bytes = chunk_bytes;
        return copy_out(compressor_of(model).compress(std::string_view(static_cast<const char*>(data), len), o), out, out_len);
    });
}

lmx_status lmx_decompress(const lmx_model* model, const void* data, size_t len, uint8_t** out, size_t* out_len) {
    if (!model || (!data && len) || !out || !out_len) return invalid("lmx_decompress: null argument");
    return guarded([&] {
        return copy_out(compressor_of(model).decompress(std::string_view(static_cast<const char*>(data), len)), out, out_len);
    });
}

}  // extern "C"
