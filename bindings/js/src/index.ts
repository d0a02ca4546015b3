// lmx for JavaScript: a thin layer over the WebAssembly build of the lmx core (the C ABI
// of include/lmx/lmx.h, compiled by Emscripten into ../wasm/lmx_wasm.{js,wasm}).
// Runs in Node (>= 18) and browsers, single-threaded, with WASM SIMD128 kernels. In
// deterministic mode (logits, logprobs, compression) results are bit-identical to the
// native build.
import createLmxModule, { type LmxWasmModule } from "../wasm/lmx_wasm.js";

/** The most memory a wasm32 module can address; the model, KV cache and buffers share it. */
export const MAX_WASM_MEMORY = 4 * 1024 * 1024 * 1024;

const LMX_SESSION_DETERMINISTIC = 1;
const LMX_ERR_BUFFER_TOO_SMALL = 3;
const isNode = typeof process === "object" && typeof process.versions?.node === "string";

let modulePromise: Promise<LmxWasmModule> | undefined;

/** The WebAssembly module, instantiated once and shared by every Model. */
export function wasmModule(): Promise<LmxWasmModule> {
  modulePromise ??= (async () => {
    const wasmUrl = new URL("../wasm/lmx_wasm.wasm", import.meta.url);
    // Emscripten 3.1.6's ES module cannot read files under Node itself: hand it the bytes.
    if (isNode) {
      const { readFile } = await import("node:fs/promises");
      return createLmxModule({ wasmBinary: await readFile(wasmUrl) });
    }
    return createLmxModule({ locateFile: () => wasmUrl.href });
  })();
  return modulePromise;
}

/** An error from the lmx core, with its message. */
export class LmxError extends Error {
  override name = "LmxError";
}

export interface LoadOptions {
  /** Called as bytes arrive (URL and path sources); total is undefined when unknown. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Expected lowercase hex SHA-256 of the file: loading fails on a mismatch. */
  sha256?: string;
  /** Name used in messages for a Uint8Array source (default "<memory>"). */
  name?: string;
}

export interface ModelInfo {
  name: string;
  sizeBytes: number;
  nVocab: number;
  nCtxTrain: number;
  nLayers: number;
  nEmbd: number;
  nHeads: number;
  nKvHeads: number;
}

export interface TokenizeOptions {
  /** BOS/EOS as the model's metadata says (default true). */
  addSpecial?: boolean;
  /** "<|im_start|>" in the text is the control token (default false). */
  parseSpecial?: boolean;
}

export interface LogitsOptions {
  /** Bit-identical to every other lmx build (default true). */
  deterministic?: boolean;
  /** Context size of the session (default: the number of ids). */
  nCtx?: number;
}

export interface GenerateOptions {
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  seed?: number;
  /** Context size (default 2048). */
  nCtx?: number;
}

export interface CompressOptions {
  /** Bytes per independently coded chunk (default 4096, as `lmx compress`). */
  chunkBytes?: number;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A loaded GGUF model. Free it with free() when done (the WASM heap is not garbage collected). */
export class Model {
  readonly info: ModelInfo;
  private handle: number;

  private constructor(private readonly m: LmxWasmModule, handle: number, info: ModelInfo) {
    this.handle = handle;
    this.info = info;
  }

