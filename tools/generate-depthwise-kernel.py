#!/usr/bin/env python3
"""Writes a fully unrolled AVX-512 KxK depthwise kernel (odd K: 5 or 7), e.g. src/ConvService.Compute/Kernels/Depthwise7x7Avx512Kernel.cs.

The JIT neither unrolls loops nor takes a variable valignd shift, so the body is spelled out tap by tap.
Regenerate from the repository root (the committed file is exactly this output; .ci/run checks it):

    python3 tools/generate-depthwise-kernel.py --size 7 > src/ConvService.Compute/Kernels/Depthwise7x7Avx512Kernel.cs
    python3 tools/generate-depthwise-kernel.py --size 5 > src/ConvService.Compute/Kernels/Depthwise5x5Avx512Kernel.cs

The options exist for tuning experiments (--name writes a differently named class, to time variants side
by side in one process); the defaults are the committed kernel. Measured on Zen 4 against this layout and
not kept (equal or slower): 5, 6 or 8 rows, 1 or 3 vectors, unaligned loads instead of some or all valignd,
one broadcast register per tap shared by the vectors, non-temporal stores (also on the aligned grid below: 5.99
against 5.88 ms), prefetching the next group's output rows, prefetching two groups or 64-512 floats ahead,
prefetcht1/t2 instead of t0, and (in the driver) column strips of 256-960 columns so the window of input rows stays
in L1 (6.3-6.6 against 5.9 ms: exact, but slower). Kept, timed on S7 (RGB 1080p 7x7; .NET's large arrays start
24 bytes past a 64-byte line): the chunk grid on the output's 64-byte lines when DirectRowShape.AlignedChunks (alone
6.0-6.6 -> 6.0-6.3 ms) and, with it, prefetching the next group's rows when DirectRowShape.PrefetchNextRows
(-> 5.7-6.0 ms).
"""

import argparse
import sys

K = 7          # filter size (set from --size)
HALF = K // 2  # columns of padding on each side
V = 16         # floats per Vector512


def parse():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=4, help="output rows per group")
    parser.add_argument("--vectors", type=int, default=2, help="vectors per chunk of a row (accumulators = rows x vectors)")
    parser.add_argument("--size", type=int, default=7, choices=[5, 7], help="filter size K (K x K)")
    parser.add_argument("--unaligned-grid", action="store_true", help="chunks always from column 0 (no DirectRowShape.AlignedChunks)")
    parser.add_argument("--no-prefetch", action="store_true", help="never prefetch the next group's rows")
    parser.add_argument("--prefetch-distance", type=int, default=0, help="floats ahead of the chunk to prefetch the next group's rows")
    parser.add_argument("--name", default=None, help="class name (default DepthwiseKxKAvx512Kernel)")
    return parser.parse_args()


class Writer:
    def __init__(self):
        self.lines = []
        self.depth = 0

    def line(self, text=""):
        self.lines.append(("    " * self.depth + text) if text else "")

    def open(self, text):
        self.line(text)
        self.line("{")
        self.depth += 1

    def close(self):
        self.depth -= 1
        self.line("}")


def plus(base, offset):
    """C# for `base + offset` floats, offsets written in vectors where they are whole vectors."""
    if offset == 0:
        return base
    sign = "+" if offset > 0 else "-"
    vectors, rest = divmod(abs(offset), V)
    vec = "" if vectors == 0 else ("V" if vectors == 1 else f"({vectors} * V)")
    if rest == 0:
        return f"{base} {sign} {vec}"
    if vectors == 0:
        return f"{base} {sign} {rest}"
    return f"{base} {sign} ({vec} + {rest})"


PREFETCH = 0        # --prefetch-distance, None for --no-prefetch
ALIGN = True        # not --unaligned-grid


def stores(w, rows, vectors, masks):
    """Stores every accumulator (rows past rowCount skipped); masks: per vector, a mask variable or None."""
    for j in range(rows):
        if j > 0:
            w.open(f"if (rowCount > {j})")
        for k in range(vectors):
            dest = "d" if j == 0 else ("d + width" if j == 1 else f"d + ({j} * width)")
            if k:
                dest += " + V" if k == 1 else f" + ({k} * V)"
            if masks[k]:
                w.line(f"Avx512F.MaskStore({dest}, {masks[k]}, a{j}{k});")
            else:
                w.line(f"a{j}{k}.Store({dest});")
        if j > 0:
            w.close()
            if j < rows - 1:
                w.line()


