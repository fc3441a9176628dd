#!/usr/bin/env python3
"""minicnn beside ONNX Runtime, PyTorch and dlib, in one table (docs/performance.md).

The engines, each in fresh processes of its own:
  minicnn       bench/model_throughput.cpp on the zoo's model (training and inference)
  minicnn-onnx  the same driver on the ONNX file, through load_onnx (inference)
  onnxruntime   tools/ort/throughput.js on the same ONNX file (inference)
  pytorch       bench/compare_pytorch.py --worker, PyTorch on OpenBLAS (training and inference)
  dlib          bench/dlib_throughput.cpp, dlib's twins (training and inference), where dlib can
                express the model (DLIB_CANNOT below says why not elsewhere)

The ONNX files are the PyTorch twins of bench/compare_pytorch.py with a Softmax appended (minicnn's
predict ends with one), exported once by torch.onnx.export (opset 13, batch dimension dynamic)
into --cache. Before any timing, minicnn's and ONNX Runtime's outputs on the same file and input
are compared (--check of the driver, tools/ort/run_onnx.js); a file on which they differ by more
than --tolerance times the largest output gets no figures of either, only the difference: the
table never compares two different computations.

FLOPs are counted once per model from the PyTorch twin (hooks on every Conv2d and Linear: 2 x
MACs per image, the layers the ONNX file holds); a training step counts 3 times the forward (the
backward computes each layer's input and weight gradients, a product of the forward's size each).
GFLOP/s are divided by bench/fma_peak's figure at the same thread count, measured in the same run
(the best of its rounds over the repeats).

Every measurement is a fresh process; the engines' order rotates every repeat, so that a change of
the machine's load hits all alike. Prints one Markdown table: medians with the spread of the
repeats ((max - min) / median), minicnn's ratio to each peer, GFLOP/s and fraction of the peak,
peak resident memory.

  /usr/bin/python3 bench/compare_engines.py --build build-bench --threads 1 2 --repeats 3 \\
      --seconds 5 [--models resnet50 lenet5] [--engines minicnn onnxruntime]
"""
import argparse
import array
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import compare_pytorch as twins

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENGINES = ["minicnn", "minicnn-onnx", "onnxruntime", "pytorch", "dlib"]
# model -> [(batch, trains)]: the workloads.
WORKLOADS = {name: [(64, True)] for name in twins.REFERENCE_MODELS}
WORKLOADS.update({
    "resnet20": [(128, True)],
    "resnet18": [(1, False), (16, False)],
    "resnet50": [(1, False), (16, False)],
    "mobilenet_v2": [(1, False), (16, False)],
})
# What dlib 19.24's DNN DSL cannot express (bench/dlib_throughput.cpp has the others' twins).
DLIB_CANNOT = {
    "mobilenet_v2": "no depthwise (grouped) convolution in dlib 19.24's con_",
    "resnet18": "expressible (dlib's ResNet examples), not written: inference only, not a "
                "training peer's workload",
    "resnet50": "expressible, not written: inference only, not a training peer's workload",
}
TOLERANCE = 1e-4


def export(args, model):
    """The twin's ONNX file and its forward MACs per image, made once into the cache."""
    onnx_path = os.path.join(args.cache, model + ".onnx")
    meta_path = os.path.join(args.cache, model + ".json")
    if not (os.path.exists(onnx_path) and os.path.exists(meta_path)):
        os.makedirs(args.cache, exist_ok=True)
        run([sys.executable, os.path.abspath(__file__), "--export", model,
             "--cache", args.cache], 1)
    with open(meta_path) as f:
        return onnx_path, json.load(f)["macs_per_image"]


