#!/usr/bin/env bash
# System packages the test suite needs beyond Python: Debian's Chromium (browser tests of the
# app; never a downloaded browser), poppler-utils (pdftoppm and pdftotext read report PDFs) and
# the Pango and HarfBuzz libraries WeasyPrint typesets report PDFs with.
set -u
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium chromium-driver)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
libs=$(PATH="$PATH:/sbin:/usr/sbin" ldconfig -p 2>/dev/null)
for pair in libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0 \
    libharfbuzz-subset.so.0:libharfbuzz-subset0; do
    grep -qF "${pair%%:*}" <<<"$libs" || missing+=("${pair#*:}")
done
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
