#!/usr/bin/env bash
# `ram prepare` on 1, 2 and 3 ranks writes the same examples as the source says (checked
# with h5py by an independent Python reader), and a broken reference proves the check fails.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/data.jsonl" <<'PY'
import json, sys, random
random.seed(3)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i in range(157):
        n = random.randint(0, 40)
        f.write(json.dumps({"id": f"ex-{i}", "instruction": f"Say {'é' * n}🙂 #{i}",
                            "output": "x" * random.randint(0, 30), "rejected": "" if i % 5 else "no"},
                           ensure_ascii=False) + "\n")
PY
template=$'\n\nHuman: {prompt}\n\nAssistant: '
# On the command line a value is YAML: a string with ': ' in it is written quoted.
template_yaml='"\n\nHuman: {prompt}\n\nAssistant: "'
common=(smoke "dataset.path=$tmp/data.jsonl" dataset.prompt_key=instruction
        dataset.chosen_key=output dataset.rejected_key=rejected dataset.id_key=id
        "dataset.prompt_template=$template_yaml")
for np in 1 2 3; do
  mpirun -np $np --oversubscribe "$RAM_BIN" prepare "${common[@]}" "prepare.out=$tmp/np$np.h5"
done
/usr/bin/python3 "$RAM_SOURCE_DIR/tests/python/check_prepare.py" "$tmp/data.jsonl" "$template" \
  "$tmp/np1.h5" "$tmp/np2.h5" "$tmp/np3.h5"
# The checker can fail: a different template must be caught.
if /usr/bin/python3 "$RAM_SOURCE_DIR/tests/python/check_prepare.py" "$tmp/data.jsonl" "{prompt}" "$tmp/np2.h5" >/dev/null; then
  echo "FAIL: checker accepted a wrong template"; exit 1
fi
test ! -e "$tmp/np2.h5.tmp"* 2>/dev/null || { echo "FAIL: temp file left behind"; exit 1; }
echo "ok"
