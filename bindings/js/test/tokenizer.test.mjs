// Token ids equal llama.cpp's for every case of tests/goldens/tokenizer/smollm2.json (as
// tests/tokenizer/test_smollm2.cpp checks natively), and decode(encode(x)) == x.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { repo, skipNoModel, defaultModel } from "./helpers.mjs";

const golden = JSON.parse(readFileSync(`${repo}/tests/goldens/tokenizer/smollm2.json`, "utf8"));

test("ids match the committed tokenizer goldens", { skip: skipNoModel }, async () => {
  const model = await defaultModel();
  assert.equal(model.info.nVocab, golden.n_vocab);
  assert.ok(golden.cases.length > 200);
  for (const c of golden.cases) {
    const ids = Array.from(model.tokenize(c.text, { addSpecial: c.add_special, parseSpecial: c.parse_special }));
    assert.deepEqual(ids, c.ids, `${JSON.stringify(c.text)} add_special=${c.add_special} parse_special=${c.parse_special}`);
  }
});

test("detokenize inverts tokenize", { skip: skipNoModel }, async () => {
  const model = await defaultModel();
  for (const text of ["Hello world", "naïve café 日本語 🙂", "  spaces\tand\nlines  "])
    assert.equal(model.detokenize(model.tokenize(text, { addSpecial: false })), text);
});
