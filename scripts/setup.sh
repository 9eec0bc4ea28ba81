#!/usr/bin/env bash
# Create .venv in the repository root and install rfwatch into it (editable).
#   scripts/setup.sh [run|test]   (test also installs the test and dev extras)
#
# System packages (Debian, installed when missing and root or sudo is at hand):
#   reports (run):  Pango (WeasyPrint draws the PDF with it) and DejaVu fonts, which
#                   carry every Vietnamese letter with its stacked diacritics (without
#                   any font WeasyPrint crashes);
#   tests (test):   poppler-utils (pdftotext, pdftoppm, pdffonts read the PDFs back).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
mode=${1:-run}

system_packages() {
    command -v apt-get >/dev/null || return 0
    local want=()
    ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || want+=(libpango-1.0-0)
    ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || want+=(libpangoft2-1.0-0)
    command -v fc-list >/dev/null || want+=(fontconfig)
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || want+=(fonts-dejavu-core)
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] || want+=(fonts-dejavu-core)
    if [ "$mode" = test ]; then
        command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null \
            && command -v pdffonts >/dev/null || want+=(poppler-utils)
    fi
    [ ${#want[@]} -gt 0 ] || return 0
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo="sudo"
        else
            echo "setup: please install (apt-get install) ${want[*]}; reports need them" >&2
            return 0
        fi
    fi
    echo "setup: installing ${want[*]}" >&2
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "${want[@]}" >/dev/null
}

system_packages
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extras=""
[ "$mode" = test ] && extras="[dev]"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
