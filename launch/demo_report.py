#!/usr/bin/python3
"""The demo's result table (and a PNG plot when matplotlib is there).

  demo_report.py RUN_DIR [RUN_DIR ...]

Reads RUN_DIR/eval/<system>/metrics.json (`ram eval`, demo judge) and
RUN_DIR/gen/<system>/outputs.h5 (generated tokens, decode seconds) for the systems the demo
runs; prints one markdown table (mean ± sd over the runs when several are given, e.g. one
per seed) and writes it to RUN_DIR/report.md, the plot to RUN_DIR/report.png.
Columns: judge score (1 = correct and concise, 0.5 = correct only), preferred-style rate,
correct rate, win rate vs the proposal alone (per-example judge score; ties count half),
tokens/s of the generation stage. When the evals grouped by task kind (eval.group_by=kind,
as configs/experiment/demo.yaml sets), a second table gives each system's correct rate per
kind: where a system's correct answers come from.
"""
import json
import math
import os
import sys

SYSTEMS = [("proposal", "proposal alone"), ("aligner", "aligner alone"), ("par", "RAM par"),
           ("par_kl", "RAM par_kl"), ("mds", "RAM mds"), ("reference", "proposal + SFT on S (upper ref.)")]


def load(run_dir, system):
    p = os.path.join(run_dir, "eval", system, "metrics.json")
    if not os.path.exists(p):
        return None
    m = json.load(open(p))
    demo = m["judges"]["demo"]
    row = {"score": demo["score"]["mean"], "preferred": demo["preferred"]["mean"],
           "correct": demo["correct"]["mean"], "n": m["n"]}
    row["kinds"] = {k: g["demo.correct"] for k, g in m.get("groups", {}).items()}
    c = m.get("compare")
    row["win"] = c["win_rate_ties_half"] if c else float("nan")
    try:
        import h5py
        with h5py.File(os.path.join(run_dir, "gen", system, "outputs.h5"), "r") as f:
            secs = float(f.attrs.get("decode_seconds", float("nan")))
            row["tok_s"] = float(f.attrs["generated_tokens"]) / secs if secs > 0 else float("nan")
    except Exception:
        row["tok_s"] = float("nan")
    return row


def mean_sd(xs):
    xs = [x for x in xs if not math.isnan(x)]
    if not xs:
        return float("nan"), float("nan")
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def fmt(ms, pct=False, digits=3):
    m, sd = ms
    if math.isnan(m):
        return "–"
    if pct:
        return f"{100 * m:.1f}%" + (f" ± {100 * sd:.1f}" if sd else "")
    return f"{m:.{digits}f}" + (f" ± {sd:.{digits}f}" if sd else "")


def main():
    runs = sys.argv[1:]
    if not runs:
        sys.exit("usage: demo_report.py RUN_DIR [RUN_DIR ...]")
    lines = [f"Demo task, {len(runs)} run(s): " + ", ".join(runs), "",
             "| system | judge score | preferred style | correct | win rate vs proposal | tokens/s |",
             "|---|---|---|---|---|---|"]
    plot = []
    for key, label in SYSTEMS:
        rows = [r for r in (load(d, key) for d in runs) if r]
        if not rows:
            continue
        col = {k: mean_sd([r[k] for r in rows]) for k in ("score", "preferred", "correct", "win", "tok_s")}
        lines.append(f"| {label} | {fmt(col['score'])} | {fmt(col['preferred'], True)} | {fmt(col['correct'], True)} "
                     f"| {fmt(col['win'], True)} | {fmt(col['tok_s'], digits=0)} |")
        plot.append((label, col["score"], col["preferred"]))
    kinds = sorted({k for key, _ in SYSTEMS for d in runs for k in (load(d, key) or {}).get("kinds", {})})
    if kinds:
        lines += ["", "Correct rate per task kind (mean over the runs):", "",
                  "| system | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
        for key, label in SYSTEMS:
            rows = [r for r in (load(d, key) for d in runs) if r and r["kinds"]]
            if rows:
                cells = [fmt((mean_sd([r["kinds"].get(k, float("nan")) for r in rows])[0], 0), True) for k in kinds]
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = runs[0]
    open(os.path.join(out, "report.md"), "w").write(text)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no report.png)")
        return
    fig, ax = plt.subplots(figsize=(8, 3.6))
    xs = range(len(plot))
    ax.bar([x - 0.2 for x in xs], [p[1][0] for p in plot], 0.4, yerr=[p[1][1] for p in plot], label="judge score")
    ax.bar([x + 0.2 for x in xs], [p[2][0] for p in plot], 0.4, yerr=[p[2][1] for p in plot], label="preferred style")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([p[0] for p in plot], rotation=15, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("RAM on the demo task")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "report.png"), dpi=120)
    print(f"plot: {os.path.join(out, 'report.png')}")


if __name__ == "__main__":
    main()