  /**
   * Loads a model from a file path (Node), a URL (http(s):, file:, blob:; streamed with
   * progress) or the file's bytes.
   */
  static async load(source: string | URL | Uint8Array | ArrayBuffer, options: LoadOptions = {}): Promise<Model> {
    const m = await wasmModule();
    let name = options.name ?? "<memory>";
    let data: number, size: number;
    if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
      const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
      size = bytes.length;
      data = allocOrThrow(m, size, name);
      m.HEAPU8.set(bytes, data);
    } else {
      const url = sourceUrl(source);
      name = url ? url.href : String(source);
      ({ data, size } = url && url.protocol !== "file:" ? await fetchInto(m, url, options.onProgress)
                                                        : await readInto(m, url ?? String(source), options.onProgress));
    }
    if (options.sha256) {
      const got = await sha256Hex(m.HEAPU8.subarray(data, data + size));
      if (got !== undefined && got !== options.sha256.toLowerCase()) {
        m._lmx_free(data);
        throw new LmxError(`${name}: SHA-256 is ${got}, expected ${options.sha256}`);
      }
    }
    const handle = withScratch(m, 8 + utf8.encode(name).length + 1, (scratch) => {
      const nameBytes = utf8.encode(name);
      m.HEAPU8.set(nameBytes, scratch + 8);
      m.HEAPU8[scratch + 8 + nameBytes.length] = 0;
      check(m, m._lmx_model_load_memory(data, size, scratch + 8, scratch));  // takes ownership of data
      return m.HEAPU32[scratch >>> 2];
    });
    const info = withScratch(m, 24, (p) => {
      check(m, m._lmx_model_info(handle, p));
      const v = m.HEAP32.subarray(p >>> 2, (p >>> 2) + 6);
      return { name, sizeBytes: size, nVocab: v[0], nCtxTrain: v[1], nLayers: v[2], nEmbd: v[3], nHeads: v[4], nKvHeads: v[5] };
    });
    const model = new Model(m, handle, info);
    if (options.sha256 && typeof globalThis.crypto?.subtle === "undefined") {
      // no WebCrypto (e.g. a plain-http page): the core hashes the file instead
      const got = model.sha256();
      if (got !== options.sha256.toLowerCase()) {
        model.free();
        throw new LmxError(`${name}: SHA-256 is ${got}, expected ${options.sha256}`);
      }
    }
    return model;
  }

  /** Lowercase hex SHA-256 of the model file, computed by the core. */
  sha256(): string {
    return withScratch(this.m, 65, (p) => {
      check(this.m, this.m._lmx_model_sha256(this.live(), p));
      return this.m.UTF8ToString(p);
    });
  }

  tokenize(text: string | Uint8Array, options: TokenizeOptions = {}): Int32Array {
    const m = this.m;
    const bytes = typeof text === "string" ? utf8.encode(text) : text;
    return withBytes(m, bytes, (tp) => {
      let cap = bytes.length + 16;
      for (;;) {
        const ids = withScratch(m, 4 + 4 * cap, (p) => {
          const st = m._lmx_tokenize(this.live(), tp, bytes.length, options.addSpecial ?? true ? 1 : 0,
                                     options.parseSpecial ? 1 : 0, p + 4, cap, p);
          const n = m.HEAPU32[p >>> 2];
          if (st === LMX_ERR_BUFFER_TOO_SMALL) { cap = n; return undefined; }
          check(m, st);
          return m.HEAP32.slice((p + 4) >>> 2, ((p + 4) >>> 2) + n);
        });
        if (ids) return ids;
      }
    });
  }

  /** Token ids to text (invalid UTF-8 as U+FFFD); detokenizeBytes gives the raw bytes. */
  detokenize(ids: ArrayLike<number>): string {
    return utf8Decoder.decode(this.detokenizeBytes(ids));
  }

  detokenizeBytes(ids: ArrayLike<number>): Uint8Array {
    const m = this.m;
    return withIds(m, ids, (ip) => {
      let cap = 16 * ids.length + 16;
      for (;;) {
        const out = withScratch(m, 4 + cap, (p) => {
          const st = m._lmx_detokenize(this.live(), ip, ids.length, p + 4, cap, p);
          const n = m.HEAPU32[p >>> 2];
          if (st === LMX_ERR_BUFFER_TOO_SMALL) { cap = n; return undefined; }
          check(m, st);
          return m.HEAPU8.slice(p + 4, p + 4 + n);
        });
        if (out) return out;
      }
    });
  }

