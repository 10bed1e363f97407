#!/usr/bin/env bash
# Installs what dwarfkit's tests and demo need on a fresh Debian 12 machine. Idempotent and quick when done already.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the real tools our output is judged by.
packages=(gcc gdb gdb-multiarch lldb-14 qemu-user llvm-14 lld-14 clang-14 binutils binutils-aarch64-linux-gnu
          mingw-w64 wine wine64 time)
# One command per package that proves it is installed.
probes=(gcc gdb gdb-multiarch lldb-14 qemu-aarch64 llvm-dwarfdump-14 ld.lld-14 clang-14 readelf aarch64-linux-gnu-ld
        x86_64-w64-mingw32-gcc wine /usr/lib/wine/wine64 /usr/bin/time)
missing=()
for i in "${!packages[@]}"; do
  command -v "${probes[$i]}" >/dev/null 2>&1 || missing+=("${packages[$i]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages: dwarfkit itself (editable) with its test dependencies.
if ! python3 -c "import dwarfkit, elftools, capstone, keystone, pytest, hypothesis, ruff, mypy
from importlib.metadata import version
assert tuple(int(p) for p in version('pyelftools').split('.')[:2]) >= (0, 33)
assert version('ruff') == '0.17.6' and version('mypy') == '2.4.1'" >/dev/null 2>&1 \
   || ! python3 -c "import dwarfkit.backends" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
fi
