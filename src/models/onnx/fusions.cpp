#include "models/onnx/fusions.hpp"

#include <cmath>
#include <cstring>
#include <numbers>
#include <optional>

#include "ops/nd/rotate_half.hpp"

namespace lmx::models::onnx_import {

namespace {

bool is_op(const onnx::Node& n, const char* type) { return n.op_type == type && (n.domain.empty() || n.domain == "ai.onnx"); }

// Who produces and how many read each value (graph outputs count as readers).
struct Uses {
    explicit Uses(const onnx::Graph& g) : g_(g) {
        for (size_t i = 0; i < g.nodes.size(); i++) {
            for (const std::string& in : g.nodes[i].inputs) readers_[in]++;
            for (const std::string& out : g.nodes[i].outputs) producer_[out] = i;
        }
        for (const onnx::ValueInfo& o : g.outputs) readers_[o.name]++;
        for (const onnx::Tensor& t : g.initializers) init_[t.name] = &t;
    }
    // The node producing `value` when that node is `type` with one output and `value` has
    // no reader but the pattern's.
    const onnx::Node* sole(const std::string& value, const char* type) const {
        auto p = producer_.find(value);
        auto r = readers_.find(value);
        if (p == producer_.end() || r == readers_.end() || r->second != 1) return nullptr;
        const onnx::Node& n = g_.nodes[p->second];
        return is_op(n, type) && n.outputs.size() == 1 ? &n : nullptr;
    }
    int readers(const std::string& value) const {
        auto r = readers_.find(value);
        return r == readers_.end() ? 0 : r->second;
    }
    const onnx::Node* producer(const std::string& value) const {
        auto p = producer_.find(value);
        return p == producer_.end() ? nullptr : &g_.nodes[p->second];
    }
    size_t index(const onnx::Node* n) const { return static_cast<size_t>(n - g_.nodes.data()); }
    const onnx::Tensor* initializer(const std::string& name) const {
        auto it = init_.find(name);
        return it == init_.end() ? nullptr : it->second;
    }
    // A one-element initializer's value, when its type is `dtype` (T's).
    template <class T>
    std::optional<T> scalar(const std::string& name, onnx::DataType dtype) const {
        const onnx::Tensor* t = initializer(name);
        if (!t || t->dtype != dtype || t->elements() != 1 || t->nbytes() != sizeof(T)) return std::nullopt;
        T v;
        std::memcpy(&v, t->bytes().data(), sizeof(T));
        return v;
    }
    std::optional<int64_t> scalar_int(const std::string& name) const { return scalar<int64_t>(name, onnx::DataType::INT64); }
    std::optional<float> scalar_float(const std::string& name) const { return scalar<float>(name, onnx::DataType::FLOAT); }

private:
    const onnx::Graph& g_;
    std::map<std::string, size_t> producer_;
    std::map<std::string, int> readers_;
    std::map<std::string, const onnx::Tensor*> init_;
};

int64_t int_attr(const onnx::Node& n, const char* name, int64_t fallback) {
    const onnx::Attribute* a = n.attribute(name);
    return a ? a->i : fallback;
}

// a and b are products of the same input by constant f32 weights of the same shape
// (a layer's gate and up): their dims are equal whatever the input's.
bool same_shape_products(const Uses& u, const std::string& a, const std::string& b) {
    const onnx::Node *pa = u.producer(a), *pb = u.producer(b);
    if (!pa || !pb || pa == pb || pa->inputs.size() < 2 || pb->inputs.size() < 2 || pa->inputs[0] != pb->inputs[0]) return false;
    if (pa->op_type == "MatMulNBits" && pa->domain == "com.microsoft" && pb->op_type == "MatMulNBits" && pb->domain == "com.microsoft") {
        const onnx::Tensor* scales = pa->inputs.size() > 2 ? u.initializer(pa->inputs[2]) : nullptr;
        return scales && scales->dtype == onnx::DataType::FLOAT && int_attr(*pa, "N", -1) == int_attr(*pb, "N", -2) &&
               int_attr(*pa, "K", -1) == int_attr(*pb, "K", -2);
    }
    if (is_op(*pa, "MatMul") && is_op(*pb, "MatMul")) {
        const onnx::Tensor *wa = u.initializer(pa->inputs[1]), *wb = u.initializer(pb->inputs[1]);
        return wa && wb && wa->dtype == onnx::DataType::FLOAT && wb->dtype == onnx::DataType::FLOAT && wa->dims == wb->dims;
    }
    return false;
}

// Mul(Mul(g, Sigmoid(g)), u) -> swiglu(g, u), either operand order at each Mul.
bool match_swiglu(const Uses& u, const onnx::Node& n, Fusion& f) {
    if (!is_op(n, "Mul") || n.inputs.size() != 2) return false;
    for (int side = 0; side < 2; side++) {
        const onnx::Node* silu = u.sole(n.inputs[static_cast<size_t>(side)], "Mul");
        const std::string& up = n.inputs[static_cast<size_t>(1 - side)];
        if (!silu || silu->inputs.size() != 2) continue;
        for (int s = 0; s < 2; s++) {
            const onnx::Node* sig = u.sole(silu->inputs[static_cast<size_t>(s)], "Sigmoid");
            const std::string& gate = silu->inputs[static_cast<size_t>(1 - s)];
            if (!sig || sig->inputs.size() != 1 || sig->inputs[0] != gate || !same_shape_products(u, gate, up)) continue;
            f = {ops::swiglu(), {gate, up}, n.outputs, {u.index(silu), u.index(sig)}};
            return true;
        }
    }
    return false;
}

// Slice(x, [start], [end], [-1]) with constant one-element starts, ends and axes (steps 1).
bool last_axis_slice(const Uses& u, const onnx::Node* s, const std::string& x, int64_t& start, int64_t& end) {
    if (!s || s->inputs.size() < 4 || s->inputs.size() > 5 || s->inputs[0] != x) return false;
    const auto b = u.scalar_int(s->inputs[1]), e = u.scalar_int(s->inputs[2]), axis = u.scalar_int(s->inputs[3]);
    if (!b || !e || !axis || *axis != -1) return false;
    if (s->inputs.size() == 5 && !s->inputs[4].empty() && u.scalar_int(s->inputs[4]) != std::optional<int64_t>(1)) return false;
    start = *b;
    end = *e;
    return true;
}

// Add(Mul(x, cos), Mul(Concat(Neg(Slice(x, h, 2h)), Slice(x, 0, h), axis -1), sin)) ->
// rotate_half(x, cos, sin), either operand order at the Muls and the Add.
bool match_rotate_half(const Uses& u, const onnx::Node& n, Fusion& f) {
    if (!is_op(n, "Add") || n.inputs.size() != 2) return false;
    for (int side = 0; side < 2; side++) {
        const onnx::Node *mc = u.sole(n.inputs[static_cast<size_t>(side)], "Mul"), *ms = u.sole(n.inputs[static_cast<size_t>(1 - side)], "Mul");
        if (!mc || !ms || mc->inputs.size() != 2 || ms->inputs.size() != 2) continue;
        for (int r = 0; r < 2; r++) {
            const onnx::Node* cat = u.sole(ms->inputs[static_cast<size_t>(r)], "Concat");
            const std::string& sin = ms->inputs[static_cast<size_t>(1 - r)];
            if (!cat || cat->inputs.size() != 2 || int_attr(*cat, "axis", 0) != -1) continue;
            const onnx::Node *neg = u.sole(cat->inputs[0], "Neg"), *lo = u.sole(cat->inputs[1], "Slice");
            const onnx::Node* hi = neg && neg->inputs.size() == 1 ? u.sole(neg->inputs[0], "Slice") : nullptr;
            if (!hi || !lo) continue;
            for (int c = 0; c < 2; c++) {
                const std::string &x = mc->inputs[static_cast<size_t>(c)], &cos = mc->inputs[static_cast<size_t>(1 - c)];
                int64_t lo_b, lo_e, hi_b, hi_e;
                if (!last_axis_slice(u, lo, x, lo_b, lo_e) || !last_axis_slice(u, hi, x, hi_b, hi_e)) continue;
                const int64_t half = lo_e;
                if (lo_b != 0 || half <= 0 || hi_b != half || hi_e < 2 * half) continue;  // hi_e past the end: to the end
                f = {ops::nd::rotate_half(half), {x, cos, sin}, n.outputs, {}};
                for (const onnx::Node* m : {mc, ms, cat, neg, lo, hi}) f.absorbs.push_back(u.index(m));
                return true;
            }
        }
    }
    return false;
}

bool is_scalar(const Uses& u, const std::string& name, float value, float tolerance = 0) {
    const std::optional<float> v = u.scalar_float(name);
    return v && std::fabs(*v - value) <= tolerance;
}

// Add(Erf(Div(h, √2) or Mul(h, 1/√2)), 1), either operand order at the Add: gives h and
// the three nodes.
bool erf_term(const Uses& u, const std::string& value, std::string& h, std::vector<const onnx::Node*>& nodes) {
    const onnx::Node* add = u.sole(value, "Add");
    if (!add || add->inputs.size() != 2) return false;
    for (int side = 0; side < 2; side++) {
        const onnx::Node* erf = u.sole(add->inputs[static_cast<size_t>(side)], "Erf");
        if (!erf || erf->inputs.size() != 1 || !is_scalar(u, add->inputs[static_cast<size_t>(1 - side)], 1.0f)) continue;
        const onnx::Node* div = u.sole(erf->inputs[0], "Div");
        const onnx::Node* mul = u.sole(erf->inputs[0], "Mul");
        if (div && div->inputs.size() == 2 && is_scalar(u, div->inputs[1], std::numbers::sqrt2_v<float>, 1e-6f)) h = div->inputs[0];
        else if (mul && mul->inputs.size() == 2 && is_scalar(u, mul->inputs[1], 1 / std::numbers::sqrt2_v<float>, 1e-6f)) h = mul->inputs[0];
        else if (mul && mul->inputs.size() == 2 && is_scalar(u, mul->inputs[0], 1 / std::numbers::sqrt2_v<float>, 1e-6f)) h = mul->inputs[1];
        else continue;
        nodes = {add, erf, div ? div : mul};
        return true;
    }
    return false;
}

// The exact GELU of h written out, ending at the Mul n, either operand order at each Mul:
//   Mul(h, Mul(erf_term(h), 0.5))   (torch.onnx)
//   Mul(Mul(h, erf_term(h)), 0.5)   (bench/bert_onnx.py, older optimum exports)
// Gives h and the pattern's nodes but n.
bool match_gelu(const Uses& u, const onnx::Node& n, std::string& h, std::vector<const onnx::Node*>& nodes) {
    if (!is_op(n, "Mul") || n.inputs.size() != 2) return false;
    for (int side = 0; side < 2; side++) {
        const std::string &a = n.inputs[static_cast<size_t>(side)], &b = n.inputs[static_cast<size_t>(1 - side)];
        const onnx::Node* inner = u.sole(b, "Mul");
        if (!inner || inner->inputs.size() != 2) continue;
        for (int j = 0; j < 2; j++) {
            const std::string &p = inner->inputs[static_cast<size_t>(j)], &q = inner->inputs[static_cast<size_t>(1 - j)];
            // torch.onnx's: a is h, the inner Mul 0.5 · erf_term(h); the other: a is 0.5,
            // the inner Mul h · erf_term(h)
            if ((is_scalar(u, p, 0.5f) && erf_term(u, q, h, nodes) && h == a) || (is_scalar(u, a, 0.5f) && erf_term(u, q, h, nodes) && h == p)) {
                nodes.push_back(inner);
                return true;
            }
        }
    }
    return false;
}

// Add(MatMul(x, w), bias), either operand order at the Add, bias a 1-D f32 initializer
// and the Add the MatMul's only reader: gives the MatMul and the bias's name.
const onnx::Node* biased_matmul(const Uses& u, const onnx::Node& add, std::string& bias) {
    if (!is_op(add, "Add") || add.inputs.size() != 2 || add.outputs.size() != 1) return nullptr;
    for (int side = 0; side < 2; side++) {
        const onnx::Node* mm = u.sole(add.inputs[static_cast<size_t>(side)], "MatMul");
        const onnx::Tensor* b = u.initializer(add.inputs[static_cast<size_t>(1 - side)]);
        if (!mm || mm->inputs.size() != 2 || !b || b->dtype != onnx::DataType::FLOAT || b->dims.size() != 1) continue;
        bias = b->name;
        return mm;
    }
    return nullptr;
}

// A dense layer ending at n: n the bias Add (when no GELU follows it), or the last node of
// the GELU of such an Add's output, which the GELU's nodes are the only readers of.
bool match_dense(const Uses& u, const onnx::Node& n, Fusion& f) {
    std::string h, bias;
    std::vector<const onnx::Node*> gelu_nodes;
    const onnx::Node* add = &n;
    if (match_gelu(u, n, h, gelu_nodes)) {
        add = u.producer(h);
        if (!add || u.readers(h) != 2) return false;
    }
    const onnx::Node* mm = biased_matmul(u, *add, bias);
    if (!mm) return false;
    f = {nullptr, {mm->inputs[0], mm->inputs[1], bias}, n.outputs, {u.index(mm)}, true, !gelu_nodes.empty()};
    if (add != &n) f.absorbs.push_back(u.index(add));
    for (const onnx::Node* g : gelu_nodes) f.absorbs.push_back(u.index(g));
    return true;
}

}  // namespace

std::map<size_t, size_t> transposes_into_matmul(const onnx::Graph& g) {
    const Uses u(g);
    std::map<size_t, size_t> fused;
    for (size_t i = 0; i < g.nodes.size(); i++) {
        const onnx::Node& mm = g.nodes[i];
        if (!is_op(mm, "MatMul") || mm.inputs.size() != 2) continue;
        const onnx::Node* t = u.sole(mm.inputs[1], "Transpose");
        const onnx::Attribute* perm = t ? t->attribute("perm") : nullptr;
        if (!perm || perm->ints.size() < 2) continue;
        const size_t r = perm->ints.size();
        bool swap_last = perm->ints[r - 1] == static_cast<int64_t>(r - 2) && perm->ints[r - 2] == static_cast<int64_t>(r - 1);
        for (size_t d = 0; d + 2 < r; d++) swap_last = swap_last && perm->ints[d] == static_cast<int64_t>(d);
        if (swap_last) fused[i] = u.index(t);
    }
    return fused;
}

std::map<size_t, Fusion> find_fusions(const onnx::Graph& g, std::vector<bool>& absorbed) {
    const Uses u(g);
    std::map<size_t, Fusion> fused;
    // Last nodes first, so a dense layer with its GELU claims the bias Add before the Add
    // alone would match as a plain dense layer.
    for (size_t i = g.nodes.size(); i-- > 0;) {
        Fusion f;
        if (absorbed[i] || !(match_swiglu(u, g.nodes[i], f) || match_rotate_half(u, g.nodes[i], f) || match_dense(u, g.nodes[i], f)))
            continue;
        bool free = true;  // no node of the pattern is already another's
        for (size_t a : f.absorbs) free = free && !absorbed[a] && !fused.count(a);
        if (!free) continue;
        for (size_t a : f.absorbs) absorbed[a] = true;
        fused[i] = std::move(f);
    }
    return fused;
}

}  // namespace lmx::models::onnx_import
