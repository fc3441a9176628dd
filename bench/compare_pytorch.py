#!/usr/bin/env python3
"""minicnn against PyTorch CPU, side by side (docs/performance.md).

Runs the five reference models (bench/reference_models.hpp) in both frameworks: the same layers,
batch 64, Adam on sparse cross-entropy, random data held in memory, the same thread count.
Each measurement is a fresh process (the C++ driver minicnn_throughput, or this script in
--worker mode), minicnn and PyTorch alternate, and their order flips every repeat, so that a
change in the machine's load hits both sides alike. Prints one Markdown table of medians:
training and inference images/s, the ratio minicnn / PyTorch, and each process's peak resident
memory (with the resident memory at start-up: the interpreter and libtorch for PyTorch).

  /usr/bin/python3 bench/compare_pytorch.py --driver build-bench/bench/minicnn_throughput \\
      --threads 1 2 --repeats 3 --seconds 5

Needs Debian's python3-torch, hence Debian's /usr/bin/python3 (scripts/bench.sh installs it).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

MODELS = ["mnist_model1", "mnist_model4", "lenet5", "cifar10_basic", "cifar100_coarse_first"]


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build_model(torch, name):
    """The PyTorch twin of minicnn's model_zoo() entry `name`, returning logits."""
    nn = torch.nn
    # Keras's BatchNorm defaults as minicnn uses them: momentum .99 (PyTorch's 1 - .99), eps 1e-3.
    # The Keras lab's convolutions have no activation (include/minicnn/models.hpp says why).
    if name == "mnist_model1":  # (1, 28, 28)
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.Flatten(), nn.Linear(26 * 26 * 32, 10))
    if name == "mnist_model4":  # (1, 28, 28): 28 -> 24 -> 20 -> 10 -> 6
        return nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.Conv2d(32, 64, 5),
            nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.MaxPool2d(2, 2),
            nn.Conv2d(64, 128, 5), nn.Flatten(), nn.Linear(6 * 6 * 128, 10))
    if name == "lenet5":  # (3, 32, 32): 32 -> 28 -> 14 -> 10 -> 5
        return nn.Sequential(
            nn.Conv2d(3, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
            nn.AvgPool2d(2), nn.Flatten(), nn.Linear(5 * 5 * 16, 120), nn.Tanh(),
            nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))
    if name == "cifar10_basic":  # (3, 32, 32), 3x3 'valid': 32 -> 30 -> 28 -> 14 -> 12 -> 10 -> 5
        layers = []
        channels = 3
        for filters in (32, 64):
            layers += [nn.Conv2d(channels, filters, 3), nn.ReLU(),
                       nn.Conv2d(filters, filters, 3), nn.ReLU(),
                       nn.MaxPool2d(2), nn.Dropout(0.25)]
            channels = filters
        layers += [nn.Flatten(), nn.Linear(5 * 5 * 64, 256), nn.ReLU(), nn.Dropout(0.5),
                   nn.Linear(256, 10)]
        return nn.Sequential(*layers)
    if name == "cifar100_coarse_first":  # (3, 32, 32): 32 -> 30 -> 28 -> 14 -> 12 -> 6
        return nn.Sequential(
            nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Dropout(0.2), nn.Conv2d(8, 16, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.2), nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(6 * 6 * 32, 500), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(500, 20))
    raise SystemExit(f"unknown model {name}")


def sample_shape(name):
    return (1, 28, 28) if name.startswith("mnist") else (3, 32, 32)


def classes(name):
    return 20 if name == "cifar100_coarse_first" else 10


def batches_per_second(step, warmup, min_steps, min_seconds):
    """As minicnn_throughput: `warmup` untimed calls, then at least min_steps and min_seconds."""
    for i in range(warmup):
        step(i)
    start = time.perf_counter()
    steps = 0
    while steps < min_steps or time.perf_counter() - start < min_seconds:
        step(warmup + steps)
        steps += 1
    return steps / (time.perf_counter() - start)


