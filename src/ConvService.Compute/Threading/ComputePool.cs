namespace ConvService.Compute.Threading;

/// <summary>
/// The bounded set of helper threads shared by every request (processor count - 1; the calling
/// thread always works too). A request is offered to idle helpers; when they are busy with other
/// requests the caller simply does all chunks itself, so load never multiplies threads.
/// </summary>
internal sealed class ComputePool
{
    /// <summary>
    /// How long a helper keeps polling for the next job before it blocks: waking a blocked thread
    /// costs tens of microseconds on these VMs, more than a whole small convolution (S1 at 2 threads:
    /// 0.026 ms median without spinning, 0.014 ms with 50 us; 200 us gained nothing more).
    /// </summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 20_000;

    private readonly Queue<ParallelJob> queue = new();
    private readonly SemaphoreSlim pending = new(0);
    private int idleHelpers;

    private ComputePool(int helpers)
    {
        HelperCount = helpers;
        for (int i = 0; i < helpers; i++)
        {
            var thread = new Thread(HelperLoop) { IsBackground = true, Name = $"conv-compute-{i}" };
            thread.Start();
        }
    }

    public static ComputePool Shared { get; } = new(Math.Max(0, Environment.ProcessorCount - 1));

    public int HelperCount { get; }

    /// <summary>
    /// Runs <paramref name="chunks"/> chunks of <paramref name="job"/> on up to <paramref name="threads"/>
    /// threads including the caller, returns when all are done, then releases the caller's reference.
    /// </summary>
    public void Run(ParallelJob job, int chunks, int threads)
    {
        int helpers = Math.Min(Math.Min(threads - 1, HelperCount), Math.Min(chunks - 1, Volatile.Read(ref idleHelpers)));
        helpers = Math.Max(0, helpers);
        job.Start(chunks, helpers + 1);
        if (helpers > 0)
        {
            lock (queue)
            {
                for (int i = 0; i < helpers; i++)
                {
                    queue.Enqueue(job);
                }
            }

            pending.Release(helpers);
        }

        try
        {
            job.Participate();
            job.WaitAndRethrow();
        }
        finally
        {
            job.Release();
        }
    }

    private void HelperLoop()
    {
        while (true)
        {
            Interlocked.Increment(ref idleHelpers);
            SpinForWork();
            pending.Wait();
            Interlocked.Decrement(ref idleHelpers);
            ParallelJob job;
            lock (queue)
            {
                job = queue.Dequeue();
            }

            try
            {
                job.Participate();
            }
            finally
            {
                job.Release();
            }
        }
    }

    /// <summary>Polls (without locking) for a queued job for up to <see cref="SpinTicks"/>; the semaphore then takes it without blocking.</summary>
    private void SpinForWork()
    {
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
        while (pending.CurrentCount == 0 && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
        {
            Thread.SpinWait(8);
        }
    }
}
