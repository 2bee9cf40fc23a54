#!/usr/bin/env bash
# `ram eval` end to end on the demo task, with independent checks in Python:
#   - the byte-level tokenizer from `ram make-tokenizer` drives `ram make-tiny-model` and
#     `ram generate` (text prompts);
#   - `ram prepare` dumps the demo test split (chosen = concise, rejected = another style);
#     outputs = chosen (JSON array, "index") must score 1 everywhere; a baseline =
#     rejected (JSONL, "example_index") scores 0.5 exactly on the verbose ones (the text
#     has "The answer is"), 0 otherwise; the win rate of chosen over rejected is 1 and the
#     reverse 0; token lengths = byte lengths (byte-level tokenizer);
#   - 1 and 2 ranks write the same metrics.json;
#   - eval.group_by=kind: each kind's mean (kinds told apart by the prompts' wording here)
#     is the rejected outputs' verbose share × 0.5; a missing meta key is one error line.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ram=$RAM_BIN
py=/usr/bin/python3

"$ram" make-tokenizer --byte-level --out "$tmp/tok"
"$ram" make-tiny-model --arch llama --out "$tmp/model" --tokenizer "$tmp/tok" --hidden 32 --layers 1 \
  --heads 2 --intermediate 64
printf '{"prompt": "\\n\\nHuman: What is 2 + 3?\\n\\nAssistant: "}\n' > "$tmp/in.jsonl"
"$ram" generate --model "$tmp/model" --greedy --max-new-tokens 4 --input "$tmp/in.jsonl" --output "$tmp/gen.jsonl"
$py - "$tmp/gen.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1 and 1 <= len(rows[0]["ids"]) <= 4, rows
assert all(0 <= i < 259 for i in rows[0]["ids"]), rows
PY

ds=(dataset=demo dataset.split=test dataset.size=60 dataset.seed=5)
"$ram" prepare "${ds[@]}" "prepare.out=$tmp/data.h5"
$py - "$tmp" <<'PY'
import json, sys
import h5py
tmp = sys.argv[1]
def ragged(g, name):
    data, off = g[name][:], g[name + "_offsets"][:]
    return [bytes(data[off[i]:off[i + 1]]).decode("utf-8") for i in range(len(off) - 1)]
with h5py.File(f"{tmp}/data.h5", "r") as f:
    g = f["examples"]
    prompts, chosen, rejected = (ragged(g, k) for k in ("prompt_text", "chosen_text", "rejected_text"))
    index = [int(i) for i in g["index"][:]]
assert index == list(range(60))
good = [{"instruction": p, "output": c, "generator": "gold", "dataset": "demo", "index": i}
        for i, (p, c) in enumerate(zip(prompts, chosen))]
json.dump(good, open(f"{tmp}/good.json", "w"), indent=1)
with open(f"{tmp}/base.jsonl", "w") as f:
    for i, r in enumerate(rejected):
        f.write(json.dumps({"instruction": "", "output": r, "generator": "rejected", "example_index": i}) + "\n")
json.dump({"chosen": chosen, "rejected": rejected, "prompts": prompts}, open(f"{tmp}/texts.json", "w"))
PY

"$ram" eval "${ds[@]}" --outputs "$tmp/good.json" --compare "$tmp/base.jsonl" --out "$tmp/m1.json" \
  "eval.tokenizer=$tmp/tok" "eval.scores=$tmp/scores.jsonl"
mpirun -np 2 --oversubscribe "$ram" eval "${ds[@]}" --outputs "$tmp/good.json" --compare "$tmp/base.jsonl" \
  --out "$tmp/m2.json" "eval.tokenizer=$tmp/tok"
"$ram" eval "${ds[@]}" --outputs "$tmp/base.jsonl" --compare "$tmp/good.json" --out "$tmp/rev.json" \
  eval.group_by=kind
# A meta key the examples lack: one error line naming it.
if "$ram" eval "${ds[@]}" --outputs "$tmp/base.jsonl" --out "$tmp/bad.json" eval.group_by=colour \
    > "$tmp/bad.log" 2>&1; then
  echo "eval_cli: group_by on a missing meta key succeeded"; exit 1
fi
grep -q "no meta key 'colour'" "$tmp/bad.log" || { cat "$tmp/bad.log"; exit 1; }
test ! -e "$tmp/bad.json"

$py - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
t = json.load(open(f"{tmp}/texts.json"))
m1, m2, rev = (json.load(open(f"{tmp}/{n}.json")) for n in ("m1", "m2", "rev"))
n = len(t["chosen"])
def close(a, b, what):
    assert abs(a - b) < 1e-9, f"{what}: {a} != {b}"
assert m1["n"] == n and m1["generators"] == ["gold"], m1
for k in ("score", "correct", "preferred", "answered"):
    close(m1["judges"]["demo"][k]["mean"], 1.0, "demo." + k)
close(m1["judges"]["demo"]["evasive"]["mean"], 0.0, "demo.evasive")
close(m1["judges"]["overlap"]["exact"]["mean"], 1.0, "overlap.exact")
close(m1["primary_mean"], 1.0, "primary_mean")
lens = [len(c.encode()) for c in t["chosen"]]
close(m1["tokens"]["mean"], sum(lens) / n, "tokens.mean")
close(m1["judges"]["length"]["bytes"]["mean"], sum(lens) / n, "length.bytes.mean")
assert m1["tokens"]["max"] == max(lens)
c = m1["compare"]
assert (c["wins"], c["ties"], c["losses"], c["n"], c["unpaired"]) == (n, 0, 0, n, 0), c
close(c["win_rate"], 1.0, "win_rate")
verbose = sum("The answer is" in r for r in t["rejected"])
assert 0 < verbose < n, verbose
close(c["baseline_mean"], 0.5 * verbose / n, "baseline_mean")
close(rev["primary_mean"], 0.5 * verbose / n, "rev primary_mean")
r = rev["compare"]
assert (r["wins"], r["ties"], r["losses"]) == (0, 0, n), r
# Per kind (from the prompt's wording, independently of the dataset's meta): the rejected
# outputs score 0.5 exactly on their verbose members.
import re
kinds = {"add": r"What is \d+ \+", "sub": r"What is \d+ -", "mul": r"What is \d+ \*",
         "reverse": r"Reverse:", "sort": r"Sort:", "upper": r"upper case:", "count": r"How many letters"}
groups = {}
for i, (p, r) in enumerate(zip(t["prompts"], t["rejected"])):
    k = [k for k, rx in kinds.items() if re.search(rx, p)]
    assert len(k) == 1, (p, k)
    groups.setdefault(k[0], []).append(0.5 if "The answer is" in r else 0.0)
assert rev["group_by"] == "kind" and set(rev["groups"]) == set(groups), (rev["groups"].keys(), groups.keys())
for k, xs in groups.items():
    g = rev["groups"][k]
    assert g["n"] == len(xs), (k, g)
    close(g["demo.score"], sum(xs) / len(xs), "groups." + k)
m2.pop("outputs"); m1.pop("outputs")
assert m1 == m2, "1 and 2 ranks differ"
scores = [json.loads(l) for l in open(f"{tmp}/scores.jsonl")]
assert len(scores) == n and all(s["scores"]["demo.score"] == 1.0 for s in scores)
assert [s["example_index"] for s in scores] == list(range(n))
print(f"eval_cli: OK ({n} examples, {verbose} verbose baselines)")
PY