def worker(args):
    """PyTorch's half: the same protocol as bench/model_throughput.cpp, one JSON line."""
    import torch  # imported here: the parent process needs no PyTorch
    startup_rss = peak_rss_mib()  # the interpreter and libtorch loaded, no model yet
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    model = build_model(torch, args.model)
    generator = torch.Generator().manual_seed(7)
    data = [(torch.rand((args.batch,) + sample_shape(args.model), generator=generator),
             torch.randint(0, classes(args.model), (args.batch,), generator=generator))
            for _ in range(4)]
    # Keras's Adam defaults, as minicnn's Adam: learning rate 1e-3, epsilon 1e-7.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    def train_step(i):
        x, y = data[i % 4]
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    def inference_batch(i):
        with torch.no_grad():
            torch.softmax(model(data[i % 4][0]), dim=1)  # minicnn's predict ends with Softmax

    model.train()
    train = batches_per_second(train_step, args.warmup, args.min_steps, args.seconds)
    model.eval()
    inference = batches_per_second(inference_batch, args.warmup, args.min_steps, args.seconds)
    print(json.dumps({
        "framework": "pytorch", "model": args.model, "threads": args.threads,
        "batch": args.batch, "train_images_per_second": round(train * args.batch, 1),
        "inference_images_per_second": round(inference * args.batch, 1),
        "startup_rss_mib": round(startup_rss, 1), "peak_rss_mib": round(peak_rss_mib(), 1),
        "torch_version": torch.__version__}))


def run_json(command, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare(args):
    common = ["--batch", str(args.batch), "--seconds", str(args.seconds),
              "--min-steps", str(args.min_steps), "--warmup", str(args.warmup)]
    runs = {}  # (model, threads, framework) -> list of results
    for repeat in range(args.repeats):
        for threads in args.threads:
            for model in args.models:
                sides = {
                    "minicnn": [args.driver, "--model", model, "--threads", str(threads)] + common,
                    "pytorch": [sys.executable, os.path.abspath(__file__), "--worker",
                                "--model", model, "--threads", str(threads)] + common,
                }
                order = ["minicnn", "pytorch"] if repeat % 2 == 0 else ["pytorch", "minicnn"]
                for framework in order:
                    result = run_json(sides[framework], threads)
                    runs.setdefault((model, threads, framework), []).append(result)
                    print(f"# repeat {repeat + 1}: {json.dumps(result)}", file=sys.stderr,
                          flush=True)
    return runs


def median(results, key):
    return statistics.median(r[key] for r in results)


def table(args, runs):
    lines = [
        "| model | threads | train img/s minicnn | train img/s PyTorch | train ratio "
        "| inference img/s minicnn | inference img/s PyTorch | inference ratio "
        "| peak RSS MiB minicnn | peak RSS MiB PyTorch (at start-up) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for model in args.models:
        for threads in args.threads:
            ours, theirs = runs[(model, threads, "minicnn")], runs[(model, threads, "pytorch")]
            row = [model, str(threads)]
            for key in ("train_images_per_second", "inference_images_per_second"):
                a, b = median(ours, key), median(theirs, key)
                row += [f"{a:,.0f}", f"{b:,.0f}", f"**{a / b:.2f}x**"]
            row += [f"{median(ours, 'peak_rss_mib'):.0f}",
                    f"{median(theirs, 'peak_rss_mib'):.0f} ({median(theirs, 'startup_rss_mib'):.0f})"]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--driver", help="path of minicnn_throughput (bench/model_throughput.cpp)")
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="minimum timed seconds per phase and run")
    parser.add_argument("--min-steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.threads = args.threads[0]
        worker(args)
        return
    if not args.driver:
        parser.error("--driver is required")
    runs = compare(args)
    version = next(r for k, v in runs.items() if k[2] == "pytorch" for r in v)["torch_version"]
    print(f"minicnn vs PyTorch {version}, batch {args.batch}, Adam, "
          f"medians of {args.repeats} alternating runs of >= {args.seconds:g} s per phase\n")
    print(table(args, runs))


if __name__ == "__main__":
    main()
