#include "runtime/self_check.hpp"

#include <chrono>
#include <cmath>

#include "base/error.hpp"
#include "runtime/session.hpp"

namespace lmx {

SelfCheck self_check(const std::shared_ptr<const Model>& model, int n_threads) {
    Session session(model, {n_threads, 64, 1});
    Batch batch;
    const int32_t bos = model->tokenizer().bos_id();
    batch.add(bos >= 0 ? bos : 0, 0, 0, true);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<float>& logits = session.decode(batch);
    SelfCheck r;
    r.forward_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    for (float x : logits)
        if (!std::isfinite(x)) fail(model->path(), ": the self-check forward pass produced non-finite logits (corrupt weights?)");
    r.isa = std::string(session.isa());
    r.n_threads = session.n_threads();
    r.kv_bytes = session.kv_bytes();
    r.arena_bytes = session.arena_bytes();
    return r;
}

}  // namespace lmx
