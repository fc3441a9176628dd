// Runs an ONNX file with ONNX Runtime (npm onnxruntime-node, CPU) on one float input, for
// minicnn's export tests: the input and the output are raw little-endian float32 files.
//
//   NODE_PATH=<dir>/node_modules node run_onnx.js model.onnx input.f32 N,C,H,W output.f32
//
// The model's first input gets the tensor of the given dimensions; its first output is written.
// Prints the output's dimensions on stdout ("dims 2,10"). Any failure (a file ONNX Runtime
// refuses, a wrong size) exits with status 1 and ONNX Runtime's message on stderr.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, inputPath, dimsText, outputPath] = process.argv.slice(2);
  if (!outputPath) throw new Error('usage: run_onnx.js model.onnx input.f32 N,C,H,W output.f32');
  const dims = dimsText.split(',').map(Number);
  const bytes = fs.readFileSync(inputPath);
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== 4 * count)
    throw new Error(`${inputPath}: expected ${4 * count} bytes for dims ${dimsText}, got ${bytes.length}`);
  // A copy: the file's buffer need not be 4-byte aligned.
  const values = new Float32Array(count);
  for (let i = 0; i < count; ++i) values[i] = bytes.readFloatLE(4 * i);

  // One thread: the figures of a run do not depend on the machine's load.
  const session = await ort.InferenceSession.create(modelPath, {intraOpNumThreads: 1, interOpNumThreads: 1});
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', values, dims)};
  const results = await session.run(feeds);
  const output = results[session.outputNames[0]];
  const out = Buffer.alloc(4 * output.data.length);
  output.data.forEach((v, i) => out.writeFloatLE(v, 4 * i));
  fs.writeFileSync(outputPath, out);
  console.log(`dims ${output.dims.join(',')}`);
}

main().catch((error) => {
  console.error(`run_onnx.js: ${error.message}`);
  process.exit(1);
});
