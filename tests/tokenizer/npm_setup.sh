#!/bin/sh
# npm_setup.sh SRC DEST — installs the pinned HuggingFace `tokenizers` Node binding
# (SRC/package.json + package-lock.json) into DEST/node_modules with `npm ci`, once: a later
# run with the same lock file reuses it. Never touches the source tree. Any failure (no npm,
# no route to the npm registry) is a test FAILURE with a message saying what to do.
set -u
src=$1
dest=$2
fail() {
  echo "tokenizer parity setup: error: $1" >&2
  echo "tokenizer parity setup: hint: $2" >&2
  exit 1
}
command -v node >/dev/null 2>&1 || fail "node is not installed" "launch/bootstrap.sh installs nodejs and npm (apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed" "launch/bootstrap.sh installs nodejs and npm (apt-get install nodejs npm)"
mkdir -p "$dest" || fail "cannot create $dest" "check the build directory"
if [ -f "$dest/node_modules/tokenizers/package.json" ] && cmp -s "$src/package-lock.json" "$dest/.installed-lock.json"; then
  echo "tokenizer parity setup: tokenizers $(node -p "require('$dest/node_modules/tokenizers/package.json').version") already installed in $dest"
  exit 0
fi
rm -f "$dest/.installed-lock.json"
cp "$src/package.json" "$src/package-lock.json" "$dest/" || fail "cannot copy package files to $dest" "check the build directory"
cd "$dest" || exit 1
if ! npm ci --no-audit --no-fund --loglevel=error; then
  fail "npm ci failed in $dest (see above)" "the parity test needs the npm registry (registry.npmjs.org) once; later runs reuse $dest/node_modules"
fi
node -e "require('tokenizers')" || fail "the installed tokenizers package does not load in node $(node --version)" "see the error above"
cp package-lock.json .installed-lock.json
echo "tokenizer parity setup: installed tokenizers $(node -p "require('./node_modules/tokenizers/package.json').version") in $dest"
