namespace ConvService.Compute.Threading;

/// <summary>
/// One parallel computation: chunks 0..n-1 claimed dynamically by the caller and any compute-pool
/// helpers that arrive in time. Reference-counted so a job object is recycled only after every
/// queued helper entry has let go of it, which keeps steady-state runs allocation-free.
/// </summary>
internal abstract class ParallelJob
{
    private readonly ManualResetEventSlim finished = new(false);
    private int chunkCount;
    private int nextChunk;
    private int completedChunks;
    private int references;
    private Exception? failure;
    private JobPool? owner;

    /// <summary>Does the work of one chunk; exceptions stop the remaining chunks and reach the caller.</summary>
    protected abstract void RunChunk(int chunk);

    /// <summary>Drops per-call state (pointers, tokens) once the job is done.</summary>
    protected abstract void Clear();

    internal void Attach(JobPool pool) => owner = pool;

    internal void Start(int chunks, int participants)
    {
        chunkCount = chunks;
        completedChunks = 0;
        failure = null;
        finished.Reset();
        Volatile.Write(ref references, participants);
        Volatile.Write(ref nextChunk, 0);
    }

    /// <summary>Claims and runs chunks until none is left.</summary>
    internal void Participate()
    {
        while (true)
        {
            int chunk = Interlocked.Increment(ref nextChunk) - 1;
            if (chunk >= chunkCount)
            {
                return;
            }

            if (Volatile.Read(ref failure) == null)
            {
                try
                {
                    RunChunk(chunk);
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref failure, ex, null);
                }
            }

            if (Interlocked.Increment(ref completedChunks) == chunkCount)
            {
                finished.Set();
            }
        }
    }

    /// <summary>Blocks until every chunk has completed, then rethrows the first failure.</summary>
    internal void WaitAndRethrow()
    {
        if (Volatile.Read(ref completedChunks) != chunkCount)
        {
            finished.Wait();
        }

        if (failure != null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>Called once by each participant (caller and helpers) when it is done with the job.</summary>
    internal void Release()
    {
        if (Interlocked.Decrement(ref references) == 0)
        {
            Clear();
            failure = null;
            owner?.Return(this);
        }
    }
}
