using System.Globalization;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Pilot.Bench;

/// <summary>
/// Whole-process figures for Pilot beside ContainerPilot (the v3 binary it replaces, when present) and the peers that
/// do part of the job (Debian's tini, dumb-init, supervisord, s6). Each figure is the median (with min/max) of runs that
/// alternate between the subjects, so a noisy neighbour hits them all alike.
/// <code>
/// Pilot.Bench [--runs N] [--out results.md] [--only startup,storm,rss,control,idle,health] [--pilot NAME=PATH]... [--no-peers]
/// Pilot.Bench --rss-curve [--minutes 10] [--every 30] [--pilot NAME=PATH]... [--out curve.md]
/// Pilot.Bench --idle-allocations [--telemetry] [--jobs 10] [--minutes 10] [--every 30] [--out allocations.md]
/// Pilot.Bench --scale [--runs 3] [--idle-seconds 20] [--scale-jobs 10,100,400] [--no-checks] [--pilot NAME=PATH]... [--no-peers] [--out scale.md]
/// </code>
/// Pilots: each <c>--pilot</c>, else <c>$PILOT_BIN</c> (default: the Release build) and <c>$PILOT_AOT_BIN</c>.
/// ContainerPilot: <c>$CONTAINERPILOT_BIN</c>, else <c>../shared/oracle/containerpilot</c> beside the checkout.
/// </summary>
internal static class Program
{
    private const string Usage =
        "usage: Pilot.Bench [--runs N] [--out FILE] [--only SECTION,...] [--pilot NAME=PATH]... [--no-peers]\n" +
        "       Pilot.Bench --rss-curve [--minutes M] [--every SECONDS] [--pilot NAME=PATH]... [--out FILE]\n" +
        "       Pilot.Bench --idle-allocations [--telemetry] [--jobs N] [--minutes M] [--every SECONDS] [--out FILE]\n" +
        "       Pilot.Bench --scale [--runs N] [--idle-seconds S] [--scale-jobs N,N,...] [--no-checks] [--pilot NAME=PATH]... [--no-peers] [--out FILE]\n" +
        "sections: startup, crash, storm, rss, control, idle, health";

