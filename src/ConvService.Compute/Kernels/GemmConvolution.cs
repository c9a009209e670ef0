using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ConvService.Compute.Memory;
using ConvService.Compute.Simd;
using ConvService.Compute.Threading;

namespace ConvService.Compute.Kernels;

/// <summary>
/// A standard (grouped) convolution as one GEMM per image and group: C[Cout/g x positions] =
/// A[Cout/g x K] * B[K x positions], K = Cin/g * Kh * Kw, C being the NCHW output itself.
/// Weights are packed once into panels of the register tile's rows (8 or 6). B is never
/// materialised as a full im2col: with stride 1 its row k is the (zero-padded) input shifted by a
/// fixed offset ("shifted" mode: positions laid out on the padded width, the few columns past the
/// output width discarded), so the micro-kernel reads B rows in place through a table of row
/// offsets (only tail strips that would read past the source are copied out first). Same-width
/// outputs with horizontal padding (3x3 pad 1 and the like) use the "column-masked" form of it: the
/// unpadded input itself on its own width, lanes of taps that cross a row edge ANDed to zero by the
/// kernel, and only strips touching the top or bottom padding gathered first, so neither a padded
/// copy nor a wasted padding column is paid (S2 4.37 -> ~4.2 ms, S5 8.38 -> ~8.1 ms at one thread).
/// Otherwise each strip of positions is gathered from the input just before use ("packed" mode).
/// Either way the B rows of a depth block stay in L1 while every panel of A streams past them.
/// </summary>
internal sealed unsafe class GemmConvolution<TOps, TVec> : IConvolutionKernel
    where TOps : struct, IVectorOps<TVec>
    where TVec : unmanaged
{
    /// <summary>Vectors of the narrow kernels (8 x 2, 6 x 2) that run a last strip this narrow.</summary>
    private const int TailVectors = GemmMicroKernel8x2.Vectors;

    /// <summary>Below this many multiply-adds per thread, splitting a request costs more than it gains.</summary>
    internal const long MinWorkPerThread = 64 * 1024;

    private readonly Conv2dGeometry g;
    private readonly int mr;
    private readonly int nr;
    private readonly int cinG;
    private readonly int mg;
    private readonly int depth;
    private readonly int panels;
    private readonly PinnedArray<float> packedA;
    private readonly PinnedArray<float> packedBias;
    private readonly PinnedArray<int>? shiftOffsets;
    private readonly PinnedArray<int> packedRows;
    private readonly int maxShift;
    private readonly PinnedArray<int>? tapChannel;
    private readonly PinnedArray<int>? tapDy;
    private readonly PinnedArray<int>? tapDx;
    private readonly bool shifted;
    private readonly bool columnMasked;
    private readonly PinnedArray<float>? columnMasks;
    private readonly PinnedArray<int>? maskRows;
    private readonly int maskPhaseStep;
    private readonly int firstInterior;
    private readonly int endInterior;
    private readonly bool padInput;
    private readonly bool phased;
    private readonly int phaseRows;
    private readonly StridedRowLayout phaseLayout;
    private readonly int sourceH;
    private readonly int sourceW;
    private readonly long positions;
    private readonly int strips;
    private readonly int depthBlock;
    private readonly JobPool jobs;

    /// <summary>True when B is read from the (padded) input in place; RunInto needs it without padding.</summary>
    internal bool ReadsSourceInPlace => shifted && !padInput && !columnMasked;

    /// <param name="packedByTileRows">
    /// Packed weights (and bias) by tile rows, shared by plans of the same weights that differ only
    /// in the number of positions (e.g. bands of a fused kernel), so each packs them at most once.
    /// </param>
    public GemmConvolution(
        Conv2dGeometry geometry, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, bool allowShifted = true,
        Dictionary<int, (PinnedArray<float> Weights, PinnedArray<float> Bias)>? packedByTileRows = null)
    {
        g = geometry;
        cinG = g.InChannelsPerGroup;
        mg = g.OutChannelsPerGroup;
        depth = checked(cinG * g.KernelH * g.KernelW);

        bool pads = (g.PadTop | g.PadLeft | g.PadBottom | g.PadRight) != 0;
        long outPositions = (long)g.OutHeight * g.OutWidth;
        // Padded rows share their zero columns: reads left of a row land in its own leading padLeft
        // zeros, reads right of it in its trailing zeros or the next row's leading ones, so the row
        // pitch needs only max(padLeft, padRight) extra columns (S5: 57 instead of 58, one wasted
        // position per row instead of two), and at least the output width (narrow kernels).
        int paddedW = Math.Max(g.InWidth + Math.Max(g.PadLeft, g.PadRight), g.OutWidth);
        long sourcePlane = (long)(g.InHeight + g.PadTop + g.PadBottom) * paddedW;

        // Strided convolutions split the padded input into stride x stride phase planes (phase
        // (py, px) holds padded rows py, py + sh, ... and columns px, px + sw, ...): tap (ky, kx) is
        // then a fixed offset into one phase, so B is read in place as with stride 1 instead of
        // gathered per strip. Positions are laid out on the phase width (a few columns wasted per row).
        phased = allowShifted && (g.StrideH > 1 || g.StrideW > 1) && g.StrideH <= 4 && g.StrideW <= 4;
        int stridePhases = g.StrideH * g.StrideW;
        if (phased)
        {
            phaseRows = (g.InHeight + g.PadTop + g.PadBottom + g.StrideH - 1) / g.StrideH;
            paddedW = (g.InWidth + g.PadLeft + g.PadRight + g.StrideW - 1) / g.StrideW;
            sourcePlane = (long)stridePhases * phaseRows * paddedW;
        }

        long shiftedPositions = (long)(g.OutHeight - 1) * paddedW + g.OutWidth;
        bool shiftable = allowShifted && (phased || (g.StrideH == 1 && g.StrideW == 1)) && sourcePlane * cinG < int.MaxValue / 2;
        phased &= shiftable;
        if (phased)
        {
            // Distance between a row's column phases is one phase plane: the row's px phases lie phaseRows rows apart.
            phaseLayout = new StridedRowLayout(phaseRows * paddedW, g.StrideW, g.PadLeft, g.InWidth);
        }

        // Same-width outputs with horizontal padding read the input itself: rows keep the input's
        // pitch, lanes of taps that cross a row edge (reading the neighbouring row) are masked to
        // zero in the kernel, so no padding column is computed, no padded copy is made and C is
        // stored in place. Strips whose taps reach above the first or below the last row (or out of
        // the buffer) gather their B block with row and column masks instead (see PackEdge).
        bool maskable = shiftable && !phased && g.OutWidth == g.InWidth && paddedW > g.InWidth;
        (mr, nr, shifted) = ChooseTileAndMode(shiftable, maskable ? outPositions : shiftedPositions, outPositions, mg);
        columnMasked = maskable && shifted && MaskTableFloats(g.InWidth, nr, g.KernelW) <= MaxMaskTableFloats;
        if (maskable && !columnMasked)
        {
            (mr, nr, shifted) = ChooseTileAndMode(shiftable, shiftedPositions, outPositions, mg);
        }

        if (columnMasked)
        {
            paddedW = g.InWidth;
            shiftedPositions = outPositions;
            maskPhaseStep = Gcd(g.InWidth, nr);
            columnMasks = BuildColumnMasks(out maskRows);
        }

        panels = (mg + mr - 1) / mr;
        if (packedByTileRows != null && packedByTileRows.TryGetValue(mr, out var packed))
        {
            (packedA, packedBias) = packed;
        }
        else
        {
            packedA = new PinnedArray<float>(checked((long)g.Groups * panels * depth * mr));
            packedBias = new PinnedArray<float>((long)g.Groups * panels * mr);
            PackWeights(weight, bias);
            packedByTileRows?.Add(mr, (packedA, packedBias));
        }
        if (shifted)
        {
            padInput = (pads || phased) && !columnMasked;
            sourceH = columnMasked ? g.InHeight : phased ? stridePhases * phaseRows : g.InHeight + g.PadTop + g.PadBottom;
            sourceW = paddedW;
            positions = shiftedPositions;
            shiftOffsets = new PinnedArray<int>(depth);
            int k = 0;
            for (int ci = 0; ci < cinG; ci++)
            {
                for (int ky = 0; ky < g.KernelH; ky++)
                {
                    for (int kx = 0; kx < g.KernelW; kx++)
                    {
                        // Column-masked offsets are relative to the unpadded input, so they may be negative.
                        int y = ky * g.DilationH, x = kx * g.DilationW;
                        int offset = columnMasked
                            ? (int)((long)ci * sourceH * sourceW + ((long)y - g.PadTop) * sourceW + x - g.PadLeft)
                            : phased
                                ? (int)((long)ci * sourceH * sourceW
                                    + ((long)((((y % g.StrideH) * g.StrideW) + (x % g.StrideW)) * phaseRows) + (y / g.StrideH)) * sourceW + (x / g.StrideW))
                                : (int)((long)ci * sourceH * sourceW + (long)y * sourceW + x);
                        shiftOffsets.Pointer[k++] = offset;
                        maxShift = Math.Max(maxShift, offset);
                    }
                }
            }
        }
        else
        {
            sourceH = g.InHeight;
            sourceW = g.InWidth;
            positions = outPositions;
            tapChannel = new PinnedArray<int>(depth);
            tapDy = new PinnedArray<int>(depth);
            tapDx = new PinnedArray<int>(depth);
            int k = 0;
            for (int ci = 0; ci < cinG; ci++)
            {
                for (int ky = 0; ky < g.KernelH; ky++)
                {
                    for (int kx = 0; kx < g.KernelW; kx++)
                    {
                        tapChannel.Pointer[k] = ci;
                        tapDy.Pointer[k] = ky * g.DilationH - g.PadTop;
                        tapDx.Pointer[k] = kx * g.DilationW - g.PadLeft;
                        k++;
                    }
                }
            }
        }

        strips = checked((int)((positions + nr - 1) / nr));
        if (columnMasked)
        {
            // Interior strips read only rows inside the input and memory inside every plane:
            // from q0 - padTop * W - padLeft >= 0 to q0 + nr - 1 + bottom reach <= H * W - 1.
            long plane = (long)g.InHeight * g.InWidth;
            long top = ((long)g.PadTop * g.InWidth) + g.PadLeft;
            long bottom = ((long)(((g.KernelH - 1) * g.DilationH) - g.PadTop) * g.InWidth) + ((g.KernelW - 1) * g.DilationW) - g.PadLeft;
            firstInterior = (int)Math.Min(strips, (top + nr - 1) / nr);
            long lastStart = plane - 1 - bottom - (nr - 1);
            endInterior = lastStart < 0 ? firstInterior : (int)Math.Clamp((lastStart / nr) + 1, firstInterior, strips);
        }

        packedRows = new PinnedArray<int>(depth);
        for (int k = 0; k < depth; k++)
        {
            packedRows.Pointer[k] = checked(k * nr);
        }

        // Packed B: about 24 KB per block, so it stays in L1 while the panels of A stream past.
        // Shifted B read in place: the taps of a channel overlap on a few source rows, so a block's
        // footprint is about Kh row segments per channel; whole depths up to ~192 KB of that ran
        // 1-2% faster than 24 KB blocks on S2 and S5 (no C reloads between blocks).
        int maxBlock = Math.Max(16, 24 * 1024 / (nr * sizeof(float)));
        if (shifted)
        {
            long channelBytes = (long)g.KernelH * (nr + ((g.KernelW - 1) * g.DilationW)) * sizeof(float);
            long channels = Math.Max(1, 192 * 1024 / channelBytes);
            maxBlock = (int)Math.Max(maxBlock, Math.Min(channels * g.KernelH * g.KernelW, depth));
        }

        int blocks = (depth + maxBlock - 1) / maxBlock;
        depthBlock = (depth + blocks - 1) / blocks;
        jobs = new JobPool(() => new Job(this));
        Algorithm = (g.KernelH == 1 && g.KernelW == 1 && g.StrideH == 1 && g.StrideW == 1 && !pads ? "pointwise-gemm-" : "implicit-gemm-")
            + TOps.IsaName;
    }

    public string Algorithm { get; }

    public long Multiplications => g.Multiplications;

    /// <summary>Multiply-adds the kernels actually issue (padding lanes included); used to size thread splits.</summary>
    private long IssuedWork => (long)g.Batch * g.Groups * strips * panels * mr * depth * nr;

    /// <summary>Runs the convolution of <paramref name="inputLength"/> input floats into the full output.</summary>
    public void Execute(float* input, long inputLength, float* output, int maxThreads, CancellationToken cancellationToken)
    {
        PooledBuffer padded = default;
        try
        {
            float* source = input;
            long sourceLength = inputLength;
            long padPlanes = 0;
            if (padInput)
            {
                // The padded copy is filled by the workers themselves, plane by plane, before any strip runs.
                padPlanes = (long)g.Batch * g.InChannels;
                sourceLength = padPlanes * sourceH * sourceW;
                // Past the planes: the last row's right-padding reads (up to one row) and tail strips
                // reading B in place (up to nr floats) both need zeros there.
                long slack = nr + sourceW;
                padded = NativeBufferPool.Rent(sourceLength + slack);
                source = padded.Pointer;
                new Span<float>(source + sourceLength, (int)slack).Clear();
                sourceLength += slack;
            }

            int threads = (int)Math.Clamp(IssuedWork / MinWorkPerThread, 1, Math.Max(1, maxThreads));
            long stripItems = (long)g.Batch * g.Groups * strips;
            int panelGroups = PanelGroups(stripItems, threads);
            var job = (Job)jobs.Rent();
            job.Set(source, sourceLength, input, output, padPlanes, stripItems * panelGroups, panelGroups, threads, cancellationToken);
            ComputePool.Shared.Run(job, threads, threads);
        }
        finally
        {
            padded.Dispose();
        }
    }

    /// <summary>
    /// Few strips (small images) split the output channels too, into as few panel groups as make the
    /// item count a multiple of the thread count: every group repacks B, which costs on im2col strips
    /// (S1, one 64-position strip: 2 groups at 2 threads ran in 0.014 ms, 8 groups in 0.020 ms).
    /// Shifted B read in place costs a group only cache reads, so there groups also shorten the tail
    /// (the last claims are one item) until there are 64 items per thread (S5, 67 strips, at 2
    /// threads: 4.33 -> 4.29 ms with 2 groups).
    /// </summary>
    internal static int PanelGroupsFor(long stripItems, int threads, int panels, bool inPlaceB)
    {
        if (threads <= 1)
        {
            return 1;
        }

        int groups = 1;
        if (stripItems < threads * 16L)
        {
            long common = threads;
            for (long a = stripItems; a != 0;)
            {
                (common, a) = (a, common % a);
            }

            groups = (int)Math.Min(panels, threads / common);
        }

        while (inPlaceB && stripItems * groups < threads * 64L && groups * 2 <= panels / 4)
        {
            groups *= 2;
        }

        return groups;
    }

    /// <remarks>
    /// Column-masked plans gather the B block of every edge strip once per item, and on small images
    /// most strips are edge strips: splitting them over more panel groups only repeats the gathers
    /// (X6, 256x14x14 3x3 at 2 threads: 8 groups 1.28 ms, 2 groups 1.13 ms).
    /// </remarks>
    private int PanelGroups(long stripItems, int threads) => PanelGroupsFor(stripItems, threads, panels, shifted && !columnMasked);

    /// <summary>
    /// Picks the register tile (8 x 3 or 6 x 4 vectors; 6 x 2 with 16 registers) and the B source that issue the fewest
    /// padded multiply-adds, counting B packing as a few extra rows of work per strip: shifted
    /// packing is a plain vector copy, im2col packing walks rows and zero-fills edges (measured on
    /// S5, 128x56x56 3x3: im2col at 3.5% fewer positions still ran 4% slower than shifted).
    /// </summary>
    private static (int mr, int Nr, bool Shifted) ChooseTileAndMode(bool shiftable, long shiftedPositions, long outPositions, int mg)
    {
        (int mr, int Nr, bool Shifted) best = (MainTiles[0].Rows, MainTiles[0].Vectors * TOps.Count, false);
        double bestCost = double.MaxValue;
        foreach (var (rows, vectors) in MainTiles)
        {
            int columns = vectors * TOps.Count;
            double rowWork = (double)((mg + rows - 1) / rows) * rows;
            double packedCost = IssuedColumns(outPositions, vectors) * (rowWork + 12);
            if (packedCost < bestCost)
            {
                (best, bestCost) = ((rows, columns, false), packedCost);
            }

            double shiftedCost = IssuedColumns(shiftedPositions, vectors) * (rowWork + 1);
            if (shiftable && shiftedCost <= bestCost)
            {
                (best, bestCost) = ((rows, columns, true), shiftedCost);
            }
        }

        return best;
    }

    /// <summary>
    /// Register tiles of full strips: 8 x 3 and 6 x 4 (24 accumulators) need 32 vector registers; with 16
    /// (x64 without AVX-512) they spill every accumulator, so there the 6 x 2 tile (12 accumulators, 2 B
    /// vectors, 1 broadcast) runs whole strips (S5 with AVX-512 disabled: 51-62 -> 71-80 GFLOP/s, peak 117 at 256 bits too).
    /// </summary>
    private static readonly (int Rows, int Vectors)[] MainTiles = VectorRegisters.Count >= 32
        ? [(GemmMicroKernel8x3.Rows, GemmMicroKernel8x3.Vectors), (GemmMicroKernel6x4.Rows, GemmMicroKernel6x4.Vectors)]
        : [(GemmMicroKernel6x2.Rows, GemmMicroKernel6x2.Vectors)];

    /// <summary>Cap on the column-mask table of a plan (64 KB); wider images keep the padded-pitch layout.</summary>
    private const long MaxMaskTableFloats = 16 * 1024;

    /// <summary>Floats of the column-mask table: one row of nr lanes per tap column and distinct strip phase within an input row.</summary>
    private static long MaskTableFloats(int width, int nr, int kernelW) => (long)(width / Gcd(width, nr)) * kernelW * nr;

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    /// <summary>
    /// Lane masks of the column-masked layout, by strip phase (the strip's first position modulo the
    /// width, a multiple of <see cref="maskPhaseStep"/>) and tap column: all ones where the tap's input
    /// column lies inside the row, zero where it falls in the padding. <paramref name="rows"/>[k] is
    /// the offset of tap k's mask row within a phase.
    /// </summary>
    private PinnedArray<float> BuildColumnMasks(out PinnedArray<int> rows)
    {
        int width = g.InWidth, kernelW = g.KernelW;
        int phases = width / maskPhaseStep;
        var table = new PinnedArray<float>(MaskTableFloats(width, nr, kernelW));
        int* bits = (int*)table.Pointer;
        for (int p = 0; p < phases; p++)
        {
            for (int kx = 0; kx < kernelW; kx++)
            {
                int dx = (kx * g.DilationW) - g.PadLeft;
                int* row = bits + ((((long)p * kernelW) + kx) * nr);
                for (int j = 0; j < nr; j++)
                {
                    int ox = ((p * maskPhaseStep) + j) % width;
                    row[j] = (uint)(ox + dx) < (uint)width ? -1 : 0;
                }
            }
        }

        rows = new PinnedArray<int>(depth);
        for (int k = 0; k < depth; k++)
        {
            rows.Pointer[k] = k % kernelW * nr;
        }

        return table;
    }

    /// <summary>Multiply-adds issued per output position (tile padding included) by an ungrouped pointwise plan over <paramref name="positions"/> positions.</summary>
    internal static double PointwiseWorkPerPosition(long positions, int outChannels)
    {
        var (rows, columns, _) = ChooseTileAndMode(true, positions, positions, outChannels);
        double rowWork = (double)((outChannels + rows - 1) / rows) * rows;
        return IssuedColumns(positions, columns / TOps.Count) * rowWork / positions;
    }

    /// <summary>Positions a plan with strips of <paramref name="vectors"/> vectors computes, the last strip two vectors wide when that covers it.</summary>
    private static double IssuedColumns(long positions, int vectors)
    {
        int v = TOps.Count;
        long columns = (long)vectors * v;
        long left = positions % columns;
        // One-vector tails are costed as two: the one-vector kernel is broadcast-bound, and counting
        // it as one made S1 (64 positions) pick 8 x 3 with an im2col tail over 6 x 4 (0.024 -> 0.026 ms).
        long tail = left == 0 ? 0 : left <= TailVectors * v && vectors > TailVectors ? TailVectors * v : columns;
        return (double)(positions / columns * columns) + tail;
    }

    private void PackWeights(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias)
    {
        float* a = packedA.Pointer;
        float* b = packedBias.Pointer;
        for (int group = 0; group < g.Groups; group++)
        {
            for (int panel = 0; panel < panels; panel++)
            {
                for (int r = 0; r < mr; r++)
                {
                    int m = panel * mr + r;
                    int co = group * mg + m;
                    b[r] = m < mg && !bias.IsEmpty ? bias[co] : 0f;
                    for (int k = 0; k < depth; k++)
                    {
                        a[(k * mr) + r] = m < mg ? weight[(co * depth) + k] : 0f;
                    }
                }

                a += (long)depth * mr;
                b += mr;
            }
        }
    }

    /// <summary>Copies one (image, channel) plane into the padded source: rows of pitch sourceW, padLeft zeros, data, zeros to the pitch.</summary>
    private void PadPlane(float* input, float* padded, long plane)
    {
        if (phased)
        {
            PadPlaneInPhases(input, padded, plane);
            return;
        }

        if (typeof(TOps) == typeof(Vector512Ops) && Avx512F.IsSupported && sourceW >= Vector512<float>.Count)
        {
            PadPlane512(input, padded, plane);
            return;
        }

        float* src = input + (plane * g.InHeight * g.InWidth);
        float* dst = padded + (plane * sourceH * sourceW);
        new Span<float>(dst, g.PadTop * sourceW).Clear();
        dst += g.PadTop * sourceW;
        for (int y = 0; y < g.InHeight; y++)
        {
            new Span<float>(dst, g.PadLeft).Clear();
            new ReadOnlySpan<float>(src, g.InWidth).CopyTo(new Span<float>(dst + g.PadLeft, g.InWidth));
            new Span<float>(dst + g.PadLeft + g.InWidth, sourceW - g.PadLeft - g.InWidth).Clear();
            src += g.InWidth;
            dst += sourceW;
        }

        new Span<float>(dst, g.PadBottom * sourceW).Clear();
    }

    /// <summary>
    /// Strided convolutions: one (image, channel) plane, zero padded, split into stride x stride phase
    /// planes stacked in the order (py, px); padded row y goes to phase row y / sh of phases (y % sh, *).
    /// </summary>
    private void PadPlaneInPhases(float* input, float* padded, long plane)
    {
        float* src = input + (plane * g.InHeight * g.InWidth);
        float* dst = padded + (plane * sourceH * sourceW);
        new Span<float>(dst, sourceH * sourceW).Clear();
        int vectorBits = TOps.Count * 32;
        for (int iy = 0; iy < g.InHeight; iy++)
        {
            int y = iy + g.PadTop;
            long row = ((long)(y % g.StrideH) * g.StrideW * phaseRows) + (y / g.StrideH);
            phaseLayout.Fill(src + ((long)iy * g.InWidth), dst + (row * sourceW), vectorBits);
        }
    }

    /// <summary>
    /// <see cref="PadPlane"/> with one masked load and one store per vector of a padded row: lanes
    /// outside the input row read as zero, so a row needs no separate clears and copy calls (all
    /// planes of S5's input, warm: 0.053 -> 0.039 ms; S2's: 0.043 -> 0.038 ms).
    /// </summary>
    private void PadPlane512(float* input, float* padded, long plane)
    {
        const int V = 16;
        int inW = g.InWidth;
        float* src = input + (plane * g.InHeight * inW) - g.PadLeft;
        float* dst = padded + (plane * sourceH * sourceW);
        new Span<float>(dst, g.PadTop * sourceW).Clear();
        dst += g.PadTop * sourceW;
        var lanes = Vector512<int>.Indices;
        var width = Vector512.Create((uint)inW);
        var first = lanes - Vector512.Create(g.PadLeft);
        int full = sourceW / V * V;
        var lastLanes = Vector512.LessThan(lanes, Vector512.Create(sourceW - full)).AsSingle();
        for (int y = 0; y < g.InHeight; y++)
        {
            int x = 0;
            for (; x < full; x += V)
            {
                // Unsigned compare: columns left of the row are negative, so they wrap past the width too.
                var inside = Vector512.LessThan((first + Vector512.Create(x)).AsUInt32(), width).AsSingle();
                Avx512F.MaskLoad(src + x, inside, Vector512<float>.Zero).Store(dst + x);
            }

            if (x < sourceW)
            {
                var inside = Vector512.LessThan((first + Vector512.Create(x)).AsUInt32(), width).AsSingle();
                Avx512F.MaskStore(dst + x, lastLanes, Avx512F.MaskLoad(src + x, inside & lastLanes, Vector512<float>.Zero));
            }

            src += inW;
            dst += sourceW;
        }

        new Span<float>(dst, g.PadBottom * sourceW).Clear();
    }

    /// <summary>Runs items first .. end of (image, group, strip, panel group), panel group varying fastest.</summary>
    private void RunItems(Job job, long first, long end, float* pack, float* tile)
    {
        int panelGroups = job.PanelGroups;
        for (long item = first; item < end; item++)
        {
            job.Token.ThrowIfCancellationRequested();
            int panelGroup = (int)(item % panelGroups);
            long stripItem = item / panelGroups;
            int strip = (int)(stripItem % strips);
            long imageGroup = stripItem / strips;
            int group = (int)(imageGroup % g.Groups);
            int n = (int)(imageGroup / g.Groups);
            int panelBegin = (int)((long)panels * panelGroup / panelGroups);
            int panelEnd = (int)((long)panels * (panelGroup + 1) / panelGroups);
            RunStrip(job.Source, job.SourceLength, job.Input, job.Output, (long)g.OutHeight * g.OutWidth, 0, n, group, strip, panelBegin, panelEnd, pack, tile);
        }
    }

    /// <summary>Floats of the B-packing buffer one worker needs.</summary>
    internal long PackFloats => (long)(shifted ? Math.Min(depth, depthBlock) : depth) * nr;

    /// <summary>Floats of the C-tile buffer one worker needs.</summary>
    internal long TileFloats => (long)panels * mr * nr;

    /// <summary>
    /// Runs image 0 of this geometry on the calling thread, from a source already laid out as this
    /// plan reads it (shifted mode without padding, e.g. a fused producer's band), into output planes
    /// of stride <paramref name="outputPlane"/> starting at position <paramref name="outputOffset"/>.
    /// </summary>
    internal void RunInto(float* source, long sourceLength, float* output, long outputPlane, long outputOffset, float* pack, float* tile)
    {
        if (!ReadsSourceInPlace)
        {
            throw new InvalidOperationException("RunInto needs an unpadded shifted plan");
        }

        for (int group = 0; group < g.Groups; group++)
        {
            for (int strip = 0; strip < strips; strip++)
            {
                RunStrip(source, sourceLength, source, output, outputPlane, outputOffset, 0, group, strip, 0, panels, pack, tile);
            }
        }
    }

    private void RunStrip(
        float* source, long sourceLength, float* input, float* output, long outPlane, long outOffset, int n, int group, int strip, int panelBegin, int panelEnd, float* pack, float* tile)
    {
        long q0 = (long)strip * nr;
        float* shiftedBase = null;
        long shiftedAvailable = 0;
        bool readInPlace = false;

        // A last strip whose positions fit in two vectors runs the two-vector kernel of the same rows.
        bool narrow = nr > TailVectors * TOps.Count && positions - q0 <= TailVectors * TOps.Count;

        // One that fits in one vector runs the one-vector kernel (S5: 16 positions left after 65 strips of 48).
        bool single = nr > TOps.Count && positions - q0 <= TOps.Count;
        int vectors = single ? 1 : narrow ? TailVectors : nr / TOps.Count;
        if (shifted)
        {
            long baseOffset = ((((long)n * g.InChannels) + ((long)group * cinG)) * sourceH * sourceW) + q0;
            shiftedBase = source + baseOffset;
            shiftedAvailable = sourceLength - baseOffset;
            readInPlace = columnMasked
                ? strip >= firstInterior && strip < endInterior
                : shiftedAvailable - maxShift >= (narrow ? TailVectors * TOps.Count : nr);
        }
        else
        {
            PackIm2col(input + ((((long)n * g.InChannels) + ((long)group * cinG)) * g.InHeight * g.InWidth), q0, pack);
        }

        float* outBase = output + ((((long)n * g.OutChannels) + ((long)group * mg)) * outPlane) + outOffset;
        bool directStore = (!shifted || sourceW == g.OutWidth) && q0 + nr <= positions;
        float* groupA = packedA.Pointer + ((long)group * panels * depth * mr);
        float* groupBias = packedBias.Pointer + ((long)group * panels * mr);
        float* masks = columnMasked ? columnMasks!.Pointer + ((q0 % sourceW / maskPhaseStep) * g.KernelW * nr) : null;

        // The reduction is blocked so one packed block of B rows stays in L1 while every panel of A streams past it.
        for (int k0 = 0; k0 < depth; k0 += depthBlock)
        {
            int count = Math.Min(depthBlock, depth - k0);
            float* b;
            int* bRows;
            if (readInPlace)
            {
                // Rows of B are the source at fixed offsets: the kernel reads them where they are.
                b = shiftedBase;
                bRows = shiftOffsets!.Pointer + k0;
            }
            else if (columnMasked)
            {
                PackEdge(shiftedBase - q0, q0, k0, count, pack);
                b = pack;
                bRows = packedRows.Pointer;
            }
            else if (shifted)
            {
                PackShifted(shiftedBase, shiftedAvailable, k0, count, pack);
                b = pack;
                bRows = packedRows.Pointer;
            }
            else
            {
                b = pack + ((long)k0 * nr);
                bRows = packedRows.Pointer;
            }

            bool accumulate = k0 > 0;
            for (int panel = panelBegin; panel < panelEnd; panel++)
            {
                float* a = groupA + ((long)panel * depth * mr) + ((long)k0 * mr);
                float* bias = groupBias + (panel * mr);
                bool inPlace = directStore && (panel + 1) * mr <= mg;
                float* c = inPlace ? outBase + ((long)panel * mr * outPlane) + q0 : tile + ((long)panel * mr * nr);
                nint ldc = inPlace ? (nint)outPlane : nr;
                if (columnMasked && readInPlace)
                {
                    RunTile<ColumnMasked>(vectors, a, b, bRows, masks, maskRows!.Pointer + k0, count, bias, c, ldc, accumulate);
                }
                else
                {
                    RunTile<ColumnUnmasked>(vectors, a, b, bRows, null, null, count, bias, c, ldc, accumulate);
                }

                if (!inPlace && k0 + count == depth)
                {
                    // Scatter the finished panel while its tile rows are still in L1.
                    ScatterTile(c, Math.Min(mr, mg - (panel * mr)), q0, outBase + ((long)panel * mr * outPlane), outPlane);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RunTile<TMask>(int vectors, float* a, float* b, int* bRows, float* masks, int* maskRowsK, int count, float* bias, float* c, nint ldc, bool accumulate)
        where TMask : struct, IColumnMask
    {
        if (mr == GemmMicroKernel8x3.Rows)
        {
            if (vectors == 1)
            {
                GemmMicroKernel8x1.Run<TOps, TVec, TMask>(a, b, bRows, masks, maskRowsK, count, bias, c, ldc, accumulate);
            }
            else if (vectors == 2)
            {
                GemmMicroKernel8x2.Run<TOps, TVec, TMask>(a, b, bRows, masks, maskRowsK, count, bias, c, ldc, accumulate);
            }
            else
            {
                GemmMicroKernel8x3.Run<TOps, TVec, TMask>(a, b, bRows, masks, maskRowsK, count, bias, c, ldc, accumulate);
            }
        }
        else if (vectors == 1)
        {
            GemmMicroKernel6x1.Run<TOps, TVec, TMask>(a, b, bRows, masks, maskRowsK, count, bias, c, ldc, accumulate);
        }
        else if (vectors == 2)
        {
            GemmMicroKernel6x2.Run<TOps, TVec, TMask>(a, b, bRows, masks, maskRowsK, count, bias, c, ldc, accumulate);
        }
        else
        {
            GemmMicroKernel6x4.Run<TOps, TVec, TMask>(a, b, bRows, masks, maskRowsK, count, bias, c, ldc, accumulate);
        }
    }

    /// <summary>Copies the valid part of a tile (rows, positions inside the output) to the output planes.</summary>
    private void ScatterTile(float* tile, int rows, long q0, float* c, long outPlane)
    {
        if (shifted && sourceW >= Vector512<float>.Count && typeof(TOps) == typeof(Vector512Ops) && Avx512F.IsSupported)
        {
            ScatterShiftedTile512(tile, rows, q0, c, outPlane);
            return;
        }

        long width = shifted ? sourceW : g.OutWidth;
        long end = Math.Min(q0 + nr, positions);
        long q = q0;
        while (q < end)
        {
            long oy = q / width;
            long ox = q % width;
            long run = Math.Min(width - ox, end - q);
            long valid = Math.Min(run, g.OutWidth - ox);
            if (valid > 0)
            {
                for (int r = 0; r < rows; r++)
                {
                    new ReadOnlySpan<float>(tile + (r * nr) + (q - q0), (int)valid)
                        .CopyTo(new Span<float>(c + (r * outPlane) + (oy * g.OutWidth) + ox, (int)valid));
                }
            }

            q += run;
        }
    }

    /// <summary>
    /// Shifted-mode scatter with one or two masked stores per tile vector: a vector of 16 positions
    /// on the padded width crosses at most one row end (the width is at least 16), so its lanes land
    /// in this output row and the next, the padding lanes between them dropped. Replaces a span copy
    /// per row segment, which cost about 7% of S2 (32x112x112, 3x3 pad 1) at one thread.
    /// </summary>
    private void ScatterShiftedTile512(float* tile, int rows, long q0, float* c, long outPlane)
    {
        int outW = g.OutWidth;
        var lanes = Vector512<int>.Indices;
        for (int j = 0; j < nr; j += Vector512<float>.Count)
        {
            long q = q0 + j;
            if (q >= positions)
            {
                break;
            }

            long oy = q / sourceW;
            int ox = (int)(q % sourceW);
            var x = lanes + Vector512.Create(ox);
            var inside = Vector512.LessThan(lanes, Vector512.Create((int)Math.Min(positions - q, Vector512<float>.Count)));
            var thisRow = (Vector512.LessThan(x, Vector512.Create(outW)) & inside).AsSingle();
            var nextX = x - Vector512.Create(sourceW);
            var nextRow = (Vector512.GreaterThanOrEqual(nextX, Vector512<int>.Zero) & Vector512.LessThan(nextX, Vector512.Create(outW)) & inside).AsSingle();
            bool crosses = nextRow != Vector512<float>.Zero;
            float* first = c + (oy * outW) + ox;
            float* second = c + ((oy + 1) * outW) + ox - sourceW;
            float* src = tile + j;
            for (int r = 0; r < rows; r++)
            {
                var v = Vector512.Load(src + (r * nr));
                Avx512F.MaskStore(first + (r * outPlane), thisRow, v);
                if (crosses)
                {
                    Avx512F.MaskStore(second + (r * outPlane), nextRow, v);
                }
            }
        }
    }

    /// <summary>
    /// Column-masked mode, strips at the top or bottom of the image: gathers rows k0 .. k0 + count of
    /// B from the unpadded input of this image and group, zero where a tap's input row or column
    /// lies in the padding or the position is past the output. Masked vector loads do not touch the
    /// lanes they skip, so nothing is read outside the input.
    /// </summary>
    private void PackEdge(float* input, long q0, int k0, int count, float* pack)
    {
        int width = g.InWidth, height = g.InHeight, kernelW = g.KernelW, taps = g.KernelH * kernelW;
        long plane = (long)height * width;
        int* rowOf = stackalloc int[nr];
        int* columnOf = stackalloc int[nr];
        for (int j = 0; j < nr; j++)
        {
            long q = q0 + j;
            // Positions past the output get a row far above the image, so every tap reads zero there.
            rowOf[j] = q < positions ? (int)(q / width) : int.MinValue / 2;
            columnOf[j] = q < positions ? (int)(q % width) : 0;
        }

        for (int k = 0; k < count; k++)
        {
            int ci = (k0 + k) / taps, tap = (k0 + k) % taps;
            int dy = (tap / kernelW * g.DilationH) - g.PadTop;
            int dx = (tap % kernelW * g.DilationW) - g.PadLeft;
            float* src = input + (ci * plane) + q0 + ((long)dy * width) + dx;
            float* dst = pack + (k * nr);
            if (typeof(TOps) == typeof(Vector512Ops) && Avx512F.IsSupported)
            {
                for (int j = 0; j < nr; j += Vector512<float>.Count)
                {
                    var rows = Vector512.Load(rowOf + j) + Vector512.Create(dy);
                    var columns = Vector512.Load(columnOf + j) + Vector512.Create(dx);
                    var inside = Vector512.LessThan(rows.AsUInt32(), Vector512.Create((uint)height))
                        & Vector512.LessThan(columns.AsUInt32(), Vector512.Create((uint)width));
                    Avx512F.MaskLoad(src + j, inside.AsSingle(), Vector512<float>.Zero).Store(dst + j);
                }
            }
            else if (typeof(TOps) == typeof(Vector256Ops) && Avx2.IsSupported)
            {
                for (int j = 0; j < nr; j += Vector256<float>.Count)
                {
                    var rows = Vector256.Load(rowOf + j) + Vector256.Create(dy);
                    var columns = Vector256.Load(columnOf + j) + Vector256.Create(dx);
                    var inside = Vector256.LessThan(rows.AsUInt32(), Vector256.Create((uint)height))
                        & Vector256.LessThan(columns.AsUInt32(), Vector256.Create((uint)width));
                    Avx.MaskLoad(src + j, inside.AsSingle()).Store(dst + j);
                }
            }
            else
            {
                for (int j = 0; j < nr; j++)
                {
                    bool inside = (uint)(rowOf[j] + dy) < (uint)height && (uint)(columnOf[j] + dx) < (uint)width;
                    dst[j] = inside ? src[j] : 0f;
                }
            }
        }
    }

    /// <summary>
    /// Shifted mode: rows k0 .. k0 + count of B are the source at fixed offsets; copy them into a
    /// contiguous, aligned block (cheap next to the panels that reuse it), zero past the source's end.
    /// </summary>
    private void PackShifted(float* source, long available, int k0, int count, float* pack)
    {
        int v = TOps.Count;
        int* offsets = shiftOffsets!.Pointer + k0;
        for (int k = 0; k < count; k++)
        {
            float* src = source + offsets[k];
            float* dst = pack + (k * nr);
            if (available - offsets[k] >= nr)
            {
                for (int j = 0; j < nr; j += v)
                {
                    TOps.Store(dst + j, TOps.Load(src + j));
                }
            }
            else
            {
                int valid = (int)Math.Clamp(available - offsets[k], 0, nr);
                new ReadOnlySpan<float>(src, valid).CopyTo(new Span<float>(dst, valid));
                new Span<float>(dst + valid, nr - valid).Clear();
            }
        }
    }

    /// <summary>Packs rows k of B for positions q0 .. q0 + nr straight from the input (zero outside it).</summary>
    private void PackIm2col(float* input, long q0, float* pack)
    {
        int inH = g.InHeight, inW = g.InWidth, outW = g.OutWidth, sh = g.StrideH, sw = g.StrideW;
        long outPositions = (long)g.OutHeight * outW;
        long plane = (long)inH * inW;
        for (int k = 0; k < depth; k++)
        {
            float* dst = pack + (k * nr);
            float* channel = input + (tapChannel!.Pointer[k] * plane);
            int dy = tapDy!.Pointer[k], dx = tapDx!.Pointer[k];
            long q = q0;
            int j = 0;
            int oy = (int)(q / outW), ox = (int)(q % outW);
            while (j < nr)
            {
                if (q >= outPositions)
                {
                    new Span<float>(dst + j, nr - j).Clear();
                    break;
                }

                int segment = Math.Min(nr - j, outW - ox);
                int iy = (oy * sh) + dy;
                if ((uint)iy >= (uint)inH)
                {
                    new Span<float>(dst + j, segment).Clear();
                }
                else
                {
                    float* row = channel + ((long)iy * inW);
                    if (sw == 1 && segment <= 16)
                    {
                        // Short output rows (small images): element copies beat three span calls per segment.
                        int ix0 = ox + dx;
                        float* d = dst + j;
                        if (typeof(TOps) == typeof(Vector512Ops) && Avx512F.IsSupported)
                        {
                            // One masked load and store: lanes outside the row read as zero, lanes past the segment are not written.
                            var lanes = Vector512<int>.Indices;
                            var columns = lanes + Vector512.Create(ix0);
                            var inside = Vector512.GreaterThanOrEqual(columns, Vector512<int>.Zero) & Vector512.LessThan(columns, Vector512.Create(inW));
                            var written = Vector512.LessThan(lanes, Vector512.Create(segment)).AsSingle();
                            var values = Avx512F.MaskLoad(row + ix0, (inside.AsSingle() & written), Vector512<float>.Zero);
                            Avx512F.MaskStore(d, written, values);
                        }
                        else
                        {
                            for (int t = 0; t < segment; t++)
                            {
                                d[t] = (uint)(ix0 + t) < (uint)inW ? row[ix0 + t] : 0f;
                            }
                        }
                    }
                    else if (sw == 1)
                    {
                        int ix0 = ox + dx;
                        int begin = Math.Clamp(-ix0, 0, segment);
                        int stop = Math.Clamp(inW - ix0, begin, segment);
                        new Span<float>(dst + j, begin).Clear();
                        new ReadOnlySpan<float>(row + ix0 + begin, stop - begin).CopyTo(new Span<float>(dst + j + begin, stop - begin));
                        new Span<float>(dst + j + stop, segment - stop).Clear();
                    }
                    else
                    {
                        for (int t = 0; t < segment; t++)
                        {
                            int ix = ((ox + t) * sw) + dx;
                            dst[j + t] = (uint)ix < (uint)inW ? row[ix] : 0f;
                        }
                    }
                }

                j += segment;
                q += segment;
                ox = 0;
                oy++;
            }
        }
    }

    /// <summary>
    /// Per-call state of one execution. Each participant (one chunk per thread) first pads input
    /// planes until none is left, waits for the others' planes, then claims ranges of items that
    /// shrink as the work runs out (guided), so the threads finish together.
    /// </summary>
    private sealed class Job(GemmConvolution<TOps, TVec> owner) : ParallelJob
    {
        private long items;
        private int participants;
        private long padPlanes;
        private long nextPlane;
        private long planesDone;
        private long nextItem;

        public float* Source { get; private set; }
        public long SourceLength { get; private set; }
        public float* Input { get; private set; }
        public float* Output { get; private set; }
        public int PanelGroups { get; private set; }
        public CancellationToken Token { get; private set; }

        public void Set(
            float* source, long sourceLength, float* input, float* output, long planesToPad, long itemCount, int panelGroups, int threads, CancellationToken token)
        {
            Source = source;
            SourceLength = sourceLength;
            Input = input;
            Output = output;
            padPlanes = planesToPad;
            nextPlane = 0;
            planesDone = 0;
            items = itemCount;
            nextItem = 0;
            PanelGroups = panelGroups;
            participants = threads;
            Token = token;
        }

        protected override void RunChunk(int chunk)
        {
            if (padPlanes > 0)
            {
                PadPlanes();
            }

            using var pack = NativeBufferPool.Rent(owner.PackFloats);
            using var tile = NativeBufferPool.Rent(owner.TileFloats);
            while (TryClaim(out long first, out long end))
            {
                owner.RunItems(this, first, end, pack.Pointer, tile.Pointer);
            }
        }

        protected override void Clear()
        {
            Source = Input = Output = null;
            Token = default;
        }

        private void PadPlanes()
        {
            long plane;
            while ((plane = Interlocked.Increment(ref nextPlane) - 1) < padPlanes)
            {
                try
                {
                    owner.PadPlane(Input, Source, plane);
                }
                finally
                {
                    Interlocked.Increment(ref planesDone);
                }
            }

            // Every plane is claimed by a running participant, so this wait is at most one plane copy long.
            var spin = default(SpinWait);
            while (Volatile.Read(ref planesDone) < padPlanes)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }

        private bool TryClaim(out long first, out long end)
        {
            while (true)
            {
                first = Volatile.Read(ref nextItem);
                long remaining = items - first;
                if (remaining <= 0)
                {
                    end = first;
                    return false;
                }

                end = first + Math.Max(1, remaining / (2L * participants));
                if (Interlocked.CompareExchange(ref nextItem, end, first) == first)
                {
                    return true;
                }
            }
        }
    }
}