  /** The logits of every position of ids (one forward pass from position 0): ids.length x nVocab floats. */
  logits(ids: ArrayLike<number>, options: LogitsOptions = {}): Float32Array {
    const m = this.m;
    const n = ids.length, nv = this.info.nVocab;
    return this.withSession(options.nCtx ?? Math.max(n, 1), options.deterministic ?? true, (s) =>
      withIds(m, ids, (ip) => withScratch(m, 4 + 4 * n * nv, (p) => {
        check(m, m._lmx_logits(s, ip, n, 0, p + 4, n * nv, p));
        return m.HEAPF32.slice((p + 4) >>> 2, ((p + 4) >>> 2) + n * nv);
      })));
  }

  /**
   * Natural-log probability of each token given the ones before it (deterministic mode):
   * logprobs[i] belongs to tokens[i + 1]. Text is tokenized with the model's BOS.
   */
  logprobs(text: string | Uint8Array | ArrayLike<number>, options: { nCtx?: number } = {}): { tokens: Int32Array; logprobs: Float64Array } {
    const m = this.m;
    const tokens = typeof text === "string" || text instanceof Uint8Array ? this.tokenize(text) : Int32Array.from(text);
    if (tokens.length === 0) throw new LmxError("logprobs: no tokens");
    const logprobs = this.withSession(options.nCtx ?? tokens.length, true, (s) =>
      withIds(m, tokens, (ip) => withScratch(m, 8 + 8 * tokens.length, (p) => {
        const out = (p + 8) >>> 0;
        check(m, m._lmx_logprobs(s, ip, tokens.length, out, tokens.length, p));
        return new Float64Array(m.HEAPU8.buffer.slice(out, out + 8 * m.HEAPU32[p >>> 2]));
      })));
    return { tokens, logprobs };
  }

  /**
   * Generates text after prompt, yielding pieces as they become final (complete UTF-8).
   * The event loop runs between tokens; breaking out of the loop stops generation.
   */
  async *generate(prompt: string, options: GenerateOptions = {}): AsyncGenerator<string, void, undefined> {
    const m = this.m;
    const session = this.createSession(options.nCtx ?? 2048, false);
    let gen = 0;
    try {
      gen = withBytes(m, utf8.encode(prompt), (pp, len) => withScratch(m, 40, (p) => {
        const params = p + 8;  // lmx_generate_params: i32, f32 x1, i32, f32 x3, (pad) u64 at +24
        m.HEAP32[params >>> 2] = options.maxTokens ?? 128;
        const f = new Float32Array(m.HEAPU8.buffer, params, 6);
        f[1] = options.temperature ?? 0.8;
        m.HEAP32[(params + 8) >>> 2] = options.topK ?? 40;
        f[3] = options.topP ?? 0.95;
        f[4] = options.minP ?? 0.05;
        f[5] = options.repeatPenalty ?? 1.0;
        const seed = BigInt.asUintN(64, BigInt(options.seed ?? 0));
        m.HEAPU32[(params + 24) >>> 2] = Number(seed & 0xffffffffn);
        m.HEAPU32[(params + 28) >>> 2] = Number(seed >> 32n);
        check(m, m._lmx_generate_start(session, pp, len, params, p));
        return m.HEAPU32[p >>> 2];
      }));
      const cap = 256;
      const scratch = m._malloc(8 + cap) >>> 0;
      try {
        for (;;) {
          check(m, m._lmx_generate_next(gen, scratch + 8, cap, scratch, scratch + 4));
          const n = m.HEAPU32[scratch >>> 2], done = m.HEAP32[(scratch + 4) >>> 2];
          if (n > 0) yield utf8Decoder.decode(m.HEAPU8.slice(scratch + 8, scratch + 8 + n));
          if (done) return;
          await nextTick();
        }
      } finally {
        m._free(scratch);
      }
    } finally {
      if (gen) m._lmx_generator_free(gen);
      m._lmx_session_free(session);
    }
  }

