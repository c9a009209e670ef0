namespace ConvService.Compute.Kernels;

/// <summary>A planned convolution over raw pointers: geometry resolved, weights packed, algorithm fixed.</summary>
internal unsafe interface IConvolutionKernel
{
    string Algorithm { get; }

    /// <summary>Multiplications one execution costs under this algorithm.</summary>
    long Multiplications { get; }

    /// <summary>Reads <paramref name="inputLength"/> input floats, writes every output float once.</summary>
    void Execute(float* input, long inputLength, float* output, int maxThreads, CancellationToken cancellationToken);
}
