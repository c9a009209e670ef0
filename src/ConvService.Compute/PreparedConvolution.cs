using ConvService.Compute.Kernels;

namespace ConvService.Compute;

/// <summary>A single-kernel plan: standard convolution (any algorithm) or a spatially separable filter.</summary>
internal sealed unsafe class PreparedConvolution(IConvolutionKernel kernel, long inputElements, long outputElements, int maxThreads) : ConvolutionPlan
{
    public override string Algorithm => kernel.Algorithm;
    public override long Multiplications => kernel.Multiplications;
    public override long InputElements => inputElements;
    public override long OutputElements => outputElements;

    public override void Execute(ReadOnlySpan<float> input, Span<float> output, CancellationToken cancellationToken = default)
    {
        PlanChecks.Lengths(input, inputElements, output, outputElements);
        cancellationToken.ThrowIfCancellationRequested();
        fixed (float* inputPointer = input)
        fixed (float* outputPointer = output)
        {
            kernel.Execute(inputPointer, input.Length, outputPointer, maxThreads, cancellationToken);
        }
    }
}
