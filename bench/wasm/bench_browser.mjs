#!/usr/bin/env node
// Generation speed of three WebAssembly runtimes on the same model in headless Chromium
// (Debian's /usr/bin/chromium driven by playwright-core), one thread each:
//   lmx            this repository's WASM build (bindings/js), the GGUF file
//   wllama         @wllama/wllama (llama.cpp compiled to WASM), the same GGUF file
//   transformers-fp32, transformers-q4
//                  @huggingface/transformers (onnxruntime-web) on the same weights exported by
//                  `lmx export` (onnx/model.onnx, its dtype "fp32") and quantized to 4 bits by
//                  `lmx quantize` (onnx/model_q4.onnx, its dtype "q4": MatMulNBits)
// Each runtime gets a tab of its own and loads its model once; then every run times greedy
// generation of --tokens tokens after the same prompt in each tab in turn (interleaved), and
// the median tokens/s over --runs is reported. With --compress FILE the lmx tab also
// compresses and decompresses FILE (deterministic mode, the container checked to decode
// to the same bytes): KB/s. JSON on stdout, a table on stderr.
//
//   npm ci && node bench_browser.mjs --onnx-dir DIR [--model GGUF] [--runs 3] [--tokens 128]
//        [--only lmx,wllama,transformers-fp32,transformers-q4] [--compress FILE]
//
// DIR is a folder made by `lmx export MODEL.gguf DIR` plus
// `lmx quantize DIR/onnx/model.onnx DIR/onnx/model_q4.onnx` (bench/bench_languages.py makes
// it). The page is served with COOP/COEP headers (cross-origin isolated), as wllama's and
// onnxruntime-web's threaded builds want; every runtime is still told to use one thread.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { homedir } from "node:os";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const { values: opts } = parseArgs({
  options: {
    model: { type: "string", default: join(process.env.LMX_HOME ?? join(homedir(), ".cache/lmx/models"),
                                           "SmolLM2-135M-Instruct.Q4_1.gguf") },
    "onnx-dir": { type: "string" },
    runs: { type: "string", default: "3" },
    tokens: { type: "string", default: "128" },
    prompt: { type: "string", default: "Once upon a time" },
    only: { type: "string", default: "lmx,wllama,transformers-fp32,transformers-q4" },
    compress: { type: "string" },
    chromium: { type: "string", default: process.env.LMX_CHROMIUM ?? "/usr/bin/chromium" },
  },
});
const runs = Number(opts.runs), nTokens = Number(opts.tokens);
const runtimes = opts.only.split(",");
for (const [what, path] of [["model", opts.model], ["chromium", opts.chromium], ["bindings/js/dist (make test-js)",
                                                                                  join(repo, "bindings/js/dist/index.js")]]) {
  if (!existsSync(path)) { console.error(`bench_browser: ${what} not found: ${path}`); process.exit(2); }
}
const onnxFiles = { "transformers-fp32": "onnx/model.onnx", "transformers-q4": "onnx/model_q4.onnx" };
for (const name of runtimes) {
  if (!(name in onnxFiles) && name !== "lmx" && name !== "wllama") {
    console.error(`bench_browser: unknown runtime ${name}`);
    process.exit(2);
  }
  if (name in onnxFiles && !(opts["onnx-dir"] && existsSync(join(opts["onnx-dir"], onnxFiles[name])))) {
    console.error(`bench_browser: ${name} needs --onnx-dir holding ${onnxFiles[name]} (lmx export, lmx quantize)`);
    process.exit(2);
  }
}

// URL prefix -> folder it serves; everything else is a 404.
const mounts = {
  "/lmx/": join(repo, "bindings/js"),
  "/wllama/": join(here, "node_modules/@wllama/wllama/esm"),
  "/transformers/": join(here, "node_modules/@huggingface/transformers/dist"),
  "/ort/": join(here, "node_modules/onnxruntime-web/dist"),
  "/onnx-model/": opts["onnx-dir"] ?? join(here, "missing"),
};
const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
                ".wasm": "application/wasm", ".json": "application/json" };

