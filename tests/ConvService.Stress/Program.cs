using ConvService.Stress;

// Stress, fault and fuzz runs against a running ConvService (loopback only). Usage:
//   ConvService.Stress fuzz     --grpc URL --rest URL [--pid PID] [--cases N] [--seconds S] [--max-request-bytes B]
//   ConvService.Stress load     --grpc URL --rest URL [--pid PID] --concurrency C --seconds S --shape small|medium [--max-rss-mb M]
//   ConvService.Stress h2load   --grpc URL --rest URL [--pid PID] --connections C --seconds S --shape small|medium [--workload NAME] [--max-rss-mb M] [--h2load PATH]
//   ConvService.Stress faults   --grpc URL --rest URL [--pid PID] --seconds S
//   ConvService.Stress shutdown --dll path/to/ConvService.Api.dll [--rest-port P] [--grpc-port P] [--drain-seconds D]
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: ConvService.Stress fuzz|load|h2load|faults|shutdown [--name value ...] (see Program.cs)");
    return 2;
}

// Hundreds of concurrent calls from one process: start with enough pool threads that the client itself is never the bottleneck.
ThreadPool.SetMinThreads(64, 64);
var scorecard = new Scorecard();
try
{
    var options = new StressArguments(args.Skip(1));
    switch (args[0])
    {
        case "fuzz":
            await FuzzCommand.RunAsync(options, scorecard);
            break;
        case "load":
            await LoadCommand.RunAsync(options, scorecard);
            break;
        case "h2load":
            await H2loadCommand.RunAsync(options, scorecard);
            break;
        case "faults":
            await FaultsCommand.RunAsync(options, scorecard);
            break;
        case "shutdown":
            await ShutdownCommand.RunAsync(options, scorecard);
            break;
        default:
            Console.Error.WriteLine($"unknown subcommand '{args[0]}'");
            return 2;
    }
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
catch (Exception e)
{
    // A crash of the run itself is a failure too, and still ends with the totals line.
    scorecard.Check($"{args[0]}: run completed", false, $"{e.GetType().Name}: {e.Message}");
}

scorecard.PrintTotals();
return scorecard.Failed == 0 && scorecard.Passed > 0 ? 0 : 1;
