#!/usr/bin/env node
// node scripts/bench.mjs [FILE] [--chunk N]: the WASM build's speed on this machine —
// greedy generation (128 tokens after a short prompt, tokens/s of the whole loop),
// deterministic logits of the golden text (tokens/s, best of 3) and compress/decompress
// of FILE (default: the first 2 KB of the repository README) in KB/s. JSON on stdout.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Model, defaultModelPath } from "../dist/index.js";

const args = process.argv.slice(2);
const chunkAt = args.indexOf("--chunk");
const chunkBytes = chunkAt >= 0 ? Number(args.splice(chunkAt, 2)[1]) : 4096;
const file = args[0] ?? fileURLToPath(new URL("../../../README.md", import.meta.url));
const data = new Uint8Array(readFileSync(file)).subarray(0, args[0] ? undefined : 2048);

const text = "The quick brown fox jumps over the lazy dog. In 1865, Lewis Carroll wrote about Alice, " +
  'who fell down a rabbit hole; {"json": [1, 2.5, null]} and int main() { return 0; }';
const model = await Model.load(defaultModelPath());
const ids = model.tokenize(text, { addSpecial: true });
let best = Infinity;
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  model.logits(ids, { deterministic: true, nCtx: 128 });
  best = Math.min(best, performance.now() - t);
}
let pieces = 0;
const genStart = performance.now();
for await (const _ of model.generate("Once upon a time", { maxTokens: 128, temperature: 0 })) pieces++;
const genMs = performance.now() - genStart;
model.compress(Uint8Array.of(65));  // hashes the model once, outside the timings
let t = performance.now();
const container = model.compress(data, { chunkBytes });
const compressMs = performance.now() - t;
t = performance.now();
const back = model.decompress(container);
const decompressMs = performance.now() - t;
if (back.length !== data.length || back.some((b, i) => b !== data[i])) throw new Error("round trip differs");
console.log(JSON.stringify({
  isa: model.isa(), threads: 1,
  generation: { pieces, ms: Number(genMs.toFixed(1)), pieces_per_s: Number((pieces / genMs * 1e3).toFixed(1)) },
  deterministic_logits: { tokens: ids.length, ms: Number(best.toFixed(1)), tokens_per_s: Number((ids.length / best * 1e3).toFixed(1)) },
  compression: { file, bytes: data.length, chunk_bytes: chunkBytes, container_bytes: container.length,
                 bits_per_byte: Number((8 * container.length / Math.max(1, data.length)).toFixed(3)),
                 compress_kb_s: Number((data.length / 1024 / (compressMs / 1e3)).toFixed(3)),
                 decompress_kb_s: Number((data.length / 1024 / (decompressMs / 1e3)).toFixed(3)) },
}, null, 2));
model.free();
