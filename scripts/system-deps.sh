#!/usr/bin/env bash
# System packages the test suite needs beyond Python: Debian's Chromium (browser tests of the
# app; never a downloaded browser) and poppler-utils (pdftoppm renders report PDFs).
set -u
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium chromium-driver)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "coopsim: please install ${missing[*]} with your package manager (needed by the tests)" >&2
    exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "coopsim: installing ${missing[*]} (apt-get)"
$SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null \
    || echo "coopsim: could not install ${missing[*]}; the browser/PDF tests will fail" >&2