  /** Lossless compression with the model (lmx's container format, the same bytes as `lmx compress`). */
  compress(data: Uint8Array, options: CompressOptions = {}): Uint8Array {
    const m = this.m;
    return withBytes(m, data, (dp, len) => takeBuffer(m, (out, outLen) =>
      m._lmx_compress(this.live(), dp, len, options.chunkBytes ?? 0, out, outLen)));
  }

  /** Restores compress()'s input; refuses a container made with another model, detects corruption. */
  decompress(container: Uint8Array): Uint8Array {
    const m = this.m;
    return withBytes(m, container, (dp, len) => takeBuffer(m, (out, outLen) =>
      m._lmx_decompress(this.live(), dp, len, out, outLen)));
  }

  /** The kernel table a session runs on ("wasm_simd128"). */
  isa(): string {
    return this.withSession(16, false, (s) => this.m.UTF8ToString(this.m._lmx_session_isa(s)));
  }

  free(): void {
    if (this.handle) this.m._lmx_model_free(this.handle);
    this.handle = 0;
  }

  private live(): number {
    if (!this.handle) throw new LmxError("the model was freed");
    return this.handle;
  }

  private createSession(nCtx: number, deterministic: boolean): number {
    return withScratch(this.m, 4, (p) => {
      check(this.m, this.m._lmx_session_create_ex(this.live(), 1, nCtx, deterministic ? LMX_SESSION_DETERMINISTIC : 0, p));
      return this.m.HEAPU32[p >>> 2];
    });
  }

  private withSession<T>(nCtx: number, deterministic: boolean, f: (session: number) => T): T {
    const s = this.createSession(nCtx, deterministic);
    try {
      return f(s);
    } finally {
      this.m._lmx_session_free(s);
    }
  }
}

// ---- helpers over the WASM heap ----

function lastError(m: LmxWasmModule): string {
  const msg = m.UTF8ToString(m._lmx_last_error());
  if (/bad_alloc|out of memory/i.test(msg))
    return `${msg} (WebAssembly memory is limited to 4 GiB; this model and its buffers do not fit)`;
  return msg;
}

function check(m: LmxWasmModule, status: number): void {
  if (status !== 0) throw new LmxError(lastError(m));
}

function allocOrThrow(m: LmxWasmModule, size: number, what: string): number {
  const p = size < MAX_WASM_MEMORY ? m._lmx_alloc(size) >>> 0 : 0;
  if (!p)
    throw new LmxError(`${what}: cannot allocate ${size} bytes in WebAssembly memory (at most 4 GiB for ` +
                       `everything: the model, its KV cache and buffers); use a smaller model`);
  return p;
}

function withScratch<T>(m: LmxWasmModule, size: number, f: (p: number) => T): T {
  const p = allocOrThrow(m, size, "scratch buffer");
  try {
    return f(p);
  } finally {
    m._lmx_free(p);
  }
}

function withBytes<T>(m: LmxWasmModule, bytes: Uint8Array, f: (p: number, len: number) => T): T {
  return withScratch(m, bytes.length, (p) => {
    m.HEAPU8.set(bytes, p);
    return f(p, bytes.length);
  });
}

function withIds<T>(m: LmxWasmModule, ids: ArrayLike<number>, f: (p: number) => T): T {
  return withScratch(m, 4 * ids.length, (p) => {
    m.HEAP32.set(ids, p >>> 2);
    return f(p);
  });
}

// Calls f(outPtrPtr, outLenPtr), copies the buffer the core returned and frees it.
function takeBuffer(m: LmxWasmModule, f: (out: number, outLen: number) => number): Uint8Array {
  return withScratch(m, 8, (p) => {
    check(m, f(p, p + 4));
    const data = m.HEAPU32[p >>> 2], len = m.HEAPU32[(p + 4) >>> 2];
    try {
      return m.HEAPU8.slice(data, data + len);
    } finally {
      m._lmx_free(data);
    }
  });
}

function sourceUrl(source: string | URL): URL | undefined {
  if (source instanceof URL) return source;
  if (/^(https?|file|blob|data):/i.test(source)) return new URL(source);
  if (!isNode) return new URL(source, globalThis.location?.href);
  return undefined;  // a file path
}

