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

    /// <summary>Writes one input row (or zeros when <paramref name="source"/> is null) into its laid-out form.</summary>
    public unsafe void Fill(float* source, float* destination)
    {
        if (source == null)
        {
            new Span<float>(destination, RowLength).Clear();
            return;
        }

        if (Stride == 1)
        {
            new Span<float>(destination, PadLeft).Clear();
            new ReadOnlySpan<float>(source, Width).CopyTo(new Span<float>(destination + PadLeft, Width));
            new Span<float>(destination + PadLeft + Width, PhaseLength - PadLeft - Width).Clear();
            return;
        }

        new Span<float>(destination, RowLength).Clear();
        for (int i = 0; i < Width; i++)
        {
            int x = PadLeft + i;
            destination[((x % Stride) * PhaseLength) + (x / Stride)] = source[i];
        }
    }
}
