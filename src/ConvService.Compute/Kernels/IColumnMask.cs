namespace ConvService.Compute.Kernels;

/// <summary>
/// Compile-time switch of the GEMM micro-kernels: whether rows of B are ANDed with a lane mask
/// before use (a struct type argument, so the JIT drops the masking from unmasked kernels).
/// </summary>
internal interface IColumnMask
{
    static abstract bool Enabled { get; }
}