def accumulate(w, a, vectors, load, packed_vectors):
    """One chunk of `vectors` vectors for a.rows output rows; `load` is the IRowLoad that reads the rows."""
    rows = a.rows
    accs = [f"a{j}{k}" for j in range(rows) for k in range(vectors)]
    for i in range(0, len(accs), 8):
        w.line("Vector512<float> " + ", ".join(f"{acc} = b" for acc in accs[i:i + 8]) + ";")
    # Aligned vectors: l0 is the one before the chunk, l1 .. l{vectors} the chunk, the last the one after.
    aligned = set()
    for o in range(-HALF, HALF + 1):
        for k in range(vectors):
            aligned.update({k, k + 1} if o < 0 else ({k + 1} if o == 0 else {k + 1, k + 2}))
    aligned = sorted(aligned)
    w.line("Vector512<uint> " + ", ".join(f"l{i}" for i in aligned) + ";")
    w.line("Vector512<float> " + ", ".join(f"n{k}" for k in range(vectors)) + ";")
    w.line("float* row;")
    if PREFETCH is not None and load == "TLoad":
        w.open("if (prefetch)")
        w.line("// The rows the next group adds, a group ahead: the hardware prefetcher alone leaves their first reads waiting.")
        for j in range(rows):
            for k in range(vectors):
                w.line(f"Sse.Prefetch0(rows[{rows + K - 1 + j}] + {plus('x', PREFETCH + k * V)});")
        w.close()
    for r in range(rows + K - 1):
        w.line()
        w.line(f"row = rows[{r}];")
        for i in aligned:
            w.line(f"l{i} = {load}.Load(row, {plus('x', (i - 1) * V)}, width).AsUInt32();")
        for kx in range(K):
            o = kx - HALF
            for k in range(vectors):
                if o < 0:
                    w.line(f"n{k} = Avx512F.AlignRight32(l{k + 1}, l{k}, {V + o}).AsSingle();")
                elif o == 0:
                    w.line(f"n{k} = l{k + 1}.AsSingle();")
                else:
                    w.line(f"n{k} = Avx512F.AlignRight32(l{k + 2}, l{k + 1}, {o}).AsSingle();")
            # Input row r is kernel row r - j of output row j; each FMA broadcasts its tap from its own copy.
            for j in range(rows):
                ky = r - j
                if 0 <= ky < K:
                    for k in range(vectors):
                        tap = ((j * packed_vectors) + k) * K * K + ky * K + kx
                        w.line(f"a{j}{k} = Avx512F.FusedMultiplyAdd(Vector512.Create(w[{tap}]), n{k}, a{j}{k});")


