// ONNX Runtime's side of bench/compare_engines.py: inference images/s of one ONNX file on random
// input, timed as bench/model_throughput.cpp times minicnn, printed as one JSON line like its:
//
//   NODE_PATH=<dir>/node_modules node throughput.js --onnx model.onnx --shape 16,3,224,224 \
//       --threads 1 [--seconds 5] [--min-steps 5] [--warmup 3] [--name resnet50]
//
//   {"framework": "onnxruntime", "model": "resnet50", "threads": 1, "batch": 16,
//    "train_images_per_second": null, "inference_images_per_second": 12.3,
//    "startup_rss_mib": 45.1, "peak_rss_mib": 310.2, "ort_version": "1.20.1"}
//
// Session options: intraOpNumThreads = --threads (ONNX Runtime's own thread pool), one inter-op
// thread, graph optimisation level "all" (ONNX Runtime's default, written out so that the figures
// say what they measured). The input is the model's first input, uniform in [0, 1) from a fixed
// seed; --warmup untimed runs (the first sizes ONNX Runtime's buffers), then runs until --seconds
// have passed and at least --min-steps were made. Any failure exits with status 1 and the message.
'use strict';
const ort = require('onnxruntime-node');

// Peak resident memory so far, in MiB (Node reports maxRSS in KiB, as getrusage does).
function peakRssMib() {
  return process.resourceUsage().maxRSS / 1024;
}

function parseArgs(argv) {
  const args = {threads: '1', seconds: '5', 'min-steps': '5', warmup: '3', name: ''};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length)
      throw new Error(`expected --option value pairs, got '${argv[i]}'`);
    args[argv[i].slice(2)] = argv[i + 1];
  }
  if (!args.onnx || !args.shape)
    throw new Error('usage: throughput.js --onnx FILE --shape N,C,H,W [--threads T] [--seconds S]');
  const dims = args.shape.split(',').map(Number);
  const threads = Number(args.threads);
  if (!dims.every((d) => Number.isInteger(d) && d > 0))
    throw new Error(`--shape: expected positive integers, got '${args.shape}'`);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`--threads: expected an integer >= 1, got '${args.threads}'`);
  return {
    onnx: args.onnx, dims, threads, seconds: Number(args.seconds),
    minSteps: Number(args['min-steps']), warmup: Number(args.warmup),
    name: args.name || args.onnx,
  };
}

// Uniform floats in [0, 1) from a 32-bit linear congruential generator: the same input every run.
function randomInput(count, seed) {
  const values = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; ++i) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state >>> 8) / 16777216;
  }
  return values;
}

async function main() {
  const startupRss = peakRssMib();
  const args = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(args.onnx, {
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const count = args.dims.reduce((a, b) => a * b, 1);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', randomInput(count, 7), args.dims)};

  // As batches_per_second in bench/model_throughput.cpp.
  for (let i = 0; i < args.warmup; ++i) await session.run(feeds);
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
  let steps = 0;
  while (steps < args.minSteps || elapsed() < args.seconds) {
    await session.run(feeds);
    ++steps;
  }
  const batchesPerSecond = steps / elapsed();
  const batch = args.dims[0];
  const round = (x, digits) => Number(x.toFixed(digits));
  console.log(JSON.stringify({
    framework: 'onnxruntime', model: args.name, threads: args.threads, batch,
    train_images_per_second: null,
    inference_images_per_second: round(batchesPerSecond * batch, 2),
    startup_rss_mib: round(startupRss, 1), peak_rss_mib: round(peakRssMib(), 1),
    ort_version: (ort.env.versions && (ort.env.versions.node || ort.env.versions.common)) || 'unknown',
  }));
}

main().catch((error) => {
  console.error(`throughput.js: ${error.message}`);
  process.exit(1);
});
