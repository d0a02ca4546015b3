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

#ifdef __cplusplus
}
#endif

#endif /* LMX_H */
