using System.Runtime.Intrinsics.X86;

namespace ConvService.Compute.Simd;

/// <summary>How many vector registers the JIT can allocate on this CPU; register tiles must fit in them.</summary>
internal static class VectorRegisters
{
    /// <summary>
    /// 16 on x64 without AVX-512 (ymm0-15 / xmm0-15: the JIT uses registers 16-31 only with AVX-512's
    /// EVEX encoding, which also serves forced Vector256 paths on an AVX-512 CPU), otherwise 32 (AVX-512, Arm64).
    /// </summary>
    public static int Count { get; } = X86Base.IsSupported && !Avx512F.IsSupported ? 16 : 32;
}
