// Real `lmx serve` processes on 127.0.0.1 (port 0: the server picks one and says which in
// its "listening" log event), as tests/server/conftest.py starts them for pytest.
// The binary is $LMX_BIN or build/release/bin/lmx; the models are the installed defaults
// (the tests skip loudly without them, and fail under CI=1).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const lmx = process.env.LMX_BIN || join(repo, "build/release/bin/lmx");
const home = process.env.LMX_HOME || join(homedir(), ".cache/lmx/models");
export const model = join(home, "SmolLM2-135M-Instruct.Q4_1.gguf");
export const modelName = "SmolLM2-135M-Instruct.Q4_1";
export const embedder = join(home, "all-minilm-l6-v2");

// false when everything is there, else the reason to skip (an error under CI=1)
export function missing(...paths) {
  const gone = [lmx, ...paths].filter((p) => !existsSync(p));
  if (gone.length === 0) return false;
  const why = `missing: ${gone.join(", ")} (make build, scripts/setup.sh)`;
  if (process.env.CI) throw new Error(why);
  return `*** SKIPPED: ${why} ***`;
}

export class Server {
  static start(...args) {
    return new Promise((ok, fail) => {
      const s = new Server();
      s.proc = spawn(lmx, ["serve", "--port", "0", "-t", "1", "-c", "1024", "--model", model, ...args],
                     { stdio: ["ignore", "ignore", "pipe"] });
      s.log = [];
      let rest = "";
      const timer = setTimeout(() => fail(new Error("lmx serve did not start:\n" + s.log.join("\n"))), 30_000);
      s.proc.stderr.on("data", (d) => {
        const lines = (rest + d).split("\n");
        rest = lines.pop();
        for (const line of lines) {
          s.log.push(line);
          try {
            const e = JSON.parse(line);
            if (e.event === "listening") {
              s.url = e.url;
              clearTimeout(timer);
              ok(s);
            }
          } catch { /* not a JSON log line */ }
        }
      });
      s.proc.on("exit", (code) => { clearTimeout(timer); fail(new Error(`lmx serve exited with ${code}:\n${s.log.join("\n")}`)); });
    });
  }

  // A Prometheus gauge or counter's value (the first series of that name).
  async metric(name) {
    const text = await (await fetch(this.url + "/metrics")).text();
    const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
    return line === undefined ? undefined : Number(line.split(" ").at(-1));
  }

  // SIGTERM, then the exit code (a graceful shutdown exits 0).
  stop() {
    if (this.proc.exitCode !== null) return Promise.resolve(this.proc.exitCode);
    return new Promise((ok) => {
      this.proc.removeAllListeners("exit");
      this.proc.on("exit", (code) => ok(code));
      this.proc.kill("SIGTERM");
    });
  }
}

export async function waitUntil(predicate, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
