#pragma once
// A model's self-check: one timed forward pass over the BOS token (or token 0) on a small
// session, with the kernels and threads it ran on. Shared by `lmx inspect` and the
// Python package's `python -m lmx --self-check`.
#include <cstddef>
#include <memory>
#include <string>

#include "runtime/model.hpp"

namespace lmx {

struct SelfCheck {
    std::string isa;   // the kernel table the session chose
    int n_threads = 0;
    double forward_ms = 0;
    size_t kv_bytes = 0, arena_bytes = 0;
};

// Throws lmx::Error naming the model when the logits are not all finite (corrupt weights).
SelfCheck self_check(const std::shared_ptr<const Model>& model, int n_threads = 0);

}  // namespace lmx
