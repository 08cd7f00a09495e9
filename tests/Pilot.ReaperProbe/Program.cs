using System.Collections.Immutable;
using System.Globalization;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Processes;

namespace Pilot.ReaperProbe;

/// <summary>
/// <c>Pilot.ReaperProbe [--shim PATH] [managed N] [orphans M]</c>: starts an <see cref="OrphanReaper"/>, then N managed
/// children exiting with i % 256 alongside a shell that leaves M orphans, waits until everything is reaped, and prints
/// one JSON line with the results. It is its own exec shim unless <c>--shim</c> is given.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (ExecShim.TryRun(args))
        {
            return ExecShim.CannotExecuteExitCode;
        }

        string? shim = null;
        int managed = 200, orphans = 500;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--shim": shim = args[i + 1]; break;
                case "managed": managed = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "orphans": orphans = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }

        var launcher = new ProcessLauncher(new ProcessLauncherOptions { ShimPath = shim });
        await using var reaper = new OrphanReaper();
        reaper.Start();

        var storm = launcher.Start(new ProcessStartRequest("storm", Sh($"for i in $(seq {orphans}); do (sleep 0.01 &) ; done"), null));
        var runs = new List<(int Expected, IRunningProcess Run)>();
        for (var i = 0; i < managed; i++)
        {
            runs.Add((i % 256, launcher.Start(new ProcessStartRequest($"job{i}", Sh($"exit {i % 256}"), null))));
        }

        var stormExit = await storm.Exited.WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        var wrong = 0;
        foreach (var (expected, run) in runs)
        {
            var exit = await run.Exited.WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            wrong += exit.ExitCode == expected && exit.Signal is null ? 0 : 1;
        }

        // Every orphan sleeps 10 ms; wait (bounded) until no child of ours is left, alive or zombie.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (OrphanReaper.ListChildren().Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20).ConfigureAwait(false);
        }

        var left = OrphanReaper.ListChildren().Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"pid\":{Environment.ProcessId},\"isSubreaper\":{(reaper.IsSubreaper ? "true" : "false")},\"stormExit\":{stormExit.ExitCode},\"managed\":{managed},\"wrongExitCodes\":{wrong},\"childrenLeft\":{left},\"zombies\":{Zombies()},\"orphansReaped\":{reaper.OrphansReaped},\"managedLeft\":{ManagedChildren.Shared.Count}}}"));
        return 0;
    }

    private static CommandSpec Sh(string script) => new("sh", ["-c", script]);

    /// <summary>Children of this process in state Z, read from /proc/*/stat.</summary>
    private static int Zombies()
    {
        var self = Environment.ProcessId;
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] == "Z" && int.Parse(fields[1], CultureInfo.InvariantCulture) == self)
                {
                    count++;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
            }
        }

        return count;
    }
}
