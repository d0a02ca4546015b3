// Shared by the tests: the repository root, the default model (loaded once per file),
// and a loud skip when it is not installed.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Model, defaultModelPath } from "../dist/index.js";

export const repo = fileURLToPath(new URL("../../../", import.meta.url));
export const modelPath = defaultModelPath();
export const haveModel = existsSync(modelPath);
export const skipNoModel = haveModel ? false
  : `*** ${modelPath} not found (LMX_HOME, scripts/setup.sh): the model tests are NOT run ***`;

let model;
export async function defaultModel() {
  model ??= await Model.load(modelPath);
  return model;
}
