// Types of the Emscripten module (lmx_wasm.js, built by `cmake --preset wasm` from
// bindings/js/CMakeLists.txt): the C ABI of include/lmx/lmx.h. Pointers are wasm32
// addresses (numbers; above 2 GiB they arrive negative, so callers apply >>> 0).
export interface LmxWasmModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  HEAPF32: Float32Array;
  UTF8ToString(ptr: number, maxBytes?: number): string;

  _malloc(size: number): number;
  _free(ptr: number): void;
  _lmx_version(): number;
  _lmx_last_error(): number;
  _lmx_alloc(size: number): number;
  _lmx_free(ptr: number): void;
  _lmx_model_load_memory(data: number, size: number, name: number, out: number): number;
  _lmx_model_free(model: number): void;
  _lmx_model_n_vocab(model: number): number;
  _lmx_model_info(model: number, out: number): number;
  _lmx_model_sha256(model: number, hex: number): number;
  _lmx_tokenize(model: number, text: number, len: number, addSpecial: number, parseSpecial: number,
                ids: number, cap: number, nIds: number): number;
  _lmx_detokenize(model: number, ids: number, nIds: number, buf: number, cap: number, len: number): number;
  _lmx_session_create_ex(model: number, nThreads: number, nCtx: number, flags: number, out: number): number;
  _lmx_session_free(session: number): void;
  _lmx_session_isa(session: number): number;
  _lmx_logits(session: number, ids: number, nIds: number, nPast: number, out: number, cap: number, nOut: number): number;
  _lmx_logprobs(session: number, ids: number, nIds: number, out: number, cap: number, nOut: number): number;
  _lmx_generate_start(session: number, prompt: number, len: number, params: number, out: number): number;
  _lmx_generate_next(gen: number, buf: number, cap: number, len: number, done: number): number;
  _lmx_generator_free(gen: number): void;
  _lmx_compress(model: number, data: number, len: number, chunkBytes: number, out: number, outLen: number): number;
  _lmx_decompress(model: number, data: number, len: number, out: number, outLen: number): number;
}

export interface LmxWasmOptions {
  wasmBinary?: ArrayBuffer | Uint8Array;
  locateFile?: (path: string, prefix: string) => string;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

declare function createLmxModule(options?: LmxWasmOptions): Promise<LmxWasmModule>;
export default createLmxModule;
