using System.Runtime.Intrinsics;

namespace ConvService.Compute;

/// <summary>Engine-wide settings: how many threads one request may use and which vector width kernels use.</summary>
public sealed record ComputeOptions
{
    /// <summary>Threads one computation may split across (1 = never split). Default: processor count.</summary>
    public int MaxThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Vector width; default the widest the CPU accelerates. Forcing a width the CPU lacks falls back to the widest it has.</summary>
    public SimdLevel Simd { get; init; } = DetectSimd();

    public static SimdLevel DetectSimd() =>
        Vector512.IsHardwareAccelerated ? SimdLevel.Vector512
        : Vector256.IsHardwareAccelerated ? SimdLevel.Vector256
        : Vector128.IsHardwareAccelerated ? SimdLevel.Vector128
        : SimdLevel.Scalar;
}
