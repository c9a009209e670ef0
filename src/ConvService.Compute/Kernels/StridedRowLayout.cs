using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Kernels;

/// <summary>
/// How a zero-padded input row is laid out for the per-channel row kernels: split into
/// <c>stride</c> phases (element x of the padded row at <c>(x % stride) * PhaseLength + x / stride</c>)
/// so the taps of consecutive outputs are consecutive floats whatever the stride, with enough
/// slack that full-vector loads past the output width stay inside the row.
/// </summary>
internal readonly record struct StridedRowLayout(int PhaseLength, int Stride, int PadLeft, int Width)
{
    /// <summary>Floats per laid-out row (all phases).</summary>
    public int RowLength => PhaseLength * Stride;

    /// <param name="loadGranule">Kernels compute whole blocks of this many outputs, so loads reach the width rounded up to it.</param>
    public static StridedRowLayout Create(int inWidth, int padLeft, int padRight, int outWidth, int kernelW, int stride, int dilation, int loadGranule)
    {
        int paddedW = inWidth + padLeft + padRight;
        int vectorWidth = (outWidth + loadGranule - 1) / loadGranule * loadGranule;
        int maxTap = (kernelW - 1) * dilation / stride;
        int phaseLength = Math.Max((paddedW + stride - 1) / stride, vectorWidth + maxTap);
        phaseLength = (phaseLength + 15) & ~15;
        return new StridedRowLayout(phaseLength, stride, padLeft, inWidth);
    }

    /// <summary>Offset of tap kx (dilated) from the output position in the laid-out row.</summary>
    public int TapOffset(int kx, int dilation)
    {
        int x = kx * dilation;
        return ((x % Stride) * PhaseLength) + (x / Stride);
    }

    /// <summary>
    /// Writes one input row (or zeros when <paramref name="source"/> is null) into its laid-out form. Only the
    /// data positions are written: the pads of <paramref name="destination"/> must already be zero (callers zero
    /// their rows once; a zero row clears everything, which keeps that true), so a row costs one pass over its data.
    /// </summary>
    /// <param name="useAvx512">The caller runs the Vector512 path (tests force each path, so this one is chosen with it).</param>
    public unsafe void Fill(float* source, float* destination, bool useAvx512)
    {
        if (source == null)
        {
            new Span<float>(destination, RowLength).Clear();
            return;
        }

        if (Stride == 1)
        {
            new ReadOnlySpan<float>(source, Width).CopyTo(new Span<float>(destination + PadLeft, Width));
            return;
        }

        if (Stride == 2 && useAvx512 && Avx512F.IsSupported)
        {
            DeinterleavePairs(source, destination);
            return;
        }

        for (int phase = 0; phase < Stride; phase++)
        {
            // Padded column x = j * Stride + phase holds source[x - PadLeft]: walk j without a division per element.
            int j = PadLeft <= phase ? 0 : (PadLeft - phase + Stride - 1) / Stride;
            float* d = destination + ((long)phase * PhaseLength);
            for (int i = (j * Stride) + phase - PadLeft; i < Width; i += Stride, j++)
            {
                d[j] = source[i];
            }
        }
    }

    /// <summary>
    /// Stride 2: splits the source row into its even and odd elements 32 at a time (two-source
    /// permutes, masked at the end of the row) straight into their phases.
    /// </summary>
    private unsafe void DeinterleavePairs(float* source, float* destination)
    {
        var lanes = Vector512<int>.Indices;
        var evenIndices = lanes + lanes;
        var oddIndices = evenIndices + Vector512<int>.One;
        // Source element i sits at padded column PadLeft + i: phase (PadLeft + i) & 1, index (PadLeft + i) >> 1.
        float* even = destination + ((PadLeft & 1) * PhaseLength) + (PadLeft >> 1);
        float* odd = destination + (((PadLeft + 1) & 1) * PhaseLength) + ((PadLeft + 1) >> 1);
        for (int i = 0; i < Width; i += 32)
        {
            int left = Width - i;
            var low = Avx512F.MaskLoad(source + i, Vector512.LessThan(lanes, Vector512.Create(left)).AsSingle(), Vector512<float>.Zero);
            var high = Avx512F.MaskLoad(source + i + 16, Vector512.LessThan(lanes, Vector512.Create(left - 16)).AsSingle(), Vector512<float>.Zero);
            Avx512F.MaskStore(even + (i >> 1), Vector512.LessThan(lanes, Vector512.Create((left + 1) >> 1)).AsSingle(), Avx512F.PermuteVar16x32x2(low, evenIndices, high));
            Avx512F.MaskStore(odd + (i >> 1), Vector512.LessThan(lanes, Vector512.Create(left >> 1)).AsSingle(), Avx512F.PermuteVar16x32x2(low, oddIndices, high));
        }
    }
}