// One page per runtime: it loads the model on load(), then generate() times one greedy run
// and returns { tokens, ms, text }.
const pages = {
  lmx: `
import { Model } from "/lmx/dist/index.js";
let model;
window.bench = {
  async load() { model = await Model.load("/model.gguf"); return model.isa(); },
  async generate(prompt, n) {
    let tokens = 0, text = "";
    const t = performance.now();
    for await (const piece of model.generate(prompt, { maxTokens: n, temperature: 0 })) { tokens++; text += piece; }
    return { tokens, ms: performance.now() - t, text };
  },
  async compress(url) {
    const data = new Uint8Array(await (await fetch(url)).arrayBuffer());
    model.compress(Uint8Array.of(65));  // hashes the model once, outside the timings
    let t = performance.now();
    const container = model.compress(data);
    const compressMs = performance.now() - t;
    t = performance.now();
    const back = model.decompress(container);
    const decompressMs = performance.now() - t;
    if (back.length !== data.length || back.some((b, i) => b !== data[i])) throw new Error("round trip differs");
    return { bytes: data.length, container_bytes: container.length,
             compress_kb_s: data.length / 1024 / (compressMs / 1e3), decompress_kb_s: data.length / 1024 / (decompressMs / 1e3) };
  },
};`,
  wllama: `
import { Wllama } from "/wllama/index.js";
let wllama;
window.bench = {
  async load() {
    wllama = new Wllama({ default: "/wllama/wasm/wllama.wasm" }, { logger: { debug() {}, log() {}, warn: console.warn, error: console.error } });
    await wllama.loadModelFromUrl(location.origin + "/model.gguf", { n_threads: 1, n_ctx: 1024, useCache: false });
    return "threads " + wllama.getNumThreads();
  },
  async generate(prompt, n) {
    const t = performance.now();
    const r = await wllama.createCompletion({ prompt, max_tokens: n, temperature: 0, ignore_eos: true, cache_prompt: false });
    return { tokens: r.usage.completion_tokens, ms: performance.now() - t, text: r.choices[0].text,
             own_tokens_per_s: r.timings?.predicted_per_second };
  },
};`,
};

// transformers.js on the exported folder with one of its dtypes.
const transformersPage = (dtype) => `
import { AutoModelForCausalLM, AutoTokenizer, env } from "/transformers/transformers.js";
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = "/";
env.useBrowserCache = false;
env.useWasmCache = false;
env.backends.onnx.wasm.wasmPaths = { mjs: "/ort/ort-wasm-simd-threaded.mjs", wasm: "/ort/ort-wasm-simd-threaded.wasm" };
env.backends.onnx.wasm.numThreads = 1;
let tokenizer, model;
window.bench = {
  async load() {
    tokenizer = await AutoTokenizer.from_pretrained("onnx-model");
    model = await AutoModelForCausalLM.from_pretrained("onnx-model", { dtype: "${dtype}", device: "wasm" });
    return "${dtype}, onnxruntime-web " + env.backends.onnx.versions?.web;
  },
  async generate(prompt, n) {
    const inputs = tokenizer(prompt, { add_special_tokens: false });
    const t = performance.now();
    const out = await model.generate({ ...inputs, max_new_tokens: n, min_new_tokens: n, do_sample: false });
    const ms = performance.now() - t;
    const promptLength = inputs.input_ids.dims[1];
    const ids = Array.from(out.tolist()[0].slice(promptLength), Number);
    return { tokens: ids.length, ms, text: tokenizer.decode(ids, { skip_special_tokens: true }) };
  },
};`;
for (const dtype of ["fp32", "q4"]) pages[`transformers-${dtype}`] = transformersPage(dtype);