def main():
    global K, HALF, PREFETCH, ALIGN
    a = parse()
    ALIGN = not a.unaligned_grid
    PREFETCH = None if a.no_prefetch else a.prefetch_distance
    K, HALF = a.size, a.size // 2
    a.name = a.name or f"Depthwise{K}x{K}Avx512Kernel"
    taps = K * K
    words = {2: "two", 3: "three", 4: "four", 6: "six"}
    rows, vectors = a.rows, a.vectors
    w = Writer()
    w.line("// <auto-generated>")
    w.line("// Generated by tools/generate-depthwise-kernel.py; do not edit by hand. Regenerate from the repository root with")
    w.line(f"//     python3 tools/generate-depthwise-kernel.py --size {K} > src/ConvService.Compute/Kernels/{a.name}.cs")
    w.line("// </auto-generated>")
    w.line("using System.Runtime.CompilerServices;")
    w.line("using System.Runtime.Intrinsics;")
    w.line("using System.Runtime.Intrinsics.X86;")
    w.line()
    w.line("namespace ConvService.Compute.Kernels;")
    w.line()
    w.line("/// <summary>")
    w.line(f"/// {rows} output rows of a {K}x{K} per-channel filter with stride 1, dilation 1 and {words[HALF]} columns of zero padding on")
    w.line(f"/// each side, straight from the input rows (see <see cref=\"RowLoads\"/>): whole-vector loads, the {words[K - 1]}")
    w.line("/// shifted neighbours of each vector formed in registers with <c>valignd</c>, masked loads at the borders (zeros")
    w.line(f"/// outside the row), {rows * vectors} accumulator chains ({rows} rows by {vectors} vectors).")
    w.line("/// Every FMA takes its tap as an embedded broadcast (<c>{1to16}</c>) from its own copy of the weights (see")
    w.line("/// <see cref=\"PackWeights\"/>), so broadcasts cost no separate instruction and no register.")
    w.line("/// Generated by <c>tools/generate-depthwise-kernel.py</c>: the JIT does not unroll loops and <c>valignd</c> takes its")
    w.line("/// shift as an immediate.")
    w.line("/// </summary>")
    # A struct, so code generic over IDirectDepthwiseKernel is compiled per kernel (static calls direct, not looked up).
    w.open(f"internal readonly unsafe struct {a.name} : IDirectDepthwiseKernel")
    w.line(f"public const int Rows = {rows};")
    w.line()
    w.line("/// <summary>Input rows one group reads.</summary>")
    w.line(f"public const int InputRows = Rows + {K - 1};")
    w.line()
    w.line(f"/// <summary>Floats per packed filter: the {taps} taps once per accumulator ({rows} rows x {vectors} vectors).</summary>")
    w.line(f"public const int PackedTaps = {rows * vectors} * {taps};")
    w.line()
    w.line("private const int V = 16;")
    w.line()
    w.line(f"public static int Size => {K};")
    w.line()
    w.line("public static int Stride => 1;")
    w.line()
    w.line("static int IDirectDepthwiseKernel.Rows => Rows;")
    w.line()
    w.line("static int IDirectDepthwiseKernel.InputRows => InputRows;")
    w.line()
    if PREFETCH is not None:
        w.line("static int IDirectDepthwiseKernel.PrefetchRows => Rows;")
        w.line()
    w.line("static int IDirectDepthwiseKernel.PackedTaps => PackedTaps;")
    w.line()
    w.line("public static bool IsSupported => Avx512F.IsSupported;")
    w.line()
    w.line("/// <summary>")
    w.line(f"/// Same-width outputs: {words[HALF]} column{'s' if HALF > 1 else ''} of padding on each side (rows above and below may differ). The width is")
    w.line("/// checked too: a strided geometry with a single output column has its stride recorded as 1.")
    w.line("/// </summary>")
    w.line("public static bool Fits(Conv2dGeometry g) =>")
    w.line(f"    g.KernelH == {K} && g.KernelW == {K} && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1")
    w.line(f"    && g.PadLeft == {HALF} && g.PadRight == {HALF} && g.OutWidth == g.InWidth;")
    w.line()
    w.line("/// <summary>")
    w.line(f"/// One filter's {taps} taps (row-major) in the layout <see cref=\"Run\"/> reads: a copy per accumulator. With a single")
    w.line("/// copy the JIT merges the repeated broadcasts of a tap into long-lived registers, which spill; with one address")
    w.line("/// per FMA each broadcast folds into its FMA.")
    w.line("/// </summary>")
    w.open("public static void PackWeights(ReadOnlySpan<float> taps, Span<float> packed)")
    w.open(f"for (int copy = 0; copy < {rows * vectors}; copy++)")
    w.line(f"taps[..{taps}].CopyTo(packed.Slice(copy * {taps}, {taps}));")
    w.close()
    w.close()
    w.line()
    w.line("/// <summary>")
    w.line(f"/// <paramref name=\"rows\"/>: the {rows + K - 1} input rows (zero rows outside the image) of output rows")
    w.line(f"/// <c>0 .. {rows - 1}</c>; output row j goes to <c>destination + j * shape.OutWidth</c> for j &lt; <paramref name=\"rowCount\"/>")
    w.line("/// (same width as the input);")
    w.line("/// <paramref name=\"weights\"/>: one filter packed by <see cref=\"PackWeights\"/>.")
    w.line("/// </summary>")
    w.line("// Never inlined: a caller's tiered (OSR) compile that inlines Run leaves the big chunk bodies as calls to")
    w.line("// separately tiered methods, which start unoptimised; on its own, Run inlines them.")
    w.line("[MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]")
    w.open("public static void Run(float** rows, float* weights, float bias, float* destination, DirectRowShape shape, int rowCount)")
    w.line("int width = shape.OutWidth;")
    w.line("var b = Vector512.Create(bias);")
    w.line(f"bool prefetch = {'shape.PrefetchNextRows' if PREFETCH is not None else 'false'};")
    if ALIGN:
        w.line("// The chunk grid starts on the output row's first 64-byte line: whole vectors never split a line (nor do the")
        w.line("// loads when the input has the output's alignment, as two arrays from one allocator usually do).")
        w.line("int x = shape.AlignedChunks ? -(int)(((nint)destination & 63) >> 2) : 0;")
    else:
        w.line("int x = 0;")
    w.line()
    w.line(f"// Chunks of {vectors} vectors while the last one starts inside the row (it may be partial); a last single vector alone.")
    w.open(f"for (; {plus('x', (vectors - 1) * V)} < width; x += {vectors} * V)")
    w.open(f"if (x >= V && {plus('x', (vectors + 1) * V)} <= width)")
    w.line("Chunk<RowLoads.Whole>(rows, weights, b, destination, width, rowCount, x, prefetch);")
    w.close()
    w.open("else")
    w.line("Chunk<RowLoads.Clipped>(rows, weights, b, destination, width, rowCount, x, prefetch);")
    w.close()
    w.close()
    w.line()
    w.open("for (; x < width; x += V)")
    w.line("OneVector(rows, weights, b, destination, width, rowCount, x);")
    w.close()
    w.close()
    w.line()

    w.line("[MethodImpl(MethodImplOptions.AggressiveInlining)]")
    w.line("private static void Chunk<TLoad>(float** rows, float* w, Vector512<float> b, float* destination, int width, int rowCount, int x, bool prefetch)")
    w.line("    where TLoad : struct, RowLoads.IRowLoad")
    w.line("{")
    w.depth += 1
    accumulate(w, a, vectors, "TLoad", vectors)
    w.line()
    w.line("float* d = destination + x;")
    if ALIGN:
        w.open("if (typeof(TLoad) == typeof(RowLoads.Clipped))")
        w.line("// A chunk at either end of the row: write the lanes inside the row only.")
        for k in range(vectors):
            w.line(f"var mask{k} = RowLoads.ColumnMask({plus('x', k * V)}, width);")
        stores(w, rows, vectors, [f"mask{k}" for k in range(vectors)])
        w.line()
        w.line("return;")
        w.close()
        w.line()
    else:
        w.open(f"if (typeof(TLoad) == typeof(RowLoads.Clipped) && {plus('x', vectors * V)} > width)")
        w.line("// The last vector runs past the row: write its valid lanes only.")
        w.line(f"var mask = RowLoads.ColumnMask({plus('x', (vectors - 1) * V)}, width);")
        stores(w, rows, vectors, [None] * (vectors - 1) + ["mask"])
        w.line()
        w.line("return;")
        w.close()
        w.line()
    stores(w, rows, vectors, [None] * vectors)
    w.close()
    w.line()

    w.line("/// <summary>A last single vector of a row (full or partial): always through masks.</summary>")
    w.line("// Optimised from the first call: left to tiering it runs unoptimised (spilling every vector) until promoted.")
    w.line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]")
    w.open("private static void OneVector(float** rows, float* w, Vector512<float> b, float* destination, int width, int rowCount, int x)")
    accumulate(w, a, 1, "RowLoads.Clipped", vectors)
    w.line()
    w.line("var mask = RowLoads.ColumnMask(x, width);")
    w.line("float* d = destination + x;")
    stores(w, rows, 1, ["mask"])
    w.close()
    w.close()
    sys.stdout.write("\n".join(w.lines) + "\n")


if __name__ == "__main__":
    main()
