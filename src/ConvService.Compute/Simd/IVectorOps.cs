namespace ConvService.Compute.Simd;

/// <summary>
/// The handful of vector operations the kernels need, as static members so a kernel written once
/// as a generic method is compiled by the JIT into a separate, fully inlined body per vector width.
/// </summary>
internal unsafe interface IVectorOps<TVec>
    where TVec : unmanaged
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    /// <summary>The name used in algorithm strings, e.g. "avx512".</summary>
    static abstract string IsaName { get; }

    static abstract TVec Zero { get; }

    static abstract TVec Broadcast(float value);

    static abstract TVec Load(float* source);

    static abstract void Store(float* destination, TVec value);

    /// <summary>a * b + c, fused where the hardware has it.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    static abstract TVec Add(TVec a, TVec b);

    /// <summary>Bitwise and (masks of all-ones or all-zero lanes).</summary>
    static abstract TVec And(TVec a, TVec b);
}
