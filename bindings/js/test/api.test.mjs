// The JavaScript API around the core: loading (path, bytes, URL, SHA-256 check),
// logprobs, streamed generation, errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { Model, LmxError, simdSupported } from "../dist/index.js";
import { modelPath, skipNoModel, defaultModel } from "./helpers.mjs";

test("the engine runs WebAssembly SIMD128", () => assert.ok(simdSupported()));

test("load from bytes with the right SHA-256; refuse a wrong one", { skip: skipNoModel }, async () => {
  const bytes = new Uint8Array(readFileSync(modelPath));
  const sha = createHash("sha256").update(bytes).digest("hex");
  const m = await Model.load(bytes, { sha256: sha, name: "smollm2" });
  try {
    assert.equal(m.sha256(), sha);
    assert.equal(m.info.nLayers, 30);
    assert.equal(m.info.sizeBytes, bytes.length);
  } finally {
    m.free();
  }
  await assert.rejects(Model.load(bytes, { sha256: "0".repeat(64) }), /SHA-256 is [0-9a-f]{64}, expected 0{64}/);
});

test("load from a file: URL with progress", { skip: skipNoModel }, async () => {
  const seen = [];
  const m = await Model.load(pathToFileURL(modelPath), { onProgress: (loaded, total) => seen.push([loaded, total]) });
  m.free();
  assert.ok(seen.length > 0);
  assert.equal(seen.at(-1)[0], seen.at(-1)[1]);
});

test("load from an http: URL, streamed, with progress", { skip: skipNoModel }, async () => {
  const server = createServer((req, res) => {
    if (req.url !== "/model.gguf") { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-length": statSync(modelPath).size });
    createReadStream(modelPath).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${server.address().port}`;
    let calls = 0, last;
    const m = await Model.load(`${url}/model.gguf`, { onProgress: (loaded, total) => { calls++; last = [loaded, total]; } });
    try {
      assert.ok(calls > 1);
      assert.deepEqual(last, [statSync(modelPath).size, statSync(modelPath).size]);
      assert.equal(m.info.nVocab, 49152);
    } finally {
      m.free();
    }
    await assert.rejects(Model.load(`${url}/missing.gguf`), /HTTP 404/);
  } finally {
    server.close();
  }
});

test("a missing file and garbage bytes give clear errors", async () => {
  await assert.rejects(Model.load("/nonexistent/model.gguf"), /cannot open model \/nonexistent\/model.gguf/);
  await assert.rejects(Model.load(new TextEncoder().encode("not a gguf file at all"), { name: "junk" }), LmxError);
});

test("logprobs: one finite, non-positive value per next token", { skip: skipNoModel }, async () => {
  const model = await defaultModel();
  const { tokens, logprobs } = model.logprobs("The capital of France is Paris.");
  assert.equal(logprobs.length, tokens.length - 1);
  for (const lp of logprobs) assert.ok(Number.isFinite(lp) && lp <= 0);
});

test("generate streams text and stops when the loop breaks", { skip: skipNoModel }, async () => {
  const model = await defaultModel();
  let text = "";
  for await (const piece of model.generate("The three primary colors are", { maxTokens: 12, temperature: 0 })) text += piece;
  assert.ok(text.length > 0);
  let pieces = 0;
  for await (const _ of model.generate("Once upon a time", { maxTokens: 50, temperature: 0.7, seed: 3 })) {
    if (++pieces === 2) break;
  }
  assert.equal(pieces, 2);
});
