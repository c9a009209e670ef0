// End-to-end checks of a running ConvService over gRPC from Node (@grpc/grpc-js), loading the
// contract straight from protos/. Target: CONVSERVICE_GRPC (default localhost:8081).
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import googleProtoFiles from 'google-proto-files';

const here = path.dirname(fileURLToPath(import.meta.url));
const protoRoot = path.resolve(here, '../../protos');
const target = process.env.CONVSERVICE_GRPC ?? 'localhost:8081';

const definition = protoLoader.loadSync(path.join(protoRoot, 'conv/v1/convolution.proto'), {
  includeDirs: [protoRoot, googleProtoFiles.getProtoPath('..')],
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const { conv } = grpc.loadPackageDefinition(definition);
const client = new conv.v1.Convolution(target, grpc.credentials.createInsecure());

function call(method, request) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 10_000);
    client[method](request, { deadline }, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

// Seeded generator so failures reproduce.
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function randomArray(n, rnd) {
  return Array.from({ length: n }, () => rnd());
}

function toRaw(values) {
  return Buffer.from(new Float32Array(values).buffer);
}

function fromRaw(buffer) {
  const copy = Buffer.from(buffer); // aligned copy
  return Array.from(new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4));
}

// Plain cross-correlation, NCHW / OIHW, in float64: the independent reference.
function referenceConv(x, [n, c, h, w], wt, [co, cig, kh, kw], bias, { stride = [1, 1], pads = [0, 0, 0, 0], dilation = [1, 1], groups = 1 }) {
  const oh = Math.floor((h + pads[0] + pads[2] - dilation[0] * (kh - 1) - 1) / stride[0]) + 1;
  const ow = Math.floor((w + pads[1] + pads[3] - dilation[1] * (kw - 1) - 1) / stride[1]) + 1;
  const out = new Array(n * co * oh * ow).fill(0);
  const coPerGroup = co / groups;
  for (let b = 0; b < n; b++)
    for (let o = 0; o < co; o++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let sum = bias ? bias[o] : 0;
          const g = Math.floor(o / coPerGroup);
          for (let ci = 0; ci < cig; ci++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = y * stride[0] - pads[0] + ky * dilation[0];
                const ix = xx * stride[1] - pads[1] + kx * dilation[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                sum += x[((b * c + g * cig + ci) * h + iy) * w + ix] * wt[((o * cig + ci) * kh + ky) * kw + kx];
              }
          out[((b * co + o) * oh + y) * ow + xx] = sum;
        }
  return { out, shape: [n, co, oh, ow] };
}

function assertClose(actual, expected, tolerance = 1e-4) {
  assert.equal(actual.length, expected.length, 'element count');
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * scale, `element ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

test('EstimateCost: the textbook case comes out exactly', async () => {
  const r = await call('EstimateCost', { inputShape: [3, 12, 12], kernelSize: [5], outputChannels: 256 });
  assert.deepEqual(r.outputShape, [256, 8, 8]);
  assert.equal(r.standard.multiplications, 1_228_800);
  assert.equal(r.standard.parameters, 19_200);
  assert.equal(r.depthwise.multiplications, 4_800);
  assert.equal(r.pointwise.multiplications, 49_152);
  assert.equal(r.separable.multiplications, 53_952);
  assert.equal(r.separable.parameters, 843);
  assert.ok(Math.abs(r.multiplicationRatio - 1_228_800 / 53_952) < 1e-9);
});

test('Convolve with raw_data matches the reference (stride, asymmetric pads, groups, bias, batch 2)', async () => {
  const rnd = random(7);
  const inShape = [2, 4, 9, 11];
  const wShape = [6, 2, 3, 2];
  const x = randomArray(inShape.reduce((a, b) => a * b), rnd);
  const wt = randomArray(wShape.reduce((a, b) => a * b), rnd);
  const bias = randomArray(6, rnd);
  const options = { stride: [2, 1], pads: [1, 0, 2, 1], dilation: [1, 2], groups: 2 };
  const r = await call('Convolve', {
    input: { shape: inShape, rawData: toRaw(x) },
    weight: { shape: wShape, rawData: toRaw(wt) },
    bias: { shape: [6], rawData: toRaw(bias) },
    options,
  });
  const expected = referenceConv(x, inShape, wt, wShape, bias, options);
  assert.deepEqual(r.output.shape, expected.shape);
  assert.equal(r.output.data.length, 0, 'raw_data in, raw_data out');
  assertClose(fromRaw(r.output.rawData), expected.out);
  assert.equal(r.execution.kind, 'standard');
  assert.ok(r.execution.algorithm.length > 0);
  assert.ok(r.execution.multiplications > 0);
});

test('Convolve with data keeps CHW rank and SAME padding', async () => {
  const rnd = random(11);
  const x = randomArray(3 * 7 * 5, rnd);
  const wt = randomArray(4 * 3 * 4 * 4, rnd);
  const r = await call('Convolve', {
    input: { shape: [3, 7, 5], data: x },
    weight: { shape: [4, 3, 4, 4], data: wt },
    options: { paddingMode: 'PADDING_MODE_SAME', stride: [2] },
  });
  // SAME, stride 2: out = ceil(7/2) x ceil(5/2) = 4 x 3; total pads 4+4-7=... computed per TensorFlow.
  const padH = Math.max(0, (4 - 1) * 2 + 4 - 7), padW = Math.max(0, (3 - 1) * 2 + 4 - 5);
  const pads = [Math.floor(padH / 2), Math.floor(padW / 2), padH - Math.floor(padH / 2), padW - Math.floor(padW / 2)];
  const expected = referenceConv(x, [1, 3, 7, 5], wt, [4, 3, 4, 4], null, { stride: [2, 2], pads });
  assert.deepEqual(r.output.shape, [4, 4, 3]);
  assertClose(r.output.data, expected.out);
});

test('SeparableConvolve depthwise-separable equals depthwise then pointwise', async () => {
  const rnd = random(23);
  const c = 3, m = 2, cout = 5;
  const x = randomArray(c * 8 * 8, rnd);
  const dw = randomArray(c * m * 9, rnd);
  const pw = randomArray(cout * c * m, rnd);
  const r = await call('SeparableConvolve', {
    input: { shape: [1, c, 8, 8], rawData: toRaw(x) },
    depthwiseSeparable: {
      depthwiseWeight: { shape: [c * m, 1, 3, 3], rawData: toRaw(dw) },
      pointwiseWeight: { shape: [cout, c * m, 1, 1], rawData: toRaw(pw) },
    },
    options: { pads: [1, 1, 1, 1] },
  });
  const mid = referenceConv(x, [1, c, 8, 8], dw, [c * m, 1, 3, 3], null, { pads: [1, 1, 1, 1], groups: c });
  const expected = referenceConv(mid.out, mid.shape, pw, [cout, c * m, 1, 1], null, {});
  assert.deepEqual(r.output.shape, [1, cout, 8, 8]);
  assertClose(fromRaw(r.output.rawData), expected.out);
  assert.equal(r.execution.kind, 'depthwise_separable');
});

test('SeparableConvolve spatially separable equals a depthwise outer-product kernel', async () => {
  const rnd = random(5);
  const column = [1, 2, 1], row = [1, 0, -1, 2];
  const x = randomArray(2 * 6 * 9, rnd);
  const kernel = [];
  for (let ch = 0; ch < 2; ch++) for (const a of column) for (const b of row) kernel.push(a * b);
  const r = await call('SeparableConvolve', {
    input: { shape: [2, 6, 9], data: x },
    spatiallySeparable: { column, row },
    options: { paddingMode: 'PADDING_MODE_VALID' },
  });
  const expected = referenceConv(x, [1, 2, 6, 9], kernel, [2, 1, 3, 4], null, { groups: 2 });
  assert.deepEqual(r.output.shape, [2, 4, 6]);
  assertClose(r.output.data, expected.out);
  assert.equal(r.execution.kind, 'spatially_separable');
});

test('a bad shape is INVALID_ARGUMENT naming the field, with google.rpc.BadRequest details', async () => {
  await assert.rejects(
    call('Convolve', {
      input: { shape: [1, 3, 4, 4], data: new Array(48).fill(1) },
      weight: { shape: [2, 2, 3, 3], data: new Array(36).fill(1) },
    }),
    (err) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /weight\.shape/);
      assert.ok(err.metadata.get('grpc-status-details-bin').length > 0, 'rich status details present');
      return true;
    },
  );
});

test('a data length that does not match the shape is INVALID_ARGUMENT', async () => {
  await assert.rejects(
    call('Convolve', { input: { shape: [1, 1, 4, 4], data: [1, 2, 3] }, weight: { shape: [1, 1, 1, 1], data: [1] } }),
    (err) => err.code === grpc.status.INVALID_ARGUMENT && /input/.test(err.details),
  );
});

test.after(() => client.close());
