#!/usr/bin/env python3
"""Writes a BERT-family HF model folder as a GGUF file of architecture `bert`, the way
llama.cpp's convert_hf_to_gguf.py (BertModel) lays it out, with gguf-py (the `gguf`
package, llama.cpp's own writer and reference quantizers). That converter cannot run
here (it imports torch), so this script does its part for BertModel checkpoints:

  * tensor names as gguf-py's tensor map gives them for MODEL_ARCH.BERT;
  * the vocabulary in "phantom space" form: "##x" -> "x", other words -> "\u2581word",
    special tokens (added tokens marked special) kept and typed CONTROL;
  * special-token ids from the folder through gguf.SpecialVocab; pooling type from
    sentence-transformers' pooling config (mean, cls, last).

--type f16 keeps matrices in F16; q8_0, q4_0 quantize every matrix and the token
embeddings with gguf.quants (bit-exact ports of ggml's reference quantizers). As in
convert_hf_to_gguf.py, the position and token-type tables, norms and biases stay F32. The output is deterministic: scripts/setup.sh builds the GGUF variants
of the default embedding model with it and checks their SHA256 (models/derived.tsv).

  .venv/bin/python tools/make_bert_gguf.py --model ~/.cache/lmx/models/all-minilm-l6-v2 \
      --type q8_0 --out all-minilm-l6-v2.q8_0.gguf
"""
import argparse
import json
import os
import sys

import gguf
import numpy as np
from safetensors.numpy import load_file

TYPES = {
    "f16": gguf.GGMLQuantizationType.F16,
    "q8_0": gguf.GGMLQuantizationType.Q8_0,
    "q4_0": gguf.GGMLQuantizationType.Q4_0,
}

# HF BertModel name (after "encoder.layer.{bid}.") -> gguf-py tensor for MODEL_ARCH.BERT.
LAYER_TENSORS = {
    "attention.self.query": gguf.MODEL_TENSOR.ATTN_Q,
    "attention.self.key": gguf.MODEL_TENSOR.ATTN_K,
    "attention.self.value": gguf.MODEL_TENSOR.ATTN_V,
    "attention.output.dense": gguf.MODEL_TENSOR.ATTN_OUT,
    "attention.output.LayerNorm": gguf.MODEL_TENSOR.ATTN_OUT_NORM,
    "intermediate.dense": gguf.MODEL_TENSOR.FFN_UP,
    "output.dense": gguf.MODEL_TENSOR.FFN_DOWN,
    "output.LayerNorm": gguf.MODEL_TENSOR.LAYER_OUT_NORM,
}
EMBEDDING_TENSORS = {
    "embeddings.word_embeddings": gguf.MODEL_TENSOR.TOKEN_EMBD,
    "embeddings.position_embeddings": gguf.MODEL_TENSOR.POS_EMBD,
    "embeddings.token_type_embeddings": gguf.MODEL_TENSOR.TOKEN_TYPES,
    "embeddings.LayerNorm": gguf.MODEL_TENSOR.TOKEN_EMBD_NORM,
}
POOLING = {"pooling_mode_mean_tokens": 1, "pooling_mode_cls_token": 2, "pooling_mode_lasttoken": 3}


def gguf_name(hf_name):
    """The GGUF name of an HF BertModel tensor, or None for tensors llama.cpp drops."""
    name = hf_name[5:] if hf_name.startswith("bert.") else hf_name
    stem, _, kind = name.rpartition(".")
    if kind not in ("weight", "bias"):
        return None
    names = gguf.TENSOR_NAMES
    if stem in EMBEDDING_TENSORS:
        return f"{names[EMBEDDING_TENSORS[stem]]}.{kind}"
    parts = stem.split(".", 3)
    if len(parts) == 4 and parts[0] == "encoder" and parts[1] == "layer" and parts[3] in LAYER_TENSORS:
        return f"{names[LAYER_TENSORS[parts[3]]].format(bid=int(parts[2]))}.{kind}"
    return None  # pooler, cls heads, position_ids: not part of the encoder


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pooling_type(model_dir):
    path = os.path.join(model_dir, "modules.json")
    if not os.path.exists(path):
        return 1
    for m in read_json(path):
        if m.get("type") == "sentence_transformers.models.Pooling":
            cfg = read_json(os.path.join(model_dir, m["path"], "config.json"))
            for key, value in POOLING.items():
                if cfg.get(key):
                    return value
    return 1


def vocabulary(model_dir, n_vocab):
    tok = read_json(os.path.join(model_dir, "tokenizer.json"))
    if tok["model"]["type"] != "WordPiece":
        sys.exit(f"{model_dir}: tokenizer model {tok['model']['type']} is not WordPiece")
    by_id = {i: t for t, i in tok["model"]["vocab"].items()}
    special = {a["content"] for a in tok.get("added_tokens", []) if a.get("special")}
    tokens, types = [], []
    for i in range(n_vocab):
        t = by_id.get(i, f"[PAD{i}]")
        if t in special:
            tokens.append(t)
            types.append(gguf.TokenType.CONTROL)
        else:
            tokens.append(t[2:] if t.startswith("##") else "\u2581" + t)
            types.append(gguf.TokenType.NORMAL)
    return tokens, types


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="HF model folder (config.json, model.safetensors, tokenizer.json)")
    ap.add_argument("--type", choices=sorted(TYPES), default="f16")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    cfg = read_json(os.path.join(args.model, "config.json"))
    if cfg.get("model_type") != "bert":
        sys.exit(f"{args.model}: model_type {cfg.get('model_type')} is not bert")
    weights = load_file(os.path.join(args.model, "model.safetensors"))
    arch = gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.BERT]
    w = gguf.GGUFWriter(args.out + ".tmp", arch)
    w.add_name(os.path.basename(os.path.normpath(args.model)))
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_layer_norm_eps(cfg.get("layer_norm_eps", 1e-12))
    w.add_causal_attention(False)
    w.add_pooling_type(gguf.PoolingType(pooling_type(args.model)))
    w.add_file_type({"f16": gguf.LlamaFileType.MOSTLY_F16, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
                     "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0}[args.type])

    tokens, types = vocabulary(args.model, cfg["vocab_size"])
    w.add_token_type_count(cfg.get("type_vocab_size", 1))
    w.add_tokenizer_model("bert")
    w.add_token_list(tokens)
    w.add_token_types(types)
    gguf.SpecialVocab(args.model, n_vocab=len(tokens)).add_to_gguf(w)

    qtype = TYPES[args.type]
    for hf_name in weights:  # safetensors order: sorted by name
        name = gguf_name(hf_name)
        if name is None:
            continue
        data = weights[hf_name].astype(np.float32)
        kept_f32 = data.ndim == 1 or name.startswith(("position_embd.", "token_types."))
        if kept_f32:
            w.add_tensor(name, data)
        else:
            q = gguf.quants.quantize(data, qtype)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)
        print(f"{name:40s} {str(list(data.shape)):14s} {'F32' if kept_f32 else qtype.name}", file=sys.stderr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
