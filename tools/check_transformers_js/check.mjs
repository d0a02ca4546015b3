/**
 * Proves that lmx's exported ONNX folders (`lmx export`, plus `lmx quantize` to
 * onnx/model_q4.onnx) run unchanged in the JavaScript ecosystem:
 *
 *  1. onnxruntime-node: one forward pass of onnx/model.onnx (prompt ids, empty
 *     past) whose last-position argmax must equal lmx's first generated token.
 *  2. @huggingface/transformers (transformers.js): the folder loaded from the
 *     local path only, greedy text-generation (no chat template) for each dtype,
 *     whose text must equal `lmx generate --temp 0` on the same ONNX file.
 *
 * Exits 1 on any mismatch, 2 on bad usage. .npmrc skips onnxruntime-node's
 * optional CUDA download (its CPU binaries ship in the package). Run (from this folder):
 *   npm ci
 *   node check.mjs --lmx ../../build/release/bin/lmx /tmp/tjs/smol \
 *     [--prompt "The capital of France is"] [--max-new-tokens 20] [--dtypes fp32,q4]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { AutoTokenizer, env, pipeline } from '@huggingface/transformers';

// transformers.js's file name for each dtype (its `dtype` option).
const ONNX_FILES = { fp32: 'model.onnx', q4: 'model_q4.onnx' };

function usage(message) {
  console.error(`${message}\nusage: node check.mjs --lmx LMX_BINARY [--prompt TEXT] ` +
                `[--max-new-tokens N] [--dtypes fp32,q4] MODEL_FOLDER`);
  process.exit(2);
}

function runLmx(lmx, args) {
  const result = spawnSync(lmx, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${lmx} ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  return result;
}

function lmxTokenIds(lmx, folder, text) {
  return runLmx(lmx, ['tokenize', '-m', folder, '--no-special', text])
    .stdout.trim().split(/\s+/).filter(Boolean).map(Number);
}

// `lmx generate` streams the continuation and ends it with one newline of its own.
function lmxGenerate(lmx, onnxPath, prompt, maxNewTokens) {
  const result = runLmx(lmx, ['generate', '-m', onnxPath, '-n', String(maxNewTokens),
                              '--temp', '0', '-p', prompt]);
  return { text: result.stdout.replace(/\n$/, ''), stats: result.stderr.trim() };
}

// One forward pass with an empty KV cache; returns the argmax of the last position's logits.
async function ortFirstToken(folder, promptIds) {
  const config = JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8'));
  const headDim = config.head_dim ?? config.hidden_size / config.num_attention_heads;
  const kvHeads = config.num_key_value_heads ?? config.num_attention_heads;
  const session = await ort.InferenceSession.create(path.join(folder, 'onnx', ONNX_FILES.fp32));
  const n = promptIds.length;
  const feeds = {};
  for (const name of session.inputNames) {
    if (name === 'input_ids') {
      feeds[name] = new ort.Tensor('int64', BigInt64Array.from(promptIds, BigInt), [1, n]);
    } else if (name === 'attention_mask') {
      feeds[name] = new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
    } else if (name === 'position_ids') {
      feeds[name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), [1, n]);
    } else if (name.startsWith('past_key_values.')) {
      feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
    } else {
      throw new Error(`onnxruntime-node: unexpected model input '${name}'`);
    }
  }
  const start = performance.now();
  const outputs = await session.run(feeds);
  const ms = performance.now() - start;
  const logits = outputs.logits;
  const vocab = logits.dims[2];
  const last = logits.data.subarray((n - 1) * vocab, n * vocab);
  let best = 0;
  for (let i = 1; i < vocab; ++i) if (last[i] > last[best]) best = i;
  await session.release();
  return { token: best, ms, inputs: session.inputNames.length, logitsDims: logits.dims };
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      lmx: { type: 'string' },
      prompt: { type: 'string', default: 'The capital of France is' },
      'max-new-tokens': { type: 'string', default: '20' },
      dtypes: { type: 'string', default: 'fp32,q4' },
    },
  });
  if (!values.lmx) usage('missing --lmx');
  if (positionals.length !== 1) usage('expected exactly one MODEL_FOLDER');
  const folder = path.resolve(positionals[0]);
  const prompt = values.prompt;
  const maxNewTokens = Number(values['max-new-tokens']);
  const dtypes = values.dtypes.split(',');
  for (const dtype of dtypes) {
    if (!(dtype in ONNX_FILES)) usage(`unknown dtype '${dtype}' (known: ${Object.keys(ONNX_FILES)})`);
    const file = path.join(folder, 'onnx', ONNX_FILES[dtype]);
    if (!existsSync(file)) usage(`missing ${file}`);
  }

  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(folder) + path.sep;
  const modelId = path.basename(folder);
  let failures = 0;
  const check = (ok, what) => {
    console.log(`${ok ? 'OK  ' : 'FAIL'} ${what}`);
    if (!ok) ++failures;
  };

  // The tokenizers must agree before any generated text can.
  const tokenizer = await AutoTokenizer.from_pretrained(modelId);
  const promptIds = Array.from(tokenizer.encode(prompt, { add_special_tokens: false }));
  const lmxPromptIds = lmxTokenIds(values.lmx, folder, prompt);
  check(promptIds.join(' ') === lmxPromptIds.join(' '),
        `prompt ids: transformers.js [${promptIds}] lmx [${lmxPromptIds}]`);

  // onnxruntime-node alone: the first greedy token of the fp32 export.
  const fp32 = lmxGenerate(values.lmx, path.join(folder, 'onnx', ONNX_FILES.fp32), prompt, maxNewTokens);
  const lmxFirst = lmxTokenIds(values.lmx, folder, prompt + fp32.text)[lmxPromptIds.length];
  const ortResult = await ortFirstToken(folder, lmxPromptIds);
  check(ortResult.token === lmxFirst,
        `onnxruntime-node first token ${ortResult.token} vs lmx ${lmxFirst} ` +
        `(${ortResult.inputs} inputs, logits [${ortResult.logitsDims}], forward ${ortResult.ms.toFixed(0)} ms)`);

  for (const dtype of dtypes) {
    const lmx = dtype === 'fp32' ? fp32
      : lmxGenerate(values.lmx, path.join(folder, 'onnx', ONNX_FILES[dtype]), prompt, maxNewTokens);
    const loadStart = performance.now();
    const generator = await pipeline('text-generation', modelId, { dtype, device: 'cpu' });
    const genStart = performance.now();
    const [output] = await generator(prompt, {
      max_new_tokens: maxNewTokens, do_sample: false, return_full_text: false,
    });
    const genMs = performance.now() - genStart;
    await generator.dispose();
    console.log(`[${dtype}] lmx:             ${JSON.stringify(lmx.text)}`);
    console.log(`[${dtype}] transformers.js: ${JSON.stringify(output.generated_text)} ` +
                `(load ${(genStart - loadStart).toFixed(0)} ms, generate ${genMs.toFixed(0)} ms)`);
    console.log(`[${dtype}] ${lmx.stats.split('\n').pop()}`);
    check(output.generated_text === lmx.text, `[${dtype}] transformers.js text equals lmx text`);
  }

  console.log(failures === 0 ? 'all checks passed' : `${failures} check(s) failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
