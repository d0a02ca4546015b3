#include "base/thread_pool.hpp"

#include <algorithm>
#include <climits>

#include "base/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() {}
#endif

namespace lmx {

// Waiting goes in three steps: poll briefly (covers the gap between two ops of one
// forward pass when every thread has a core), then yield the core a few times (when
// the machine is oversubscribed, the thread we wait for may need exactly this core),
// then sleep on the atomic.
static constexpr int kSpinIterations = 2000;
static constexpr int kYieldIterations = 64;

// Waits until value != old (via the atomic's own wait once polling gave up).
template <class T, class Pred>
static void wait_until(std::atomic<T>& value, Pred done) {
    for (int i = 0; i < kSpinIterations; i++) {
        if (done(value.load(std::memory_order_acquire))) return;
        cpu_relax();
    }
    for (int i = 0; i < kYieldIterations; i++) {
        if (done(value.load(std::memory_order_acquire))) return;
        std::this_thread::yield();
    }
    for (T v; !done(v = value.load(std::memory_order_acquire));) value.wait(v);
}

int max_threads() {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    return 1;
#else
    return INT_MAX;
#endif
}

int hardware_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return std::min(n == 0 ? 1 : static_cast<int>(n), max_threads());
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::clamp(n_threads, 1, max_threads())) {
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
    wait_until(pending_, [](int p) { return p == 0; });
    job_ = nullptr;
    if (has_error_) std::rethrow_exception(error_);
}

void ThreadPool::worker(int ith) {
    uint32_t seen = 0;
    for (;;) {
        wait_until(generation_, [seen](uint32_t g) { return g != seen; });
        seen = generation_.load(std::memory_order_acquire);
        if (stop_) return;
        run_job(ith);
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
}

}  // namespace lmx
