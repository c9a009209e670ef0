// Each test class hosts the service in-process; running them one at a time keeps timing-sensitive
// admission tests deterministic on a small machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
