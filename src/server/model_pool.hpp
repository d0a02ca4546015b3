#pragma once
// The models a server offers, loaded on first use. Each loaded model is an Engine: a
// Scheduler and the thread that drives it. Before loading, the weights plus the KV
// cache must fit in the available memory; beyond max_loaded models the least
// recently used idle one is unloaded.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/scheduler.hpp"
#include "server/api.hpp"
#include "tokenizer/chat_template/chat_template.hpp"

namespace lmx::server {

class Engine {
public:
    Engine(std::string name, std::shared_ptr<const Model> model, const SchedulerOptions& opts);
    ~Engine();  // stops the driving thread; requests still running get no more callbacks

    const std::string& name() const { return name_; }
    Scheduler& scheduler() { return scheduler_; }
    const Scheduler& scheduler() const { return scheduler_; }
    const Model& model() const { return scheduler_.model(); }
    // The conversation as the model's chat template writes it, ready for generation.
    // Throws ApiError 400 when the model has no template or the template refuses the messages.
    std::string render_chat(const std::vector<ChatMessage>& messages) const;

private:
    std::string name_;
    Scheduler scheduler_;
    std::optional<ChatTemplate> template_;
    std::string bos_, eos_;
    std::atomic<bool> stop_{false};
    std::thread driver_;
};

struct PoolOptions {
    SchedulerOptions scheduler;
    int max_loaded = 1;
    size_t memory_limit = 0;  // bytes a model may use; 0: what /proc/meminfo calls available
};

struct ModelEntry {
    std::string name, path;
    std::string state;  // "unloaded", "loading", "ready", "failed"
    std::string error;  // why it failed
};

class ModelPool {
public:
    // paths: GGUF files, or folders whose *.gguf files are all offered. A model's name is
    // its file name without ".gguf". Throws lmx::Error when a path holds no model.
    ModelPool(const std::vector<std::string>& paths, const PoolOptions& opts);
    ~ModelPool();

    // The engine for `name` ("" = the first model), loaded if needed. Throws ApiError:
    // 404 for a name not offered, 503 when it cannot be loaded (memory, a bad file) or
    // every loaded model is busy and none may be unloaded.
    std::shared_ptr<Engine> get(const std::string& name);
    std::vector<ModelEntry> entries() const;
    std::vector<std::shared_ptr<Engine>> loaded() const;
    void cancel_all();  // shutdown: ends every queued and running request

private:
    struct Slot {
        ModelEntry entry;
        std::shared_ptr<Engine> engine;
        uint64_t last_used = 0;
    };
    void make_room();  // under mu_

    PoolOptions opts_;
    mutable std::mutex mu_;
    std::condition_variable loaded_cv_;
    std::vector<Slot> models_;
    uint64_t clock_ = 0;
};

}  // namespace lmx::server
