#!/bin/sh
# Rebuilds the web client's rule engine: package questionnaire compiled to
# WebAssembly (static/questionnaire.wasm) and Go's JavaScript support file
# for it (static/wasm_exec.js), both committed so that building the server
# needs no extra step. TestWasmUpToDate fails when they are stale.
#
# Usage: webclient/build.sh   (or: go generate ./webclient/)
set -eu
cd "$(dirname "$0")"
root=$(go env GOROOT)
exec_js="$root/lib/wasm/wasm_exec.js"
[ -f "$exec_js" ] || exec_js="$root/misc/wasm/wasm_exec.js"
tmp=static/questionnaire.wasm.tmp
GOOS=js GOARCH=wasm go build -trimpath -buildvcs=false -ldflags="-s -w" -o "$tmp" ./wasm
mv "$tmp" static/questionnaire.wasm
cp "$exec_js" static/wasm_exec.js.tmp
mv static/wasm_exec.js.tmp static/wasm_exec.js
echo "built static/questionnaire.wasm ($(wc -c < static/questionnaire.wasm) bytes) with $(go env GOVERSION)"