    public static async Task<int> Main(string[] args)
    {
        // --idle-allocations hosts Pilot here: its children come back through this binary as `__exec`.
        if (Pilot.Supervisor.Processes.ExecShim.TryRun(args))
        {
            return Pilot.Supervisor.Processes.ExecShim.CannotExecuteExitCode;
        }
        var options = new BenchOptions();
        try
        {
            options.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or IndexOutOfRangeException)
        {
            Console.Error.WriteLine($"{ex.Message}\n{Usage}");
            return 2;
        }
        using var scratch = new Scratch();
        if (options.IdleAllocations)
        {
            var report = await IdleAllocations.RunAsync(scratch, options.Jobs, options.Telemetry, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(options.Minutes), TimeSpan.FromSeconds(options.Every));
            Console.WriteLine(report);
            if (options.Output is not null)
            {
                await File.WriteAllTextAsync(options.Output, report);
            }
            return 0;
        }
        var pilots = options.Pilots(scratch);
        // Pilot's extensions (restartBackoff, http checks) only from the first pilot: an older build refuses those configs.
        var current = pilots.Take(1).ToList();
        var containerPilot = SupervisorSubject.ContainerPilot(scratch);
        var supervisors = containerPilot is null ? pilots : [.. pilots, containerPilot];
        Console.Error.WriteLine($"subjects: {string.Join(", ", supervisors.Select(s => $"{s.Name} ({s.Binary})"))}");

        if (options.Scale)
        {
            var scale = await ScaleCost.RunAsync(supervisors, scratch, options.Peers, options.ScaleRuns, TimeSpan.FromSeconds(options.IdleSeconds), options.Checks);
            var text = scale.ToMarkdown(supervisors[0].Name, Bench.MachineDescription());
            Console.WriteLine(text);
            if (options.Output is not null)
            {
                await File.WriteAllTextAsync(options.Output, text);
                ScaleCost.WriteChart(scale, Path.ChangeExtension(options.Output, ".png"));
            }
            return 0;
        }

        if (options.RssCurve)
        {
            var curve = await RssCurve.RunAsync(supervisors, jobs: 10, options.Minutes, options.Every);
            var text = curve.ToMarkdown(Bench.MachineDescription());
            Console.WriteLine(text);
            if (options.Output is not null)
            {
                await File.WriteAllTextAsync(options.Output, text);
                curve.WriteChart(Path.ChangeExtension(options.Output, ".png"));
            }
            return 0;
        }

        var table = new ResultTable();
        var runs = options.Runs;
        var few = Math.Max(3, runs / 3);
        var tinyInits = options.Peers ? PeerSubject.Available(scratch).ToList() : [];
        var managers = options.Peers ? ServiceManagerPeer.Available(scratch).ToList() : [];
        if (options.Wants("startup"))
        {
            await table.MeasureAsync("start → first child exec (ms)", runs,
                [.. supervisors.Select(s => s.Run(s.StartToFirstExecAsync)), .. tinyInits.Select(p => p.Run(p.StartToFirstExecAsync)),
                 .. managers.Select(m => m.Run(m.StartToFirstExecAsync))]);
            await table.MeasureAsync("whole run of /bin/true (ms)", runs,
                [.. supervisors.Select(s => s.Run(s.TrueRunAsync)), .. tinyInits.Select(p => p.Run(p.TrueRunAsync))]);
            await table.MeasureAsync("whole run of /bin/true: CPU time (ms)", runs,
                [.. supervisors.Select(s => s.Run(s.TrueRunCpuAsync)), .. tinyInits.Select(p => p.Run(p.TrueRunCpuAsync))]);
            await table.MeasureAsync("start → control socket answers (ms)", runs, [.. supervisors.Select(s => s.Run(s.StartToControlAnswerAsync))]);
            await table.MeasureAsync("per-child spawn overhead: `pilot __exec /bin/true` − `/bin/true` (ms)", runs,
                [.. pilots.Select(s => s.Run(s.SpawnOverheadAsync))]);
            await table.MeasureAsync("per-child spawn overhead: CPU time (ms)", runs, [.. pilots.Select(s => s.Run(s.SpawnOverheadCpuAsync))]);
            if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
            {
                await table.MeasureAsync("per-child spawn overhead, in-memory shim (what jobs use): `shim pilot /bin/true` − `/bin/true` (ms)", runs,
                    [.. current.Select(s => s.Run(s.MemoryShimOverheadAsync))]);
            }
            await table.MeasureAsync("exit → dependent job exec (ms)", runs, [.. supervisors.Select(s => s.Run(s.ExitToDependentAsync))]);
            await table.MeasureAsync("exit → dependent job exec, both jobs `sh -c date` (ms)", runs,
                [.. supervisors.Select(s => s.Run(s.ExitToDependentThroughShellAsync))]);
            await table.MeasureAsync("crashing job: exit → next exec (ms)", runs,
                [.. supervisors.Select(s => s.Run(s.RestartAsync)), .. managers.Select(m => m.Run(m.RestartAsync))]);
        }
        if (options.Wants("crash"))
        {
            var window = SupervisorSubject.CrashLoopWindow.TotalSeconds;
            await table.MeasureAsync($"crash loop of /bin/false, {window:0} s, restarts unlimited: CPU time (ms)", few,
                [.. supervisors.Select(s => s.Run(() => s.CrashLoopCpuAsync(backoff: null)))]);
            await table.MeasureAsync($"the same with restartBackoff 100ms ×2 up to 1s: CPU time (ms)", few,
                [.. current.Select(s => s.Run(() => s.CrashLoopCpuAsync("{ initial: \"100ms\", factor: 2, max: \"1s\" }")))]);
            await table.MeasureAsync($"baseline: {window:0} s with one idle job: CPU time (ms)", few,
                [.. supervisors.Select(s => s.Run(s.IdleWindowCpuAsync))]);
        }
        if (options.Wants("storm"))
        {
            // ContainerPilot reaps orphans only as PID 1, so it has no figure here.
            await table.MeasureAsync("orphan storm 10,000: last fork → 0 zombies (ms)", few,
                [.. pilots.Select(s => s.Run(s.OrphanStormAsync)), .. tinyInits.Select(p => p.Run(p.OrphanStormAsync))]);
        }
        if (options.Wants("rss"))
        {
            await table.MeasureAsync("RSS idle, 1 job (MiB)", 3,
                [.. supervisors.Select(s => s.Run(() => s.IdleRssAsync(1))), .. tinyInits.Select(p => p.Run(p.IdleRssAsync)),
                 .. managers.Select(m => m.Run(m.IdleRssAsync))]);
            await table.MeasureAsync("RSS idle, 10 jobs (MiB)", 3, [.. supervisors.Select(s => s.Run(() => s.IdleRssAsync(10)))]);
        }
        if (options.Wants("control"))
        {
            foreach (var request in ControlPlaneLoad.Requests)
            {
                await ControlPlaneLoad.MeasureAsync(table, request, supervisors);
            }
        }

        if (options.Wants("idle"))
        {
            await IdleAnswers.MeasureAsync(table, supervisors);
        }

        if (options.Wants("cost"))
        {
            await JobCostReads.MeasureAsync(table, pilots);
        }

        if (options.Wants("health"))
        {
            // Each run takes ≈15 s per subject: a few runs are enough for a CPU figure.
            await table.MeasureAsync($"health check, exec /bin/true: CPU per check ({HealthCheckCost.Jobs} jobs, 1 s) (ms)", few,
                [.. pilots.Select(s => s.Run(() => HealthCheckCost.CpuPerCheckAsync(s, scratch, http: false)))]);
            await table.MeasureAsync($"health check, HTTP GET: CPU per check ({HealthCheckCost.Jobs} jobs, 1 s) (ms)", few,
                [.. current.Select(s => s.Run(() => HealthCheckCost.CpuPerCheckAsync(s, scratch, http: true)))]);
        }

        var markdown = table.ToMarkdown(supervisors[0].Name, Bench.MachineDescription());
        Console.WriteLine(markdown);
        if (options.Output is not null)
        {
            await File.WriteAllTextAsync(options.Output, markdown);
            Chart.Write(table, Path.ChangeExtension(options.Output, ".png"));
        }
        return 0;
    }
}

