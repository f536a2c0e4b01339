#!/usr/bin/env bash
# Build the native matmul addon (native/blas_matmul.c → build/native/tfjs_lens_blas.node) by hand.
# npm ci / npm install already do this (package.json "install": scripts/install_native.mjs); this
# wrapper is the strict form: it exits 1 when nothing was built (no compiler, no Node headers, no
# OpenBLAS, or a refused reference BLAS), with the reason on stderr.
# Use: bash scripts/build_native_matmul.sh [out.node]     (OPENBLAS_LIB=<lib> picks the BLAS file)
set -euo pipefail
cd "$(dirname "$0")/.."
exec node scripts/install_native.mjs --strict ${1:+--out "$1"}
