#!/usr/bin/env node
// lmx-info [MODEL] [--sha256 HEX] [--json]: the JavaScript build's self-check, like
// `lmx inspect` and `python -m lmx --self-check`: model path, SHA-256 (checked when
// --sha256 is given), vocabulary/context/layers, WASM SIMD, kernels, one timed forward.
import { Model, defaultModelPath, simdSupported, LmxError } from "../index.js";

async function main(argv: string[]): Promise<number> {
  let path: string | undefined, expected: string | undefined, json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--sha256") expected = argv[++i];
    else if (a === "--json") json = true;
    else if (a === "-h" || a === "--help") {
      console.log("usage: lmx-info [MODEL.gguf | URL] [--sha256 HEX] [--json]");
      return 0;
    } else path = a;
  }
  path ??= defaultModelPath();
  const t0 = performance.now();
  const model = await Model.load(path, { sha256: expected });
  const loadMs = performance.now() - t0;
  try {
    const sha256 = model.sha256();
    const bos = model.tokenize("", { addSpecial: true });
    const ids = bos.length ? bos : Int32Array.of(0);
    const t1 = performance.now();
    const logits = model.logits(ids, { deterministic: false });
    const forwardMs = performance.now() - t1;
    if (!logits.every(Number.isFinite)) throw new LmxError(`${path}: the logits are not all finite (corrupt weights?)`);
    const report = {
      model: path,
      sha256,
      sha256_verified: expected ? true : null,
      size_bytes: model.info.sizeBytes,
      n_vocab: model.info.nVocab,
      n_ctx_train: model.info.nCtxTrain,
      n_layers: model.info.nLayers,
      n_embd: model.info.nEmbd,
      n_heads: model.info.nHeads,
      n_kv_heads: model.info.nKvHeads,
      input: `tokens i32[${ids.length}]`,
      output: `logits f32[${ids.length}, ${model.info.nVocab}]`,
      wasm_simd128: simdSupported(),
      isa: model.isa(),
      threads: 1,
      load_ms: Math.round(loadMs),
      forward_ms: Number(forwardMs.toFixed(2)),
    };
    if (json) console.log(JSON.stringify(report, null, 2));
    else for (const [k, v] of Object.entries(report)) console.log(`${k.padEnd(16)} ${v ?? "(not checked: pass --sha256)"}`);
    return 0;
  } finally {
    model.free();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: Error) => {
  console.error(`lmx-info: ${e.message}`);
  process.exit(1);
});