/// <summary>The command line of the bench.</summary>
internal sealed class BenchOptions
{
    private readonly List<(string Name, string Path)> _pilots = [];
    private HashSet<string>? _sections;

    public int Runs { get; private set; } = 10;
    private int? _runs;

    /// <summary>--scale: runs per subject and job count (each takes tens of seconds at 400 jobs).</summary>
    public int ScaleRuns => _runs ?? 3;
    public bool Scale { get; private set; }
    public int IdleSeconds { get; private set; } = 20;
    public bool Checks { get; private set; } = true;

    /// <summary>--idle-allocations: how many idle jobs.</summary>
    public int Jobs { get; private set; } = 10;
    public string? Output { get; private set; }
    public bool Peers { get; private set; } = true;
    public bool RssCurve { get; private set; }
    public bool IdleAllocations { get; private set; }

    /// <summary>With <see cref="IdleAllocations"/>: a telemetry listener too.</summary>
    public bool Telemetry { get; private set; }
    public double Minutes { get; private set; } = 10;
    public int Every { get; private set; } = 30;

    public void Parse(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runs":
                    Runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    _runs = Runs;
                    break;
                case "--scale":
                    Scale = true;
                    break;
                case "--idle-seconds":
                    IdleSeconds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--no-checks":
                    Checks = false;
                    break;
                case "--scale-jobs":
                    ScaleCost.JobCounts = [.. args[++i].Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture))];
                    break;
                case "--jobs":
                    Jobs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--out":
                    Output = args[++i];
                    break;
                case "--only":
                    _sections = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    break;
                case "--pilot":
                    var (name, path) = args[++i].Split('=', 2) is [var n, var p] ? (n, p) : throw new ArgumentException($"--pilot {args[i]}: expected NAME=PATH");
                    _pilots.Add((name, Path.GetFullPath(path)));
                    break;
                case "--no-peers":
                    Peers = false;
                    break;
                case "--rss-curve":
                    RssCurve = true;
                    break;
                case "--idle-allocations":
                    IdleAllocations = true;
                    break;
                case "--telemetry":
                    Telemetry = true;
                    break;
                case "--minutes":
                    Minutes = double.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--every":
                    Every = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
    }

    public bool Wants(string section) => _sections is null || _sections.Contains(section);

    public List<SupervisorSubject> Pilots(Scratch scratch)
    {
        var pilots = _pilots.ToList();
        if (pilots.Count == 0)
        {
            pilots.Add(("pilot", Bench.PilotBin()));
            if (Environment.GetEnvironmentVariable("PILOT_AOT_BIN") is { Length: > 0 } aot && File.Exists(aot))
            {
                pilots.Add(("pilot (AOT)", Path.GetFullPath(aot)));
            }
        }
        return [.. pilots.Select(p => SupervisorSubject.Pilot(p.Name, p.Path, scratch))];
    }
}

/// <summary>A temp directory for one bench run.</summary>
internal sealed class Scratch : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("pilot-bench-").FullName;

    public string File(string name) => Path.Combine(Directory, name);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
