// The chat page lmx serve itself serves at / , in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core, which downloads no browser): the model
// picker lists the served model, a message streams the answer the API gives into the log,
// Stop ends a long answer and frees its slot, and the screenshot shows the conversation.
// The page samples; the test makes its requests greedy (temperature 0, rewritten on the
// way out) so the answers can be compared with the API's.
// LMX_CHAT_SCREENSHOT=file.png keeps the screenshot; LMX_CHROMIUM overrides the browser.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { darkPixels, decodePng } from "../../../bindings/js/test/png.mjs";
import { Server, missing, model, modelName, waitUntil } from "./server.mjs";

const chromiumPath = process.env.LMX_CHROMIUM || "/usr/bin/chromium";
const skip = missing(model, chromiumPath);

describe("chat page in headless Chromium", { skip }, () => {
  let server, browser, tab;
  const pageErrors = [];
  before(async () => {
    server = await Server.start();
    // root in CI: Chromium's sandbox needs an unprivileged user, hence --no-sandbox
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
    tab = await browser.newPage({ viewport: { width: 900, height: 700 } });
    tab.on("pageerror", (e) => pageErrors.push(e.message));
    tab.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
    await tab.route("**/v1/chat/completions", (route) =>
      route.continue({ postData: JSON.stringify({ ...JSON.parse(route.request().postData()), temperature: 0 }) }));
    await tab.goto(server.url + "/");
  });

  // The API's greedy answer to a conversation, as the page sends it.
  async function greedy(messages) {
    const r = await fetch(server.url + "/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" },
                                                               body: JSON.stringify({ model: modelName, messages, temperature: 0 }) });
    return (await r.json()).choices[0].message.content;
  }
  const question = "What is 2 + 2?", count = "Write the numbers from 1 to 300, one per line.";
  after(async () => {
    await browser?.close();
    assert.equal(await server?.stop(), 0);
  });

  test("the model picker lists the served model", async () => {
    await tab.waitForFunction(() => document.querySelectorAll("#model option").length > 0, null, { timeout: 10_000 });
    assert.deepEqual(await tab.locator("#model option").allTextContents(), [modelName]);
  });

  test("a message streams an answer into the log", async () => {
    await tab.fill("#input", question);
    await tab.press("#input", "Enter");
    await tab.waitForFunction(() => document.querySelector("#send").disabled === false &&
                              document.querySelectorAll("#log .assistant").length === 1, null, { timeout: 60_000 });
    assert.equal(await tab.textContent("#log .user"), question);
    const answer = await tab.textContent("#log .assistant");
    assert.match(answer, /\p{L}{2}/u, "no words in the answer");
    assert.equal(answer, await greedy([{ role: "user", content: question }]));
    assert.equal(await tab.locator("#log .error").count(), 0);
  });

  test("Stop ends a long answer and frees its slot", async () => {
    await tab.fill("#input", count);
    await tab.click("#send");
    // some of the answer has streamed in
    await tab.waitForFunction(() => (document.querySelectorAll("#log .assistant")[1]?.textContent.length ?? 0) > 20, null,
                              { timeout: 30_000 });
    assert.equal(await tab.isEnabled("#stop"), true);
    await tab.click("#stop");
    await tab.waitForFunction(() => document.querySelector("#send").disabled === false, null, { timeout: 10_000 });
    const partial = await tab.locator("#log .assistant").nth(1).textContent();
    assert.ok(await waitUntil(async () => (await server.metric("lmx_active_requests")) === 0, 3000), "the slot was not freed");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await tab.locator("#log .assistant").nth(1).textContent(), partial, "text kept arriving after Stop");
    const full = await greedy([{ role: "user", content: question }, { role: "assistant", content: await tab.textContent("#log .assistant") },
                               { role: "user", content: count }]);
    assert.ok(full.startsWith(partial) && partial.length < full.length,
              `after Stop the page shows ${partial.length} of the ${full.length} characters of the answer`);
  });

  test("the screenshot shows the conversation", async () => {
    // the log follows the long answer down; its first exchange is what this checks
    await tab.evaluate(() => { document.querySelector("#log").scrollTop = 0; });
    const png = await tab.screenshot({ type: "png" });
    if (process.env.LMX_CHAT_SCREENSHOT) writeFileSync(process.env.LMX_CHAT_SCREENSHOT, png);
    const image = decodePng(png);
    assert.deepEqual([image.width, image.height], [900, 700]);
    for (const sel of ["#log .user >> nth=0", "#log .assistant >> nth=0", "h1"]) {
      const dark = darkPixels(image, await tab.locator(sel).boundingBox());
      assert.ok(dark > 50, `${dark} dark pixels in ${sel}: its text is not painted`);
    }
    assert.deepEqual(pageErrors, []);
  });
});
