#include "base/thread_pool.hpp"

#include "base/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() {}
#endif

namespace lmx {

// How long a thread polls before it sleeps: long enough to cover the gap between
// two ops of one forward pass, short enough not to matter when idle.
static constexpr int kSpinIterations = 20000;

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    for (int i = 1; i < n_threads_; i++) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    stop_ = true;
    generation_.fetch_add(1);
    generation_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::run_job(int ith) {
    try {
        (*job_)(ith, n_threads_);
    } catch (...) {
        if (!has_error_.exchange(true)) error_ = std::current_exception();
    }
}

void ThreadPool::run(const std::function<void(int, int)>& job) {
    if (n_threads_ == 1) { job(0, 1); return; }
    job_ = &job;
    has_error_ = false;
    error_ = nullptr;
    pending_.store(n_threads_ - 1);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    run_job(0);
    for (int spins = 0; pending_.load(std::memory_order_acquire) != 0;) {
        if (++spins < kSpinIterations) { cpu_relax(); continue; }
        int p = pending_.load();
        if (p != 0) pending_.wait(p);
    }
    job_ = nullptr;
    if (has_error_) std::rethrow_exception(error_);
}

void ThreadPool::worker(int ith) {
    uint32_t seen = 0;
    for (;;) {
        int spins = 0;
        uint32_t g;
        while ((g = generation_.load(std::memory_order_acquire)) == seen) {
            if (++spins < kSpinIterations) { cpu_relax(); continue; }
            generation_.wait(seen);
        }
        seen = g;
        if (stop_) return;
        run_job(ith);
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
}

}  // namespace lmx
