/* lmx C ABI: the small, stable surface the Python and JavaScript bindings use.
 * Opaque handles, create/free pairs, sized integers. No exception crosses it: every
 * call returns an lmx_status and, on failure, lmx_last_error() says what went wrong. */
#ifndef LMX_H
#define LMX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LMX_OK = 0,
    LMX_ERR_INVALID_ARGUMENT = 1, /* a null handle or pointer, a bad size or parameter */
    LMX_ERR_FAILED = 2,           /* the operation failed: see lmx_last_error() */
    LMX_ERR_BUFFER_TOO_SMALL = 3  /* the output did not fit; the needed size was stored */
} lmx_status;

typedef struct lmx_model lmx_model;
typedef struct lmx_session lmx_session;

/* The message of the last failed call on this thread ("" when none). */
const char* lmx_last_error(void);

/* Path of the default model ($LMX_HOME/SmolLM2-135M-Instruct.Q4_1.gguf). Static storage per thread. */
const char* lmx_default_model_path(void);

lmx_status lmx_model_load(const char* path, lmx_model** out);
void lmx_model_free(lmx_model* model);
int32_t lmx_model_n_vocab(const lmx_model* model);

/* Tokenizes text (len bytes). Writes at most cap ids; *n_ids receives the count
 * (also when LMX_ERR_BUFFER_TOO_SMALL is returned, so the caller can retry). */
lmx_status lmx_tokenize(const lmx_model* model, const char* text, size_t len, int add_special, int parse_special,
                        int32_t* ids, size_t cap, size_t* n_ids);

/* Decodes ids to UTF-8 text into buf (cap bytes, not NUL-terminated); *len receives the byte count. */
lmx_status lmx_detokenize(const lmx_model* model, const int32_t* ids, size_t n_ids, char* buf, size_t cap, size_t* len);

/* n_threads 0: all cores. n_ctx: positions per sequence. */
lmx_status lmx_session_create(const lmx_model* model, int32_t n_threads, int64_t n_ctx, lmx_session** out);
void lmx_session_free(lmx_session* session);

typedef struct {
    int32_t max_tokens;
    float temperature; /* 0: greedy */
    int32_t top_k;
    float top_p;
    float min_p;
    float repeat_penalty;
    uint64_t seed;
} lmx_generate_params;

lmx_generate_params lmx_generate_default_params(void);

/* Receives generated text as it becomes final (complete UTF-8). Return 0 to stop. */
typedef int (*lmx_text_callback)(const char* text, size_t len, void* user);

lmx_status lmx_generate(lmx_session* session, const char* prompt, size_t prompt_len, const lmx_generate_params* params,
                        lmx_text_callback callback, void* user);

/* ---- Memory, models in memory, deterministic logits, compression (the WebAssembly
 * binding's needs; usable from any language). Sizes are 32-bit where a WASM caller
 * passes them, so no 64-bit integer crosses the JS boundary. ---- */

/* "0.1.0": the library version. */
const char* lmx_version(void);

/* malloc/free as the library sees them: buffers handed to lmx_model_load_memory and
 * returned by lmx_compress/lmx_decompress. lmx_alloc returns NULL when out of memory. */
void* lmx_alloc(size_t size);
void lmx_free(void* ptr);

/* Loads a GGUF model from size bytes in memory, taking ownership of data (from
 * lmx_alloc; freed with the model, or at once when loading fails). name stands in for
 * the path in messages and lmx_model_info (NULL: "<memory>"). */
lmx_status lmx_model_load_memory(void* data, size_t size, const char* name, lmx_model** out);

typedef struct {
    int32_t n_vocab;
    int32_t n_ctx_train; /* 0 when the file does not say */
    int32_t n_layers;
    int32_t n_embd;
    int32_t n_heads;
    int32_t n_kv_heads;
} lmx_model_info_t;

lmx_status lmx_model_info(const lmx_model* model, lmx_model_info_t* out);

/* Lowercase hex SHA-256 of the whole model file into hex (65 bytes, NUL-terminated). */
lmx_status lmx_model_sha256(const lmx_model* model, char* hex);

/* Session flags for lmx_session_create_ex. */
#define LMX_SESSION_DETERMINISTIC 1u /* logits bit-identical on every ISA, thread count and platform */

/* Like lmx_session_create, with flags (LMX_SESSION_*). A WASM build runs one thread. */
lmx_status lmx_session_create_ex(const lmx_model* model, int32_t n_threads, int32_t n_ctx, uint32_t flags,
                                 lmx_session** out);

/* The kernel table the session runs ("scalar", "avx2", "avx512", "wasm_simd128"). Static storage. */
const char* lmx_session_isa(const lmx_session* session);

/* Runs ids at positions n_past .. n_past+n_ids-1 of the session's sequence (the KV cache
 * keeps what came before n_past) and writes the logits of every position, n_ids x n_vocab
 * floats, into out (cap floats); *n_out receives n_ids * n_vocab. */
lmx_status lmx_logits(lmx_session* session, const int32_t* ids, size_t n_ids, int32_t n_past, float* out, size_t cap,
                      size_t* n_out);

/* Natural-log probabilities of ids[i+1] given ids[0..i], from position 0: n_ids - 1
 * values into out (cap doubles); *n_out receives n_ids - 1. */
lmx_status lmx_logprobs(lmx_session* session, const int32_t* ids, size_t n_ids, double* out, size_t cap, size_t* n_out);

/* Generation one step at a time (for callers that cannot take a callback, e.g. an async
 * iterator): start tokenizes and evaluates the prompt; each next samples one token and
 * writes the text that became final (possibly none) into buf; *done turns 1 at the end
 * (end-of-generation token, max_tokens or a full context). The session must outlive it. */
typedef struct lmx_generator lmx_generator;
lmx_status lmx_generate_start(lmx_session* session, const char* prompt, size_t prompt_len,
                              const lmx_generate_params* params, lmx_generator** out);
lmx_status lmx_generate_next(lmx_generator* gen, char* buf, size_t cap, size_t* len, int32_t* done);
void lmx_generator_free(lmx_generator* gen);

/* Lossless compression with the model (docs/compression-format.md). chunk_bytes 0: the
 * default (4096, as `lmx compress`). The result is a new buffer (*out, *out_len) to free
 * with lmx_free. The first call per model hashes the model file. Containers are the same
 * bytes on every platform. */
lmx_status lmx_compress(const lmx_model* model, const void* data, size_t len, uint32_t chunk_bytes, uint8_t** out,
                        size_t* out_len);
lmx_status lmx_decompress(const lmx_model* model, const void* data, size_t len, uint8_t** out, size_t* out_len);

#ifdef __cplusplus
}
#endif

#endif /* LMX_H */
