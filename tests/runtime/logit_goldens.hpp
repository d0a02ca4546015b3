#pragma once
// llama.cpp's logits and greedy continuations for a model (tests/goldens/<name>/, written
// by tools/gen_logit_goldens.py --model <name>), read by the decoder golden tests.
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "runtime/model.hpp"

namespace lmx::test {

struct Golden {
    std::string text;
    std::vector<int32_t> tokens, greedy;
    std::vector<float> margins;      // llama.cpp's top-1 minus top-2 logit at each greedy step
    std::vector<int32_t> logit_ids;  // which token ids last_logits holds (all when the list is absent)
    std::vector<float> last_logits;
};

struct ModelGoldens {
    std::string model_path;
    bool is_default = false;
    std::vector<Golden> prompts;
};

inline ModelGoldens load_goldens(const std::string& name) {
    const std::string dir = std::string(LMX_SOURCE_DIR) + "/tests/goldens/" + name + "/";
    std::ifstream f(dir + "goldens.json");
    if (!f.good()) fail("missing ", dir, "goldens.json (tools/gen_logit_goldens.py --model ", name, ")");
    nlohmann::json j = nlohmann::json::parse(f);
    ModelGoldens m;
    m.model_path = model_home() + "/" + j["model"].get<std::string>();
    m.is_default = m.model_path == default_model_path();
    const size_t n_vocab = j["n_vocab"].get<size_t>();
    for (const auto& p : j["prompts"]) {
        Golden g{p["text"], p["tokens"], p["greedy"], p["margins"], {}, {}};
        if (p.contains("logit_ids")) g.logit_ids = p["logit_ids"].get<std::vector<int32_t>>();
        else for (size_t i = 0; i < n_vocab; i++) g.logit_ids.push_back(static_cast<int32_t>(i));
        std::ifstream lf(dir + p["last_logits"].get<std::string>(), std::ios::binary);
        g.last_logits.resize(g.logit_ids.size());
        lf.read(reinterpret_cast<char*>(g.last_logits.data()), static_cast<std::streamsize>(g.last_logits.size() * sizeof(float)));
        if (!lf.good()) fail("short logits file for prompt '", g.text, "' in ", dir);
        m.prompts.push_back(std::move(g));
    }
    return m;
}

}  // namespace lmx::test
