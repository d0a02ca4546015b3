#pragma once
// A fixed pool of worker threads that run one job at a time on all threads
// (the caller is thread 0). Workers spin briefly after a job, then sleep on an
// atomic wait, so an idle pool burns no CPU.
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace lmx {

class ThreadPool {
public:
    explicit ThreadPool(int n_threads);  // total threads, including the caller; capped by max_threads()
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }

    // Runs job(ith, nth) on every thread and returns when all have finished.
    // Exceptions thrown by a job are rethrown here (the first one wins).
    void run(const std::function<void(int ith, int nth)>& job);

private:
    void worker(int ith);
    void run_job(int ith);

    int n_threads_;
    std::vector<std::thread> workers_;
    const std::function<void(int, int)>* job_ = nullptr;
    std::atomic<uint32_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
    std::exception_ptr error_;
    std::atomic<bool> has_error_{false};
};

// The most threads this build can run: unlimited (INT32_MAX) natively, 1 in a
// single-threaded WebAssembly build (no pthreads), where the pool never spawns.
int max_threads();
// Threads to use when the caller says "all": the hardware's, capped by max_threads().
int hardware_threads();

// Splits [0, n) into nth nearly equal contiguous ranges; returns thread ith's.
struct Range { int64_t begin, end; };
inline Range split_range(int64_t n, int ith, int nth) {
    const int64_t per = n / nth, rem = n % nth;
    const int64_t b = ith * per + (ith < rem ? ith : rem);
    return {b, b + per + (ith < rem ? 1 : 0)};
}

}  // namespace lmx
