namespace ConvService.Benchmarks;

/// <summary>
/// One library computing one shape: buffers and models are prepared in the constructor, so
/// <see cref="Run"/> is exactly the work that is timed. Runners are created, measured and
/// disposed one at a time (OpenCV's thread count is process-wide).
/// </summary>
internal interface IConvRunner : IDisposable
{
    /// <summary>convservice, onnxruntime or opencv.</summary>
    string Library { get; }

    /// <summary>prepared, one-shot, session, filter2d, ...</summary>
    string Variant { get; }

    /// <summary>What the library ran, when it says (our planner's algorithm), else empty.</summary>
    string Algorithm { get; }

    /// <summary>One call, the timed unit.</summary>
    void Run();

    /// <summary>The last output in our NCHW planar layout (a copy; not timed).</summary>
    float[] Output();
}
