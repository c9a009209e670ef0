using ConvService.Compute.Kernels;
using ConvService.Compute.Memory;

namespace ConvService.Compute;

/// <summary>Depthwise stage into a pooled intermediate tensor, then the pointwise GEMM over it.</summary>
internal sealed unsafe class PreparedDepthwiseSeparable(
    DepthwiseSeparableGeometry g, IConvolutionKernel depthwise, IConvolutionKernel pointwise, int maxThreads) : ConvolutionPlan
{
    /// <summary>Slack past the intermediate so the GEMM's last strips read in place (those lanes are discarded).</summary>
    private const int IntermediateSlack = 256;

    public override string Algorithm { get; } = depthwise.Algorithm + "+" + pointwise.Algorithm;
    public override long Multiplications => depthwise.Multiplications + pointwise.Multiplications;
    public override long InputElements => g.Depthwise.InputElements;
    public override long OutputElements => g.OutputElements;

    public override void Execute(ReadOnlySpan<float> input, Span<float> output, CancellationToken cancellationToken = default)
    {
        PlanChecks.Lengths(input, InputElements, output, OutputElements);
        cancellationToken.ThrowIfCancellationRequested();
        long midElements = g.Depthwise.OutputElements;
        using var mid = NativeBufferPool.Rent(midElements + IntermediateSlack);
        fixed (float* inputPointer = input)
        fixed (float* outputPointer = output)
        {
            depthwise.Execute(inputPointer, input.Length, mid.Pointer, maxThreads, cancellationToken);
            pointwise.Execute(mid.Pointer, midElements + IntermediateSlack, outputPointer, maxThreads, cancellationToken);
        }
    }
}
