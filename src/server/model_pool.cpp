#include "server/model_pool.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/error.hpp"

namespace lmx::server {

namespace fs = std::filesystem;

Engine::Engine(std::string name, std::shared_ptr<const Model> model, const SchedulerOptions& opts)
    : name_(std::move(name)), scheduler_(std::move(model), opts) {
    const Tokenizer& tok = scheduler_.model().tokenizer();
    if (const std::string src = scheduler_.model().chat_template(); !src.empty()) template_.emplace(src);
    if (tok.bos_id() >= 0) bos_ = tok.token_text(tok.bos_id());
    if (tok.eos_id() >= 0) eos_ = tok.token_text(tok.eos_id());
    driver_ = std::thread([this] {
        while (!stop_.load()) {
            if (!scheduler_.step()) scheduler_.wait_for_work(std::chrono::milliseconds(50));
        }
    });
}

Engine::~Engine() {
    stop_.store(true);
    driver_.join();
}

std::string Engine::render_chat(const std::vector<ChatMessage>& messages) const {
    if (!template_)
        throw ApiError(400, "model '" + name_ + "' has no chat template: use /v1/completions with your own prompt format");
    nlohmann::ordered_json msgs = nlohmann::ordered_json::array();
    for (const ChatMessage& m : messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
    // The variables transformers passes to a chat template (as ChatSession::render does).
    const nlohmann::ordered_json ctx = {{"messages", msgs},      {"tools", nullptr},   {"documents", nullptr},
                                        {"add_generation_prompt", true}, {"bos_token", bos_}, {"eos_token", eos_}};
    try {
        return template_->render(ctx);
    } catch (const Error& e) {
        throw ApiError(400, std::string("the chat template refused the messages: ") + e.what());
    }
}

namespace {

size_t available_memory() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    size_t kib = 0;
    while (in >> key >> kib) {
        if (key == "MemAvailable:") return kib * 1024;
        in.ignore(256, '\n');
    }
    return SIZE_MAX;  // not Linux: no check
}

std::string mib(size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

ModelPool::ModelPool(const std::vector<std::string>& paths, const PoolOptions& opts) : opts_(opts) {
    if (opts.max_loaded < 1) fail("--max-loaded must be at least 1");
    std::vector<std::string> files;
    for (const std::string& p : paths) {
        std::error_code ec;
        const bool onnx_folder = fs::exists(fs::path(p) / "onnx" / "model.onnx", ec) || fs::exists(fs::path(p) / "model.onnx", ec);
        if (fs::is_directory(p, ec) && onnx_folder) {
            files.push_back(p);  // one ONNX model, named by its folder
        } else if (fs::is_directory(p, ec)) {
            std::vector<std::string> found;
            for (const auto& e : fs::directory_iterator(p, ec))
                if (e.path().extension() == ".gguf") found.push_back(e.path().string());
            if (found.empty()) fail("model folder ", p, " holds no .gguf file (nor onnx/model.onnx)");
            std::sort(found.begin(), found.end());
            files.insert(files.end(), found.begin(), found.end());
        } else {
            if (!fs::is_regular_file(p, ec)) fail("model file not found: ", p);
            files.push_back(p);
        }
    }
    for (const std::string& f : files) {
        const fs::path path = fs::path(f).filename().empty() ? fs::path(f).parent_path() : fs::path(f);  // "dir/" names dir
        const std::string name = path.stem().string();
        if (std::any_of(models_.begin(), models_.end(), [&](const Slot& s) { return s.entry.name == name; }))
            fail("two models are named '", name, "' (", f, "): rename one file");
        Slot s;
        s.entry = {name, f, "unloaded", {}};
        models_.push_back(std::move(s));
    }
    if (models_.empty()) fail("no model to serve: give --model FILE or FOLDER");
}

ModelPool::~ModelPool() = default;

std::vector<ModelEntry> ModelPool::entries() const {
    std::lock_guard lock(mu_);
    std::vector<ModelEntry> out;
    for (const Slot& s : models_) out.push_back(s.entry);
    return out;
}

std::vector<std::shared_ptr<Engine>> ModelPool::loaded() const {
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<Engine>> out;
    for (const Slot& s : models_)
        if (s.engine) out.push_back(s.engine);
    return out;
}

void ModelPool::cancel_all() {
    for (auto& e : loaded()) e->scheduler().cancel_all();
}

void ModelPool::make_room() {
    for (;;) {
        int n_loaded = 0;
        Slot* victim = nullptr;
        for (Slot& s : models_) {
            if (!s.engine) continue;
            n_loaded++;
            const SchedulerStats st = s.engine->scheduler().stats();
            const bool idle = s.engine.use_count() == 1 && st.active == 0 && st.queued == 0;
            if (idle && (!victim || s.last_used < victim->last_used)) victim = &s;
        }
        if (n_loaded < opts_.max_loaded) return;
        if (!victim)
            throw ApiError(503, "all " + std::to_string(n_loaded) + " loaded models are busy and --max-loaded allows no more: retry later",
                           "server_error", "model_busy");
        victim->engine.reset();
        victim->entry.state = "unloaded";
    }
}

std::shared_ptr<Engine> ModelPool::get(const std::string& name) {
    std::unique_lock lock(mu_);
    auto it = name.empty() ? models_.begin()
                           : std::find_if(models_.begin(), models_.end(), [&](const Slot& s) { return s.entry.name == name; });
    if (it == models_.end()) throw ApiError(404, "the model '" + name + "' does not exist: GET /v1/models lists them", "invalid_request_error", "model_not_found", "model");
    Slot& slot = *it;
    loaded_cv_.wait(lock, [&] { return slot.entry.state != "loading"; });
    slot.last_used = ++clock_;
    if (slot.engine) return slot.engine;

    make_room();
    slot.entry.state = "loading";
    const std::string path = slot.entry.path, model_name = slot.entry.name;
    lock.unlock();
    std::shared_ptr<Engine> engine;
    std::string error;
    try {
        auto model = Model::load(path);
        // The weights are mapped, not yet read: check they fit with the KV cache before touching them.
        const models::DecoderConfig& c = model->config();
        const SchedulerOptions& so = opts_.scheduler;
        const size_t kv = static_cast<size_t>(c.n_layers) * 2 * static_cast<size_t>(so.n_slots) * static_cast<size_t>(so.n_ctx) *
                          static_cast<size_t>(c.n_kv_heads) * static_cast<size_t>(c.head_dim) * 2;
        const size_t need = model->weights_bytes() + kv;
        const size_t have = opts_.memory_limit ? opts_.memory_limit : available_memory();
        if (need > have)
            error = "model '" + model_name + "' needs about " + mib(need) + " (weights " + mib(model->weights_bytes()) + ", KV cache " +
                    mib(kv) + ") but only " + mib(have) + " are available: lower --parallel or --ctx-size, or unload models with --max-loaded";
        else
            engine = std::make_shared<Engine>(model_name, std::move(model), so);
    } catch (const Error& e) {
        error = "model '" + model_name + "' failed to load: " + e.what();
    }
    lock.lock();
    slot.entry.state = engine ? "ready" : "failed";
    slot.entry.error = error;
    slot.engine = engine;
    loaded_cv_.notify_all();
    if (!engine) throw ApiError(503, error, "server_error", "model_unavailable", "model");
    return engine;
}

}  // namespace lmx::server
