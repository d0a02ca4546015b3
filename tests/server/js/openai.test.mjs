// lmx serve with the official `openai` npm package (as Node applications use it): chat and
// text completions, streamed and whole, usage and finish reasons, embeddings (the client
// asks for base64 by default and decodes it itself), errors as the client's typed
// exceptions, and a stream the client aborts freeing its slot.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { Server, embedder, missing, modelName, model, waitUntil } from "./server.mjs";

const skip = missing(model, embedder);

describe("openai npm client", { skip }, () => {
  let server, client;
  before(async () => {
    server = await Server.start("--embedding-model", embedder);
    client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "none", maxRetries: 0, timeout: 120_000 });
  });
  after(async () => assert.equal(await server?.stop(), 0));

  const messages = [{ role: "user", content: "Name three colours." }];

  test("lists the served models", async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids.sort(), ["all-minilm-l6-v2", modelName].sort());
  });

  test("chat: a streamed answer equals the whole one, usage and finish reason exact", async () => {
    const whole = await client.chat.completions.create({ model: modelName, messages, max_tokens: 12, temperature: 0 });
    const c = whole.choices[0];
    assert.equal(whole.object, "chat.completion");
    assert.equal(c.message.role, "assistant");
    assert.equal(c.finish_reason, "length");
    assert.equal(whole.usage.completion_tokens, 12);
    assert.ok(whole.usage.prompt_tokens > 5);
    assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + 12);

    const stream = await client.chat.completions.create({ model: modelName, messages, max_tokens: 12, temperature: 0, stream: true,
                                                          stream_options: { include_usage: true } });
    let text = "", finish = null, usage = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const ch of chunk.choices) {
        text += ch.delta.content ?? "";
        finish = ch.finish_reason ?? finish;
      }
    }
    assert.equal(text, c.message.content);
    assert.equal(finish, "length");
    assert.deepEqual({ ...usage, prompt_tokens_details: undefined }, { ...whole.usage, prompt_tokens_details: undefined });
  });

  test("text completion with a stop string and logprobs", async () => {
    const r = await client.completions.create({ model: modelName, prompt: "1, 2, 3, 4,", max_tokens: 30, temperature: 0,
                                                stop: [" 8"], logprobs: 2 });
    const c = r.choices[0];
    assert.equal(c.finish_reason, "stop");
    assert.equal(c.text, " 5, 6, 7,");
    assert.equal(c.logprobs.tokens.join(""), c.text);
    assert.ok(c.logprobs.token_logprobs.every((lp) => lp <= 0));
    assert.ok(c.logprobs.top_logprobs.every((t) => Object.keys(t).length === 2));
  });

  test("embeddings: the client's default base64 and floats are the same unit vectors", async () => {
    const input = ["A cat sat on the mat.", "Stock markets fell sharply today."];
    const b64 = await client.embeddings.create({ model: "all-minilm-l6-v2", input });
    const floats = await client.embeddings.create({ model: "all-minilm-l6-v2", input, encoding_format: "float" });
    assert.equal(b64.data.length, 2);
    for (let i = 0; i < 2; i++) {
      const v = floats.data[i].embedding;
      assert.equal(v.length, 384);
      assert.deepEqual(b64.data[i].embedding, Array.from(new Float32Array(Float32Array.from(v))));
      assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
    }
    assert.ok(floats.usage.prompt_tokens > 10);
  });

  test("errors arrive as the client's typed exceptions", async () => {
    await assert.rejects(client.chat.completions.create({ model: "no-such-model", messages }),
                         (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && /no-such-model/.test(e.message));
    await assert.rejects(client.chat.completions.create({ model: modelName, messages: [] }),
                         (e) => e instanceof OpenAI.BadRequestError && e.param === "messages");
    await assert.rejects(client.completions.create({ model: modelName, prompt: "hi", max_tokens: 5000 }),
                         (e) => e instanceof OpenAI.BadRequestError && e.code === "context_length_exceeded");
  });

  test("a stream the client aborts frees its slot", async () => {
    const stream = await client.completions.create({ model: modelName, prompt: "1, 2, 3, 4, 5,", max_tokens: 900, temperature: 0,
                                                     stream: true });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.text) break;  // leaving the loop aborts the request
    }
    assert.ok(await waitUntil(async () => (await server.metric("lmx_active_requests")) === 0, 3000), "the slot was not freed");
  });
});

describe("openai npm client with an API key", { skip }, () => {
  let server;
  before(async () => { server = await Server.start("--api-key", "secret-key"); });
  after(async () => assert.equal(await server?.stop(), 0));

  test("a wrong key is AuthenticationError 401, the right one works", async () => {
    const wrong = new OpenAI({ baseURL: server.url + "/v1", apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    const right = new OpenAI({ baseURL: server.url + "/v1", apiKey: "secret-key", maxRetries: 0 });
    const r = await right.completions.create({ model: modelName, prompt: "Hello", max_tokens: 3 });
    assert.equal(r.usage.completion_tokens, 3);
  });
});
