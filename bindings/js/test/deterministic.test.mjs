// The central proof: the WASM build's deterministic logits of the fixed text of
// tests/runtime/test_deterministic.cpp hash to the committed SHA-256, the same bits as
// every native ISA and thread count.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { repo, skipNoModel, defaultModel } from "./helpers.mjs";

const kText =
  "The quick brown fox jumps over the lazy dog. In 1865, Lewis Carroll wrote about Alice, " +
  'who fell down a rabbit hole; {"json": [1, 2.5, null]} and int main() { return 0; }';

test("deterministic logits hash equals tests/goldens/deterministic/smollm2.sha256", { skip: skipNoModel }, async () => {
  const model = await defaultModel();
  const ids = model.tokenize(kText, { addSpecial: true, parseSpecial: false });
  const logits = model.logits(ids, { deterministic: true, nCtx: 128 });
  assert.equal(logits.length, ids.length * model.info.nVocab);
  const got = createHash("sha256").update(new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength)).digest("hex");
  const golden = readFileSync(`${repo}/tests/goldens/deterministic/smollm2.sha256`, "utf8").trim();
  assert.equal(got, golden, "WASM deterministic logits differ from the native golden");
});

test("the module runs the SIMD128 kernels", { skip: skipNoModel }, async () => {
  assert.equal((await defaultModel()).isa(), "wasm_simd128");
});

// The fast WASM kernels compute the same model: within the tolerance every native ISA
// is held to (tests/runtime/test_deterministic.cpp: max 2.0, mean 0.5, top token on 90%).
test("the fast path agrees with deterministic mode within the ISA tolerance", { skip: skipNoModel }, async () => {
  const model = await defaultModel();
  const ids = model.tokenize(kText, { addSpecial: true, parseSpecial: false });
  const det = model.logits(ids, { deterministic: true, nCtx: 128 });
  const fast = model.logits(ids, { deterministic: false, nCtx: 128 });
  const nv = model.info.nVocab;
  let max = 0, sum = 0, sameTop = 0;
  for (let i = 0; i < det.length; i++) {
    const d = Math.abs(det[i] - fast[i]);
    max = Math.max(max, d);
    sum += d;
  }
  const argmax = (a, p) => { let k = 0; for (let i = 1; i < nv; i++) if (a[p * nv + i] > a[p * nv + k]) k = i; return k; };
  for (let p = 0; p < ids.length; p++) sameTop += argmax(det, p) === argmax(fast, p) ? 1 : 0;
  assert.ok(max <= 2.0, `max difference ${max}`);
  assert.ok(sum / det.length <= 0.5, `mean difference ${sum / det.length}`);
  assert.ok(sameTop * 10 >= ids.length * 9, `${sameTop} of ${ids.length} positions agree on the top token`);
});
