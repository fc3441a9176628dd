#!/usr/bin/env python3
"""Two builds of minicnn_throughput side by side: is a change faster or slower?

Runs bench/model_throughput.cpp of the build before a change and of the build after it on the
same models and thread counts, alternating the two binaries (their order flips every repeat) in
fresh processes, so that a slow drift of the machine's load hits both alike. Prints a Markdown
table of medians with the ratio after / before, and the spread of each side (min-max over the
repeats): a ratio inside the spread is no difference.

  python3 bench/compare_builds.py --before /tmp/old/build/bench/minicnn_throughput \\
      --after build-bench/bench/minicnn_throughput --repeats 5 --seconds 4

Build the old commit in a worktree of its own (git worktree add /tmp/old COMMIT), both Release.
--jsonl keeps every run's line; --from-jsonl prints the table of a file kept earlier.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

MODELS = ["mnist_model1", "mnist_model4", "lenet5", "cifar10_basic", "cifar100_coarse_first"]
KEYS = ("train_images_per_second", "inference_images_per_second")


def run(binary, model, threads, args):
    command = [binary, "--model", model, "--threads", str(threads), "--seconds",
               str(args.seconds), "--warmup", str(args.warmup)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(args):
    records = []
    sink = open(args.jsonl, "w") if args.jsonl else None
    for repeat in range(args.repeats):
        order = ["before", "after"] if repeat % 2 == 0 else ["after", "before"]
        for model in args.models:
            for threads in args.threads:
                for side in order:
                    record = run(getattr(args, side), model, threads, args)
                    record.update(side=side, repeat=repeat + 1)
                    records.append(record)
                    line = json.dumps(record)
                    print(f"# {line}", file=sys.stderr, flush=True)
                    if sink:
                        print(line, file=sink, flush=True)
    return records


def cell(values):
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def table(records):
    groups = {}
    for r in records:
        groups.setdefault((r["model"], r["threads"]), {}).setdefault(r["side"], []).append(r)
    lines = ["| model | threads | train before | train after | ratio "
             "| inference before | inference after | ratio |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for (model, threads), sides in groups.items():
        row = [model, str(threads)]
        for key in KEYS:
            before = [r[key] for r in sides["before"]]
            after = [r[key] for r in sides["after"]]
            ratio = statistics.median(after) / statistics.median(before)
            row += [cell(before), cell(after), f"**{ratio:.3f}x**"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="minicnn_throughput built before the change")
    parser.add_argument("--after", help="minicnn_throughput built after the change")
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--jsonl", help="also write every run's JSON line here")
    parser.add_argument("--from-jsonl", help="print the table of runs written earlier")
    args = parser.parse_args()
    if args.from_jsonl:
        with open(args.from_jsonl) as f:
            records = [json.loads(line) for line in f if line.strip()]
    else:
        if not (args.before and args.after):
            parser.error("--before and --after are required (or --from-jsonl)")
        records = measure(args)
    print(table(records))


if __name__ == "__main__":
    main()
