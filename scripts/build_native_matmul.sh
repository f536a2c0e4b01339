#!/usr/bin/env bash
# Build the native-matmul prototype (native/blas_matmul.c → build/native/tfjs_lens_blas.node).
# Needs a C compiler, Node's headers (shipped with the Node binary distribution in include/node)
# and the OpenBLAS runtime library (Debian: libopenblas0-pthread). No node-gyp, no download.
# Use: bash scripts/build_native_matmul.sh [out.node]
#      TFJS_LENS_NATIVE_MATMUL=build/native/tfjs_lens_blas.node npx tsx bench/forward.ts
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-build/native/tfjs_lens_blas.node}"
node_include="$(node -p "require('path').join(process.execPath, '..', '..', 'include', 'node')")"
blas="${OPENBLAS_LIB:-}"
if [ -z "$blas" ]; then
  for f in /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 /usr/lib/x86_64-linux-gnu/libopenblas.so.0 \
           /usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0 /usr/lib/aarch64-linux-gnu/libopenblas.so.0; do
    if [ -e "$f" ]; then blas="$f"; break; fi
  done
fi
[ -f "$node_include/node_api.h" ] || { echo "build_native_matmul: no node_api.h under $node_include" >&2; exit 1; }
[ -n "$blas" ] && [ -e "$blas" ] || { echo "build_native_matmul: OpenBLAS runtime library not found (set OPENBLAS_LIB)" >&2; exit 1; }
command -v cc >/dev/null || { echo "build_native_matmul: no C compiler (cc)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
cc -O2 -fPIC -shared -Wall -Wextra -I"$node_include" native/blas_matmul.c -o "$tmp" "$blas" -Wl,-rpath,"$(dirname "$blas")"
mv "$tmp" "$out"
echo "$out"
