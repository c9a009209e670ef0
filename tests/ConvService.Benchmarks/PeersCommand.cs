using ConvService.Benchmarks.Peers;

namespace ConvService.Benchmarks;

/// <summary>
/// Runs every selected shape with our engine and the peers on the same seeded data, times each
/// case, checks every output against ours, prints the table and writes the CSV.
/// </summary>
internal static class PeersCommand
{
    /// <summary>Agreement bound, relative to the largest |output| of ours.</summary>
    public const double RelativeTolerance = 1e-4;

    public static int Run(HarnessOptions options)
    {
        Console.WriteLine($"ConvService peers: {Environment.ProcessorCount} logical CPUs, {FmaPeak.VectorName}, " +
            $"{(options.Quick ? "quick (one call per case, times are not medians)" : "medians")}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        var rows = new List<Measurement>();
        foreach (int threads in options.Threads)
        {
            // Peak measured before and after the shapes, best kept: other load only ever lowers it.
            var peakBefore = options.Quick ? (Gflops: double.NaN, TrialMs: double.NaN) : FmaPeak.Measure(threads);
            var shapeRows = new List<Measurement>();
            foreach (var shape in options.Shapes)
            {
                var data = ShapeData.Create(shape);
                shapeRows.AddRange(RunShape(shape, data, threads, options.TimeBox));
                Console.Error.WriteLine($"  done {shape.Id} at {threads} thread(s)");
            }

            if (!options.Quick)
            {
                var peakAfter = FmaPeak.Measure(threads);
                var peak = peakAfter.Gflops > peakBefore.Gflops ? peakAfter : peakBefore;
                rows.Add(new Measurement
                {
                    Shape = "peak", Threads = threads, Library = "cpu", Variant = "fma-" + FmaPeak.VectorName,
                    MedianMs = peak.TrialMs, Runs = FmaPeak.Trials, Gflops = peak.Gflops, PctPeak = 100,
                });
                shapeRows = shapeRows.Select(r => r with { PctPeak = 100 * r.Gflops / peak.Gflops }).ToList();
            }

            rows.AddRange(shapeRows);
        }

        Console.WriteLine();
        ResultTable.Print(rows, Console.Out);
        if (options.CsvPath is not null)
        {
            ResultTable.WriteCsv(rows, options.CsvPath);
            Console.WriteLine($"CSV written to {options.CsvPath}");
        }

        var failed = rows.Where(r => r.Failed).ToList();
        if (failed.Count == 0)
        {
            Console.WriteLine($"All outputs agree with ours within {RelativeTolerance:G} of the output magnitude.");
            return 0;
        }

        foreach (var f in failed)
        {
            Console.Error.WriteLine($"FAIL {f.Shape} t={f.Threads} {f.Library}/{f.Variant}: " +
                (f.Error ?? $"max |diff| {f.MaxAbsDiff:G3} > tolerance {f.Tolerance:G3}"));
        }

        // Two or more independent peers all disagreeing with us points at us.
        foreach (var group in rows.Where(r => r.Library != "convservice" && !r.IsPeak).GroupBy(r => (r.Shape, r.Threads)))
        {
            if (group.Count() >= 2 && group.All(r => r.Failed && r.Error is null))
            {
                Console.Error.WriteLine($"NOTE {group.Key.Shape} t={group.Key.Threads}: every peer disagrees with ours; our output is the likely culprit.");
            }
        }

        return 1;
    }

    /// <summary>
    /// Creates and warms every runner of the shape, then times them in interleaved rounds (each
    /// runner one slice per round) so load changes on a shared machine hit all libraries alike.
    /// </summary>
    private static List<Measurement> RunShape(BenchShape shape, ShapeData data, int threads, TimeBox box)
    {
        var cases = Runners(shape).Select(f => new Case(f)).ToList();
        try
        {
            foreach (var c in cases)
            {
                c.Try(() =>
                {
                    c.Runner = c.Factory.Create(data, threads);
                    c.Sampler = new Sampler(c.Runner.Run);
                    c.Sampler.WarmUp(box);
                });
            }

            for (int round = 0; round < box.Rounds; round++)
            {
                foreach (var c in cases)
                {
                    c.Try(() => c.Sampler!.Slice(box));
                }
            }

            // Ours, prepared (the first case), is the reference every other output is compared with.
            float[]? reference = null;
            double tolerance = double.NaN;
            var results = new List<Measurement>();
            foreach (var c in cases)
            {
                float[]? output = null;
                c.Try(() => output = c.Runner!.Output());
                if (c == cases[0] && output is not null)
                {
                    reference = output;
                    tolerance = RelativeTolerance * MaxAbs(reference);
                }

                results.Add(Row(shape, threads, c, output, reference, tolerance));
            }

            return results;
        }
        finally
        {
            foreach (var c in cases)
            {
                c.Runner?.Dispose();
            }
        }
    }

    private static Measurement Row(BenchShape shape, int threads, Case c, float[]? output, float[]? reference, double tolerance)
    {
        var row = new Measurement { Shape = shape.Id, Threads = threads, Library = c.Factory.Library, Variant = c.Factory.Variant };
        if (c.Error is not null || output is null || c.Sampler is null)
        {
            return row with { Error = c.Error ?? "no output" };
        }

        double median = c.Sampler.MedianMs;
        return row with
        {
            MedianMs = median,
            MinMs = c.Sampler.MinMs,
            Runs = c.Sampler.Runs,
            Gflops = 2.0 * shape.DirectMultiplications / (median * 1e-3) / 1e9,
            MaxAbsDiff = reference is null ? double.NaN : MaxAbsDiff(reference, output),
            Tolerance = tolerance,
            AllocatedBytesPerCall = c.Sampler.AllocatedBytesPerCall,
            Algorithm = c.Runner!.Algorithm,
            Error = reference is null ? "no reference: our prepared run failed" : null,
        };
    }

    /// <summary>One runner of a shape and its samples; the first exception takes it out of the run.</summary>
    private sealed class Case(RunnerFactory factory)
    {
        public RunnerFactory Factory { get; } = factory;
        public IConvRunner? Runner { get; set; }
        public Sampler? Sampler { get; set; }
        public string? Error { get; private set; }

        public void Try(Action step)
        {
            if (Error is not null)
            {
                return;
            }

            try
            {
                step();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The innermost exception says why, e.g. which native library failed to load.
                var cause = e.GetBaseException();
                Error = $"{cause.GetType().Name}: {cause.Message.ReplaceLineEndings(" ")}";
            }
        }
    }

    private sealed record RunnerFactory(string Library, string Variant, Func<ShapeData, int, IConvRunner> Create);

    /// <summary>Ours prepared first (the reference), then our other variants, then the peers that can compute the shape.</summary>
    private static IEnumerable<RunnerFactory> Runners(BenchShape shape)
    {
        yield return new("convservice", "prepared", (d, t) => new ConvServiceRunner(shape, d, t, OurVariant.Prepared));
        yield return new("convservice", "one-shot", (d, t) => new ConvServiceRunner(shape, d, t, OurVariant.OneShot));
        if (shape.GaussianKernel)
        {
            yield return new("convservice", "explicit-separable", (d, t) => new ConvServiceRunner(shape, d, t, OurVariant.ExplicitSeparable));
        }

        yield return new("onnxruntime", "session", (d, t) => OnnxRuntimeRunner.Session(shape, d, t));
        if (shape.GaussianKernel)
        {
            yield return new("onnxruntime", "two-1d-nodes", (d, t) => OnnxRuntimeRunner.TwoOneDimensionalNodes(shape, d, t));
        }

        if (shape.OpenCv != OpenCvForm.None)
        {
            yield return new("opencv", "filter2d", (d, t) => OpenCvRunner.Filter2D(shape, d, t));
        }

        if (shape.OpenCv == OpenCvForm.Filter2DAndSeparable)
        {
            yield return new("opencv", "sepfilter2d", (d, t) => OpenCvRunner.SepFilter2D(shape, d, t));
        }
    }

    private static double MaxAbs(float[] values)
    {
        double max = 0;
        foreach (float v in values)
        {
            max = Math.Max(max, Math.Abs((double)v));
        }

        return max;
    }

    /// <summary>Largest elementwise |a - b|; infinity when lengths differ or a value is NaN (unwritten).</summary>
    private static double MaxAbsDiff(float[] a, float[] b)
    {
        if (a.Length != b.Length)
        {
            return double.PositiveInfinity;
        }

        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            if (double.IsNaN(d))
            {
                return double.PositiveInfinity;
            }

            max = Math.Max(max, d);
        }

        return max;
    }
}
