namespace ConvService.Compute.Threading;

/// <summary>Recycles a plan's job objects so a steady stream of executions allocates nothing.</summary>
internal sealed class JobPool
{
    private readonly Stack<ParallelJob> free = new();
    private readonly Func<ParallelJob> factory;

    public JobPool(Func<ParallelJob> factory)
    {
        this.factory = factory;
    }

    public ParallelJob Rent()
    {
        lock (free)
        {
            if (free.Count > 0)
            {
                return free.Pop();
            }
        }

        var job = factory();
        job.Attach(this);
        return job;
    }

    internal void Return(ParallelJob job)
    {
        lock (free)
        {
            free.Push(job);
        }
    }
}
