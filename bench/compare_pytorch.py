#!/usr/bin/env python3
"""minicnn against PyTorch CPU, side by side (docs/performance.md).

Runs the five reference models (bench/reference_models.hpp, batch 64) and the graph models
(bench/graph_models.hpp: ResNet-20 on CIFAR trained at batch 128, ResNet-50 on 224x224 inferring
at batch 8; ResNet-18 and MobileNetV2 on request) in both frameworks: the same layers, Adam on
sparse cross-entropy, random data held in memory, the same thread count.
Each measurement is a fresh process (the C++ driver minicnn_throughput, or this script in
--worker mode), minicnn and PyTorch alternate, and their order flips every repeat, so that a
change in the machine's load hits both sides alike. Prints one Markdown table of medians:
training and inference images/s, the ratio minicnn / PyTorch, and each process's peak resident
memory (with the resident memory at start-up: the interpreter and libtorch for PyTorch).

  /usr/bin/python3 bench/compare_pytorch.py --driver build-bench/bench/minicnn_throughput \\
      --threads 1 2 --repeats 3 --seconds 5

Needs Debian's python3-torch, hence Debian's /usr/bin/python3, and libopenblas0-pthread as the
system BLAS: without it PyTorch's matrix products run on the reference BLAS, 40 times slower
(scripts/bench.sh installs both).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

REFERENCE_MODELS = ["mnist_model1", "mnist_model4", "lenet5", "cifar10_basic",
                    "cifar100_coarse_first"]
# name: (batch, whether training is measured), as bench/graph_models.hpp has them.
GRAPH_MODELS = {"resnet20": (128, True), "resnet18": (16, False), "resnet50": (8, False),
                "mobilenet_v2": (16, False)}
IMAGENET_MODELS = ("resnet18", "resnet50", "mobilenet_v2")
MODELS = REFERENCE_MODELS + list(GRAPH_MODELS)


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
    if name == "resnet20":
        return cifar_resnet(torch, 20)
    if name in IMAGENET_MODELS:  # what minicnn's zoo copies, layer for layer
        import torchvision
        return getattr(torchvision.models, name)()
    raise SystemExit(f"unknown model {name}")


def cifar_resnet(torch, depth, classes=10):
    """The twin of minicnn's cifar_resnet (tests/model/test_zoo_graphs.cpp holds its counts): He et al.'s
    CIFAR ResNet with projection shortcuts (option B) where the width doubles."""
    nn = torch.nn

    def conv_bn(i, o, k, s):
        return [nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o)]

    class Block(nn.Module):
        def __init__(self, i, o, stride):
            super().__init__()
            self.body = nn.Sequential(*conv_bn(i, o, 3, stride), nn.ReLU(), *conv_bn(o, o, 3, 1))
            self.down = nn.Sequential(*conv_bn(i, o, 1, stride)) if i != o else nn.Identity()

        def forward(self, x):
            return (self.body(x) + self.down(x)).relu()

    n, layers, i = (depth - 2) // 6, conv_bn(3, 16, 3, 1) + [nn.ReLU()], 16
    for o in (16, 32, 64):
        for b in range(n):
            layers.append(Block(i, o, 2 if b == 0 and o != 16 else 1))
            i = o
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes))


def sample_shape(name):
    if name in IMAGENET_MODELS:
        return (3, 224, 224)
    return (1, 28, 28) if name.startswith("mnist") else (3, 32, 32)


def classes(name):
    return 1000 if name in IMAGENET_MODELS else {"cifar100_coarse_first": 20}.get(name, 10)


def default_batch(name):
    return GRAPH_MODELS[name][0] if name in GRAPH_MODELS else 64


def trains(name):
    return GRAPH_MODELS[name][1] if name in GRAPH_MODELS else True


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
    train = None
    if trains(args.model):
        train = batches_per_second(train_step, args.warmup, args.min_steps, args.seconds)
    model.eval()
    inference = batches_per_second(inference_batch, args.warmup, args.min_steps, args.seconds)
    print(json.dumps({
        "framework": "pytorch", "model": args.model, "threads": args.threads,
        "batch": args.batch,
        "train_images_per_second": None if train is None else round(train * args.batch, 2),
        "inference_images_per_second": round(inference * args.batch, 2),
        "startup_rss_mib": round(startup_rss, 1), "peak_rss_mib": round(peak_rss_mib(), 1),
        "torch_version": torch.__version__}))


def run_json(command, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    # Some machines set these for old OpenBLAS builds; they force a slower kernel on current
    # processors, so OpenBLAS (PyTorch's BLAS here) picks its own. minicnn uses no BLAS.
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare(args):
    runs = {}  # (model, threads, framework) -> list of results
    for repeat in range(args.repeats):
        for threads in args.threads:
            for model in args.models:
                batch = args.batch or default_batch(model)
                common = ["--batch", str(batch), "--seconds", str(args.seconds),
                          "--min-steps", str(args.min_steps), "--warmup", str(args.warmup)]
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
    values = [r[key] for r in results]
    return None if None in values else statistics.median(values)


def rate(images_per_second):
    """Images/s with two significant digits at least: ResNet-50 runs a few per second."""
    return f"{images_per_second:,.0f}" if images_per_second >= 100 else f"{images_per_second:.2g}"


def table(args, runs):
    lines = [
        "| model | batch | threads | train img/s minicnn | train img/s PyTorch | train ratio "
        "| inference img/s minicnn | inference img/s PyTorch | inference ratio "
        "| peak RSS MiB minicnn | peak RSS MiB PyTorch (at start-up) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for model in args.models:
        for threads in args.threads:
            ours, theirs = runs[(model, threads, "minicnn")], runs[(model, threads, "pytorch")]
            row = [model, str(ours[0]["batch"]), str(threads)]
            for key in ("train_images_per_second", "inference_images_per_second"):
                a, b = median(ours, key), median(theirs, key)
                if a is None or b is None:  # a workload of inference only
                    row += ["-", "-", "-"]
                    continue
                row += [rate(a), rate(b), f"**{a / b:.2f}x**"]
            row += [f"{median(ours, 'peak_rss_mib'):.0f}",
                    f"{median(theirs, 'peak_rss_mib'):.0f} ({median(theirs, 'startup_rss_mib'):.0f})"]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--driver", help="path of minicnn_throughput (bench/model_throughput.cpp)")
    # The ImageNet models beside resnet50 belong to bench/compare_engines.py's workloads.
    parser.add_argument("--models", nargs="+", choices=MODELS,
                        default=REFERENCE_MODELS + ["resnet20", "resnet50"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batch", type=int, default=0,
                        help="images per batch; 0: each model's workload (64, resnet20 128, "
                             "resnet50 8)")
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
    print(f"minicnn vs PyTorch {version}, Adam, "
          f"medians of {args.repeats} alternating runs of >= {args.seconds:g} s per phase\n")
    print(table(args, runs))


if __name__ == "__main__":
    main()