// Streams a URL into the WASM heap (straight into place when the size is known).
async function fetchInto(m: LmxWasmModule, url: URL, onProgress?: LoadOptions["onProgress"]): Promise<{ data: number; size: number }> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new LmxError(`${url.href}: HTTP ${response.status} ${response.statusText}`);
  const header = response.headers.get("content-length");
  const total = header && !response.headers.get("content-encoding") ? Number(header) : undefined;
  let cap = total ?? 64 << 20;
  let data = allocOrThrow(m, cap, url.href);
  let size = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.length > cap) {  // unknown or wrong length: grow
        const grown = allocOrThrow(m, Math.max(2 * cap, size + value.length), url.href);
        m.HEAPU8.copyWithin(grown, data, data + size);
        m._lmx_free(data);
        data = grown;
        cap = Math.max(2 * cap, size + value.length);
      }
      m.HEAPU8.set(value, data + size);
      size += value.length;
      onProgress?.(size, total);
    }
  } catch (e) {
    m._lmx_free(data);
    throw e;
  }
  return { data, size };
}

// Reads a file (Node) into the WASM heap in pieces, with progress.
async function readInto(m: LmxWasmModule, path: string | URL, onProgress?: LoadOptions["onProgress"]): Promise<{ data: number; size: number }> {
  if (!isNode) throw new LmxError(`${String(path)}: file paths need Node; pass a URL or the bytes`);
  const fs = await import("node:fs/promises");
  const file = await fs.open(path, "r").catch((e: Error) => {
    throw new LmxError(`cannot open model ${String(path)}: ${e.message}`);
  });
  try {
    const size = (await file.stat()).size;
    const data = allocOrThrow(m, size, String(path));
    try {
      const piece = 16 << 20;
      for (let done = 0; done < size;) {
        const n = Math.min(piece, size - done);
        // read into a fresh view each time: the heap may have grown meanwhile
        const { bytesRead } = await file.read(m.HEAPU8.subarray(data + done, data + done + n), 0, n, done);
        if (bytesRead === 0) throw new LmxError(`${String(path)}: file shrank while reading`);
        done += bytesRead;
        onProgress?.(done, size);
      }
    } catch (e) {
      m._lmx_free(data);
      throw e;
    }
    return { data, size };
  } finally {
    await file.close();
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  const digest = new Uint8Array(await subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Yields to the event loop between tokens. Browsers clamp nested setTimeout(0) to 4 ms,
// which cost Chromium 4 ms a token (41 instead of 50 tokens/s); a MessageChannel message
// is a task without that clamp.
const browserTick = isNode ? undefined : new MessageChannel();
const browserWaiters: Array<() => void> = [];
if (browserTick) browserTick.port1.onmessage = () => browserWaiters.shift()?.();

function nextTick(): Promise<void> {
  return new Promise((resolve) => {
    if (!browserTick) {
      setImmediate(resolve);
      return;
    }
    browserWaiters.push(resolve);
    browserTick.port2.postMessage(0);
  });
}

/** Node: the default model file, $LMX_HOME (default ~/.cache/lmx/models)/SmolLM2-135M-Instruct.Q4_1.gguf, as the native build. */
export function defaultModelPath(): string {
  if (!isNode) throw new LmxError("defaultModelPath() needs Node");
  const home = process.env.LMX_HOME || `${process.env.HOME ?? "."}/.cache/lmx/models`;
  return `${home}/SmolLM2-135M-Instruct.Q4_1.gguf`;
}

/** Whether this JavaScript engine runs WebAssembly SIMD128 (the module needs it). */
export function simdSupported(): boolean {
  // v128.const 0; drop — a minimal module that only validates with SIMD
  const probe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 23, 1, 21, 0, 253, 12,
                                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 26, 11]);
  return WebAssembly.validate(probe);
}
