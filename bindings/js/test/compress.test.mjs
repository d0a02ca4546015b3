// Lossless round trips through the WASM build, and containers that cross between the
// native CLI (build/release/bin/lmx, when built) and Node in both directions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repo, modelPath, skipNoModel, defaultModel } from "./helpers.mjs";

// Small chunks keep the WASM run short (each chunk is one forward pass over its tokens);
// the chunk size travels in the container, so the CLI decodes it as is.
const chunkBytes = 512;
const seq1to1000 = new TextEncoder().encode(Array.from({ length: 1000 }, (_, i) => `${i + 1}\n`).join(""));

function random(n, seed) {  // xorshift32: the same bytes on every run
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const cases = {
  "empty": new Uint8Array(0),
  "one byte": Uint8Array.of(0x41),
  "seq 1 1000": seq1to1000,
  "random binary": random(300, 12345),
  "invalid UTF-8": Uint8Array.from([0x66, 0x6f, 0x80, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0x20, 0xf0, 0x9f, 0x98, 0x41, 0xed, 0xa0, 0x80, 0x0a]),
};

// Coding seq 1 1000 (3893 tokens) takes minutes in WASM: its container is made once and
// reused by the cross test below.
const containers = new Map();

for (const [name, data] of Object.entries(cases)) {
  test(`compress -> decompress round trip: ${name}`, { skip: skipNoModel }, async () => {
    const model = await defaultModel();
    const container = model.compress(data, { chunkBytes });
    containers.set(name, container);
    assert.deepEqual(model.decompress(container), data);
  });
}

test("a corrupted container is refused", { skip: skipNoModel }, async () => {
  const model = await defaultModel();
  const container = model.compress(new TextEncoder().encode("hello, world"), { chunkBytes });
  const bad = container.slice();
  bad[bad.length - 1] ^= 0x55;
  assert.throws(() => model.decompress(bad));
  assert.throws(() => model.decompress(container.subarray(0, 10)));
});

const lmx = join(repo, "build/release/bin/lmx");
const skipNoCli = skipNoModel || (existsSync(lmx) ? false : `*** ${lmx} not built: the native <-> Node container tests are NOT run ***`);

test("containers cross between the native CLI and Node, byte for byte", { skip: skipNoCli }, async () => {
  const model = await defaultModel();
  const dir = mkdtempSync(join(tmpdir(), "lmx-js-"));
  try {
    const input = join(dir, "seq.txt");
    writeFileSync(input, seq1to1000);
    // native -> Node
    execFileSync(lmx, ["compress", "-q", "-m", modelPath, "--chunk", String(chunkBytes), input, "-o", join(dir, "native.lmx")]);
    const native = new Uint8Array(readFileSync(join(dir, "native.lmx")));
    const fromNode = containers.get("seq 1 1000") ?? model.compress(seq1to1000, { chunkBytes });
    // Equal bytes: the round trip above already decoded exactly this container in Node.
    assert.deepEqual(fromNode, native, "Node and the native CLI made different containers from the same input");
    if (!containers.has("seq 1 1000")) assert.deepEqual(model.decompress(native), seq1to1000);
    // Node -> native
    writeFileSync(join(dir, "node.lmx"), fromNode);
    execFileSync(lmx, ["decompress", "-q", "-m", modelPath, join(dir, "node.lmx"), "-o", join(dir, "back.txt")]);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, "back.txt"))), seq1to1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