def export_worker(model, cache):
    """Exports the twin (eval mode, seed 42) with a Softmax appended; counts its MACs."""
    import torch
    torch.manual_seed(42)
    net = torch.nn.Sequential(twins.build_model(torch, model), torch.nn.Softmax(dim=1)).eval()
    # BatchNorm's parameters and statistics away from (1, 0, 0, 1): every term of the layer then
    # shows in the outputs compared, and no two layers hold equal tensors, which the exporter
    # would deduplicate into Identity nodes of constants (the importer takes none).
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                for tensor, low, width in ((m.weight, 0.5, 1.0), (m.bias, -0.5, 1.0),
                                           (m.running_mean, -0.2, 0.4),
                                           (m.running_var, 0.8, 0.4)):
                    tensor.copy_(low + width * torch.rand(tensor.shape))
    macs = [0]

    def count(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            macs[0] += output[0].numel() * (module.in_channels // module.groups) * kh * kw
        else:
            macs[0] += module.in_features * module.out_features

    hooks = [m.register_forward_hook(count) for m in net.modules()
             if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    x = torch.rand((1,) + twins.sample_shape(model))
    with torch.no_grad():
        net(x)
    for hook in hooks:  # the export's tracing runs the model again
        hook.remove()
    # Written under temporary names of this process and renamed: an interrupted export leaves
    # no half file, and two exports at once (ctest -j) do not write into one file.
    stem, tmp = os.path.join(cache, model), f".{os.getpid()}.tmp"
    torch.onnx.export(net, x, stem + ".onnx" + tmp, opset_version=13, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    os.replace(stem + ".onnx" + tmp, stem + ".onnx")
    with open(stem + ".json" + tmp, "w") as f:
        json.dump({"model": model, "macs_per_image": macs[0], "opset": 13,
                   "torch_version": torch.__version__}, f)
    os.replace(stem + ".json" + tmp, stem + ".json")


def environment(threads):
    # As compare_pytorch.run_json: every engine gets the thread count; OpenBLAS (PyTorch's and
    # dlib's BLAS) picks its own kernel for the processor.
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def run(command, threads, env_extra=None):
    env = environment(threads)
    env.update(env_extra or {})
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def run_json(command, threads, env_extra=None):
    return json.loads(run(command, threads, env_extra).strip().splitlines()[-1])


def read_f32(path):
    values = array.array("f")
    with open(path, "rb") as f:
        values.frombytes(f.read())
    return values


def agreement(args, model, onnx_path, batch):
    """The largest |minicnn - ONNX Runtime| over the outputs of one input batch of the file, and
    the largest |ONNX Runtime output|: over 1,000 classes the probabilities are about 1e-3 each,
    so the tolerance is relative to that scale, not absolute."""
    prefix = os.path.join(args.cache, f"{model}.b{batch}")
    run([args.driver, "--onnx", onnx_path, "--batch", str(batch), "--check", prefix], 1)
    dims = ",".join(str(d) for d in (batch,) + twins.sample_shape(model))
    run([args.node, os.path.join(ROOT, "tools", "ort", "run_onnx.js"), onnx_path,
         prefix + ".input.f32", dims, prefix + ".ort.f32"], 1, {"NODE_PATH": args.ort_modules})
    ours, theirs = read_f32(prefix + ".output.f32"), read_f32(prefix + ".ort.f32")
    if len(ours) != len(theirs) or not theirs:
        return float("inf"), 1.0
    return max(abs(a - b) for a, b in zip(ours, theirs)), max(abs(b) for b in theirs)


def commands(args, model, onnx_path, batch, threads):
    common = ["--threads", str(threads), "--batch", str(batch), "--seconds", str(args.seconds),
              "--min-steps", str(args.min_steps), "--warmup", str(args.warmup)]
    dims = ",".join(str(d) for d in (batch,) + twins.sample_shape(model))
    return {
        "minicnn": ([args.driver, "--model", model] + common, None),
        "minicnn-onnx": ([args.driver, "--model", model, "--onnx", onnx_path] + common, None),
        "onnxruntime": ([args.node, os.path.join(ROOT, "tools", "ort", "throughput.js"),
                         "--onnx", onnx_path, "--shape", dims, "--name", model] + common[:2]
                        + common[4:], {"NODE_PATH": args.ort_modules}),
        "pytorch": ([sys.executable, os.path.join(HERE, "compare_pytorch.py"), "--worker",
                     "--model", model] + common, None),
        "dlib": ([args.dlib, "--model", model] + common, None),
    }


def measure(args):
    runs, peaks, diffs, flops, skipped, refused = {}, {}, {}, {}, {}, {}
    for model in args.models:
        onnx_path, macs = export(args, model)
        flops[model] = 2 * macs
        for batch, _ in WORKLOADS[model]:
            if {"minicnn-onnx", "onnxruntime"} & set(args.engines):
                diff, scale = agreement(args, model, onnx_path, batch)
                diffs[(model, batch)] = diff
                if diff > args.tolerance * scale:
                    refused[(model, batch)] = (f"outputs differ by {diff:.3g} (> {args.tolerance:g}"
                                               f" x the largest output, {scale:.3g}): not timed")
                print(f"# {model} batch {batch}: max |minicnn - ORT| = {diff:.3g}, largest "
                      f"output {scale:.3g}", file=sys.stderr, flush=True)
    for repeat in range(args.repeats):
        for threads in args.threads:
            if args.fma_peak:
                seconds = min(1.0, max(args.seconds / 5, 0.01))  # a short run for a quick table
                peak = run_json([args.fma_peak, "--threads", str(threads), "--seconds",
                                 str(seconds), "--repeats", "3"], threads)["gflops"]
                peaks[threads] = max(peaks.get(threads, 0), peak)
            for model in args.models:
                onnx_path = os.path.join(args.cache, model + ".onnx")
                for batch, _ in WORKLOADS[model]:
                    engines = [e for e in args.engines
                               if usable(args, e, model, refused.get((model, batch)), skipped)]
                    if not engines:  # every engine refused or skipped: nothing to time
                        continue
                    shift = repeat % len(engines)
                    sides = commands(args, model, onnx_path, batch, threads)
                    for engine in engines[shift:] + engines[:shift]:
                        command, extra = sides[engine]
                        result = run_json(command, threads, extra)
                        runs.setdefault((model, batch, threads, engine), []).append(result)
                        print(f"# repeat {repeat + 1}: {json.dumps(result)}", file=sys.stderr,
                              flush=True)
    return runs, peaks, diffs, flops, skipped


def usable(args, engine, model, refusal, skipped):
    """Whether `engine` runs this workload (`refusal`: why minicnn's and ONNX Runtime's outputs on
    its file are not timed, None when they agree); else the reason goes into `skipped`."""
    reason = None
    if engine == "dlib" and not args.dlib:
        reason = "dlib_throughput not built (Debian: libdlib-dev)"
    elif engine == "dlib" and model in DLIB_CANNOT:
        reason = DLIB_CANNOT[model]
    elif engine in ("minicnn-onnx", "onnxruntime") and refusal:
        reason = refusal
    if reason:
        skipped[(model, engine)] = reason
    return reason is None


def stats(results, key):
    values = [r[key] for r in results]
    if not values or None in values:
        return None
    m = statistics.median(values)
    return m, (max(values) - min(values)) / m if m else 0.0


def rate(images_per_second):
    """Images/s with two significant digits at least: ResNet-50 runs a few per second."""
    return f"{images_per_second:,.0f}" if images_per_second >= 100 else f"{images_per_second:.2g}"


def table(args, runs, peaks, diffs, flops):
    engines = args.engines
    head = (["phase", "model", "batch", "threads"] + [f"{e} img/s" for e in engines]
            + [f"minicnn / {p}" for p in ("onnxruntime", "pytorch", "dlib") if p in engines]
            + ["GFLOP/s minicnn, faster path (% peak)", "GFLOP/s best peer (% peak)",
               "max abs diff ORT",
               "peak RSS MiB " + " / ".join(engines)])
    lines = ["| " + " | ".join(head) + " |", "| --- | --- |" + " ---: |" * (len(head) - 2)]
    for phase, key, factor in (("training", "train_images_per_second", 3),
                               ("inference", "inference_images_per_second", 1)):
        for model in args.models:
            for batch, trains in WORKLOADS[model]:
                if phase == "training" and not trains:
                    continue
                for threads in args.threads:
                    medians, row = {}, [phase, model, str(batch), str(threads)]
                    for engine in engines:
                        s = stats(runs.get((model, batch, threads, engine), []), key)
                        if s:
                            medians[engine] = s[0]
                            row.append(f"{rate(s[0])} ±{100 * s[1]:.0f}%")
                        else:
                            row.append("-")
                    # The ONNX Runtime ratio is the same file's (minicnn-onnx), the others the
                    # zoo's.
                    for peer in ("onnxruntime", "pytorch", "dlib"):
                        if peer not in engines:
                            continue
                        ours = medians.get("minicnn-onnx" if peer == "onnxruntime" else "minicnn")
                        theirs = medians.get(peer)
                        row.append(f"**{ours / theirs:.2f}x**" if ours and theirs else "-")
                    gflop = factor * flops[model] / 1e9
                    peak = peaks.get(threads)

                    def gflops(images):
                        if images is None:
                            return "-"
                        g = gflop * images
                        return f"{g:.1f} ({100 * g / peak:.0f} %)" if peak else f"{g:.1f}"

                    ours = max((medians[e] for e in ("minicnn", "minicnn-onnx") if e in medians),
                               default=None)
                    best = max((medians[e] for e in medians if not e.startswith("minicnn")),
                               default=None)
                    row += [gflops(ours), gflops(best)]
                    diff = diffs.get((model, batch))
                    row.append("-" if diff is None or phase == "training" else f"{diff:.1g}")
                    rss = []  # of the engines with a figure in this row
                    for engine in engines:
                        s = stats(runs.get((model, batch, threads, engine), []), "peak_rss_mib")
                        rss.append(f"{s[0]:.0f}" if s and engine in medians else "-")
                    row.append(" / ".join(rss))
                    lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def machine():
    """The processor, the cores, the commit and the time of a run, for the table's heading."""
    cpu = "unknown processor"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"{cpu}, {os.cpu_count()} logical CPUs, commit {commit}, {when}"


def find(build, *names):
    for name in names:
        path = os.path.join(build, "bench", name)
        if os.path.exists(path):
            return path
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build-bench"),
                        help="the build tree holding bench/minicnn_throughput, bench/fma_peak, "
                             "bench/dlib_throughput and ort/node_modules")
    parser.add_argument("--models", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--engines", nargs="+", default=ENGINES, choices=ENGINES)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="minimum timed seconds per phase and run")
    parser.add_argument("--min-steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tolerance", type=float, default=TOLERANCE,
                        help="largest |minicnn - ONNX Runtime| over the softmax outputs, as a "
                             "fraction of the largest output")
    parser.add_argument("--cache", help="ONNX files (default BUILD/bench-onnx)")
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--export", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cache = args.cache or os.path.join(args.build, "bench-onnx")
    if args.export:
        export_worker(args.export, args.cache)
        return
    args.driver = find(args.build, "minicnn_throughput")
    args.fma_peak = find(args.build, "fma_peak")
    args.dlib = find(args.build, "dlib_throughput")
    args.ort_modules = os.path.join(args.build, "ort", "node_modules")
    if args.driver is None:
        parser.error(f"no {args.build}/bench/minicnn_throughput: build it first")
    started = machine()
    runs, peaks, diffs, flops, skipped = measure(args)
    versions = {r.get("framework"): r for v in runs.values() for r in v}
    torch = versions.get("pytorch", {}).get("torch_version", "-")
    ort = versions.get("onnxruntime", {}).get("ort_version", "-")
    dlib = versions.get("dlib", {}).get("dlib_version", "-")
    print(f"minicnn beside ONNX Runtime {ort}, PyTorch {torch} and dlib {dlib}; medians of "
          f"{args.repeats} rotating runs of >= {args.seconds:g} s per phase; FMA peak "
          + ", ".join(f"{peaks[t]:.0f} GFLOP/s at {t} thread{'s' * (t > 1)}" for t in peaks)
          + f"; {started}\n")
    print(table(args, runs, peaks, diffs, flops))
    if skipped:
        print("\nNot measured:\n")
        for (model, engine), reason in sorted(skipped.items()):
            print(f"- {engine} on {model}: {reason}")


if __name__ == "__main__":
    main()