function serve() {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const headers = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
    const name = path.slice(1).replace(/\.html$/, "");
    if (pages[name]) {
      const html = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>${name}</title>` +
                   `<script type="module">${pages[name]}</script>`;
      res.writeHead(200, { ...headers, "content-type": "text/html; charset=utf-8" }).end(html);
      return;
    }
    let file;
    if (path === "/model.gguf") file = opts.model;
    else if (path === "/compress-input" && opts.compress) file = opts.compress;
    else {
      const prefix = Object.keys(mounts).find((p) => path.startsWith(p));
      if (prefix) {
        file = normalize(join(mounts[prefix], path.slice(prefix.length)));
        if (!file.startsWith(mounts[prefix] + sep)) file = undefined;
      }
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, "content-type": types[extname(file)] ?? "application/octet-stream",
                         "content-length": statSync(file).size });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await serve();
const base = `http://127.0.0.1:${server.address().port}`;
const { chromium } = await import("playwright-core");
// root in CI: Chromium's sandbox needs an unprivileged user, hence --no-sandbox
const browser = await chromium.launch({ executablePath: opts.chromium, headless: true, args: ["--no-sandbox"] });
const result = { prompt: opts.prompt, tokens: nTokens, runs, threads: 1, chromium: browser.version(), runtimes: {} };
try {
  const tabs = {};
  for (const name of runtimes) {
    const tab = await browser.newPage();
    tab.on("pageerror", (e) => console.error(`[${name}] ${e.message}`));
    tab.on("console", (m) => { if (m.type() === "error") console.error(`[${name}] ${m.text()}`); });
    await tab.goto(`${base}/${name}.html`);
    await tab.waitForFunction(() => window.bench !== undefined, null, { timeout: 60_000 });
    const t = Date.now();
    const info = await tab.evaluate(() => window.bench.load());
    console.error(`${name}: loaded in ${((Date.now() - t) / 1000).toFixed(1)} s (${info})`);
    await tab.evaluate(([p]) => window.bench.generate(p, 8), [opts.prompt]);  // warm-up
    tabs[name] = tab;
    result.runtimes[name] = { info, tokens_per_s: [] };
  }
  for (let r = 0; r < runs; r++) {
    for (const name of runtimes) {
      const g = await tabs[name].evaluate(([p, n]) => window.bench.generate(p, n), [opts.prompt, nTokens]);
      const rate = g.tokens / g.ms * 1e3;
      result.runtimes[name].tokens_per_s.push(Number(rate.toFixed(1)));
      result.runtimes[name].generated = g.tokens;
      result.runtimes[name].text = g.text;
      if (g.own_tokens_per_s) (result.runtimes[name].own_tokens_per_s ??= []).push(Number(g.own_tokens_per_s.toFixed(1)));
      console.error(`run ${r + 1} ${name}: ${g.tokens} tokens, ${rate.toFixed(1)} tok/s`);
    }
  }
  if (opts.compress && tabs.lmx) {
    result.runtimes.lmx.compression = await tabs.lmx.evaluate(() => window.bench.compress("/compress-input"));
    console.error(`lmx compression: ${JSON.stringify(result.runtimes.lmx.compression)}`);
  }
} finally {
  await browser.close();
  server.close();
}
for (const r of Object.values(result.runtimes)) r.median_tokens_per_s = median(r.tokens_per_s);
const lmxRate = result.runtimes.lmx?.median_tokens_per_s;
console.error(`\n| runtime (Chromium ${result.chromium}, 1 thread) | generation tok/s (median of ${runs}) | lmx / runtime |`);
console.error("|---|---|---|");
for (const [name, r] of Object.entries(result.runtimes)) {
  console.error(`| ${name} | ${r.median_tokens_per_s} | ${lmxRate ? (lmxRate / r.median_tokens_per_s).toFixed(2) : "-"} |`);
}
console.log(JSON.stringify(result, null, 2));
