using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Pilot.Bench;

/// <summary>
/// What each job costs a supervisor: 10, 100 and 400 <c>sleep</c> jobs (no Consul), and the same with an exec health
/// check per job (<c>/bin/true</c> every 5 s). Per subject and job count: time until every job has exec'd, RSS and CPU
/// over an idle window (25 s after all are running), CPU per health check (the CPU rate ÷ the check rate, checks' own processes included) and the
/// time from SIGTERM to exit; then per-job rows: (figure at 400 − figure at 10) ÷ 390. Runs alternate between the
/// subjects. Pilot and ContainerPilot are one process each (VmRSS, /proc/PID/stat); supervisord too; s6 is
/// s6-svscan plus one s6-supervise per job, so its memory is the PSS of that tree (RSS would count libc 400 times).
/// </summary>
internal static class ScaleCost
{
    /// <summary>The job counts measured (<c>--scale-jobs</c>); per-job rows compare the first and the last.</summary>
    public static int[] JobCounts { get; set; } = [10, 100, 400];
    public const int CheckInterval = 5;

    public static async Task<ResultTable> RunAsync(IReadOnlyList<SupervisorSubject> supervisors, Scratch scratch, bool peers, int runs,
        TimeSpan idle, bool checks)
    {
        List<ScaleSubject> subjects =
        [
            .. supervisors.Select(s => ScaleSubject.Supervisor(s, scratch)),
            .. peers ? ScaleSubject.Peers(scratch) : [],
        ];
        if (checks && idle.TotalSeconds % CheckInterval != 0)
        {
            throw new ArgumentException($"--idle-seconds {idle.TotalSeconds}: must be a whole number of check intervals ({CheckInterval} s)");
        }
        Console.Error.WriteLine($"scale: {string.Join(", ", subjects.Select(s => s.Name))}; {runs} runs, idle window {idle.TotalSeconds:0} s");
        var table = new ResultTable();
        var figures = new Dictionary<(string Metric, string Subject, int Jobs), Sample>();
        foreach (var jobs in JobCounts)
        {
            var results = subjects.ToDictionary(s => s.Name, _ => new List<ScaleRun>());
            for (var round = 0; round < runs; round++)
            {
                for (var k = 0; k < subjects.Count; k++)
                {
                    var subject = subjects[(round + k) % subjects.Count];
                    results[subject.Name].Add(await subject.MeasureAsync(jobs, idle, withChecks: false));
                }
            }
            Add(table, figures, $"{jobs} jobs: all running (ms)", jobs, results, r => r.AllUpMs);
            Add(table, figures, $"{jobs} jobs: RSS after idle (MiB)", jobs, results, r => r.RssMiB);
            Add(table, figures, $"{jobs} jobs: idle CPU (% of a core)", jobs, results, r => r.IdleCpuPercent);
            Add(table, figures, $"{jobs} jobs: idle CPU, threads' run time (% of a core)", jobs, results, r => r.IdleRunPercent);
            Add(table, figures, $"{jobs} jobs: SIGTERM → exit (ms)", jobs, results, r => r.StopMs);
            if (checks)
            {
                var checked_ = subjects.Where(s => s.HasHealthChecks).ToDictionary(s => s.Name, _ => new List<ScaleRun>());
                for (var round = 0; round < runs; round++)
                {
                    var withChecks = subjects.Where(s => s.HasHealthChecks).ToList();
                    for (var k = 0; k < withChecks.Count; k++)
                    {
                        var subject = withChecks[(round + k) % withChecks.Count];
                        checked_[subject.Name].Add(await subject.MeasureAsync(jobs, idle, withChecks: true));
                    }
                }
                Add(table, figures, $"{jobs} jobs, exec check every {CheckInterval} s: CPU per check (ms)", jobs, checked_, r => r.CpuPerCheckMs);
                Add(table, figures, $"{jobs} jobs, exec check every {CheckInterval} s: CPU per check, the supervisor's own (ms)", jobs, checked_, r => r.OwnCpuPerCheckMs);
                Add(table, figures, $"{jobs} jobs, exec check every {CheckInterval} s: RSS (MiB)", jobs, checked_, r => r.RssMiB);
            }
        }
        // Per job: the growth from 10 to 400 jobs, from the medians.
        var (few, many) = (JobCounts[0], JobCounts[^1]);
        foreach (var (metric, unit) in new[] { ("RSS after idle", "MiB"), ("all running", "ms"), ("idle CPU", "% of a core"), ("idle CPU, threads' run time", "% of a core") })
        {
            foreach (var subject in subjects)
            {
                var low = figures.FirstOrDefault(f => f.Key.Subject == subject.Name && f.Key.Jobs == few && f.Key.Metric.EndsWith($": {metric} ({unit})", StringComparison.Ordinal)).Value;
                var high = figures.FirstOrDefault(f => f.Key.Subject == subject.Name && f.Key.Jobs == many && f.Key.Metric.EndsWith($": {metric} ({unit})", StringComparison.Ordinal)).Value;
                if (low is not null && high is not null)
                {
                    var perJob = (high.Median - low.Median) / (many - few);
                    table.Add($"per job: {metric}, ({many} − {few}) ÷ {many - few} ({unit})", subject.Name, new Sample(perJob, perJob, perJob, 1) { Digits = 3 });
                }
            }
        }
        return table;
    }

    private static void Add(ResultTable table, Dictionary<(string, string, int), Sample> figures, string metric, int jobs,
        Dictionary<string, List<ScaleRun>> results, Func<ScaleRun, double?> figure)
    {
        foreach (var (subject, runs) in results)
        {
            var values = runs.Select(figure).OfType<double>().ToList();
            if (values.Count > 0)
            {
                var sample = Sample.Of(values) with { Digits = metric.Contains("CPU", StringComparison.Ordinal) ? 3 : 1 };
                table.Add(metric, subject, sample);
                figures[(metric, subject, jobs)] = sample;
            }
        }
    }

    /// <summary>RSS (MiB) against the number of jobs, one line per subject, beside all-running time; from the table's medians.</summary>
    public static void WriteChart(ResultTable table, string png)
    {
        var subjects = table.Rows.Select(r => r.Subject).Distinct().ToList();
        var data = new StringBuilder("jobs\t" + string.Join('\t', subjects.SelectMany(s => new[] { $"\"{s} RSS\"", $"\"{s} up\"" })) + "\n");
        foreach (var jobs in JobCounts)
        {
            data.Append(jobs.ToString(CultureInfo.InvariantCulture));
            foreach (var subject in subjects)
            {
                foreach (var metric in new[] { $"{jobs} jobs: RSS after idle (MiB)", $"{jobs} jobs: all running (ms)" })
                {
                    var sample = table.Rows.FirstOrDefault(r => r.Metric == metric && r.Subject == subject).Sample;
                    data.Append('\t').Append(sample is null ? "NaN" : sample.Median.ToString("0.###", CultureInfo.InvariantCulture));
                }
            }
            data.Append('\n');
        }
        var dataFile = Path.ChangeExtension(png, ".dat");
        File.WriteAllText(dataFile, data.ToString());
        var count = subjects.Count;
        var script = $"""
            set terminal pngcairo size 1400,560 font ",10"
            set output "{png}"
            set multiplot layout 1,2 title "Cost per job: sleep jobs, no health checks, no Consul (median of alternating runs)"
            set datafile missing "NaN"
            set key left top
            set grid
            set xlabel "jobs"
            set xtics (10, 100, 400)
            set ylabel "RSS after idle (MiB)"
            set title "memory (lower is better)"
            plot for [i=0:{count - 1}] "{dataFile}" using 1:(column(2 + 2 * i)) with linespoints lw 2 title columnheader(2 + 2 * i)
            set ylabel "all jobs running (ms)"
            set title "start-up (lower is better)"
            plot for [i=0:{count - 1}] "{dataFile}" using 1:(column(3 + 2 * i)) with linespoints lw 2 title columnheader(3 + 2 * i)
            unset multiplot
            """;
        Chart.Plot(png, script);
    }
}

/// <summary>One run's figures; null where the figure does not apply.</summary>
/// <param name="OwnCpuPerCheckMs">CPU per check of the supervisor's own process, without the check's process (its
/// <c>utime + stime</c>, not <c>cutime + cstime</c>): the part the supervisor's design decides.</param>
/// <param name="IdleRunPercent">Idle CPU from the threads' run time in nanoseconds (<c>/proc/PID/task/*/schedstat</c>), where
/// the ticks of <c>/proc/PID/stat</c> (10 ms) are too coarse for figures of 0.02 %; a thread that ends within the
/// window is not counted (its run time goes with it; .NET retires idle thread-pool threads).</param>
internal sealed record ScaleRun(double AllUpMs, double RssMiB, double? IdleCpuPercent, double? CpuPerCheckMs, double? StopMs, double? IdleRunPercent = null,
    double? OwnCpuPerCheckMs = null);

/// <summary>A supervisor started with N sleep jobs: how to start it, count its running jobs and read its own cost.</summary>
internal sealed class ScaleSubject(string name, Func<int, bool, Process> start, bool isTree, bool hasHealthChecks)
{
    public string Name => name;

    public bool HasHealthChecks => hasHealthChecks;

    public static ScaleSubject Supervisor(SupervisorSubject subject, Scratch scratch) =>
        new(subject.Name, (jobs, checks) => StartV3(subject, scratch, jobs, checks), isTree: false, hasHealthChecks: true);

    public static IEnumerable<ScaleSubject> Peers(Scratch scratch)
    {
        if (File.Exists("/usr/bin/supervisord"))
        {
            yield return new ScaleSubject("supervisord", (jobs, _) => StartSupervisord(scratch, jobs), isTree: false, hasHealthChecks: false);
        }
        if (File.Exists("/usr/bin/s6-svscan"))
        {
            yield return new ScaleSubject("s6 (PSS of the tree)", (jobs, _) => StartS6(scratch, jobs), isTree: true, hasHealthChecks: false);
        }
    }

    /// <summary>
    /// Pilot with its default stop window (the jobs get SIGTERM and honour it; Pilot exits once all have stopped);
    /// ContainerPilot with <c>stopTimeout: -1</c>, since it sleeps the whole window before it exits even when every job
    /// has ended.
    /// </summary>
    private static Process StartV3(SupervisorSubject subject, Scratch scratch, int count, bool checks)
    {
        var prefix = string.Concat(subject.Name.Where(char.IsAsciiLetterOrDigit));
        var config = scratch.File(prefix + "-scale.json5");
        var socket = scratch.File(prefix + "-scale.sock");
        var health = checks ? ", health: { exec: \"/bin/true\", interval: 5, ttl: 10 }" : "";
        var jobs = string.Join(", ", Enumerable.Range(0, count).Select(i => $"{{ name: \"job{i}\", exec: \"sleep 86400\"{health} }}"));
        var header = subject.IsPilot ? "" : "consul: \"127.0.0.1:8500\", stopTimeout: -1, ";
        File.WriteAllText(config, $"{{ {header}control: {{ socket: \"{socket}\" }}, logging: {{ level: \"ERROR\" }}, jobs: [ {jobs} ] }}");
        File.Delete(socket);
        return Bench.Start(subject.Binary, "-config", config);
    }

    private static Process StartSupervisord(Scratch scratch, int count)
    {
        var conf = scratch.File("supervisord-scale.conf");
        var text = new StringBuilder($"[supervisord]\nnodaemon=true\nlogfile=/dev/null\npidfile={scratch.File("supervisord-scale.pid")}\n");
        for (var i = 0; i < count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"[program:job{i}]\ncommand=sleep 86400\nstartsecs=0\nautorestart=true\n");
        }
        File.WriteAllText(conf, text.ToString());
        return Bench.Start("/usr/bin/supervisord", "-c", conf);
    }

    private static Process StartS6(Scratch scratch, int count)
    {
        var scan = scratch.File("s6-scale");
        if (Directory.Exists(scan))
        {
            Directory.Delete(scan, recursive: true);
        }
        for (var i = 0; i < count; i++)
        {
            var service = Path.Combine(scan, $"job{i}");
            Directory.CreateDirectory(service);
            var run = Path.Combine(service, "run");
            File.WriteAllText(run, "#!/bin/sh\nexec sleep 86400\n");
            File.SetUnixFileMode(run, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return Bench.Start("/usr/bin/s6-svscan", scan);
    }

    public async Task<ScaleRun> MeasureAsync(int jobs, TimeSpan idle, bool withChecks)
    {
        var watch = Stopwatch.StartNew();
        using var process = start(jobs, withChecks);
        try
        {
            while (RunningJobs(process.Id) < jobs)
            {
                if (process.HasExited || watch.Elapsed > ScaleCostLimits.AllUp)
                {
                    throw new InvalidOperationException($"{name}: {RunningJobs(process.Id)} of {jobs} jobs running after {watch.Elapsed.TotalSeconds:0} s");
                }
                await Task.Delay(10);
            }
            var allUp = watch.Elapsed.TotalMilliseconds;
            await Task.Delay(ScaleCostLimits.Settle);
            var (cpu0, own0, run0, at0) = (CpuTicks(process.Id, withChildren: withChecks), CpuTicks(process.Id, withChildren: false), RunNanoseconds(process.Id), Stopwatch.GetTimestamp());
            await Task.Delay(idle);
            var (cpu1, own1, run1, seconds) = (CpuTicks(process.Id, withChildren: withChecks), CpuTicks(process.Id, withChildren: false), RunNanoseconds(process.Id), Stopwatch.GetElapsedTime(at0).TotalSeconds);
            var rss = Memory(process.Id);
            var cpuMs = (cpu1 - cpu0) * 10.0;
            double? idleCpu = withChecks ? null : cpuMs / 10.0 / seconds; // ms per s → % of one core
            // The window is a whole number of check intervals, so every job's check ran the same number of times in it.
            var checksRun = jobs * seconds / ScaleCost.CheckInterval;
            double? perCheck = withChecks ? cpuMs / checksRun : null;
            double? ownPerCheck = withChecks ? (own1 - own0) * 10.0 / checksRun : null;
            var stop = Stopwatch.StartNew();
            _ = Native.Kill(process.Id, 15);
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            double? stopMs = null;
            try
            {
                await process.WaitForExitAsync(limit.Token);
                stopMs = stop.Elapsed.TotalMilliseconds;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"{name}: still running 20 s after SIGTERM");
            }
            double? idleRun = withChecks ? null : RunBetween(run0, run1) / 1e6 / 10.0 / seconds;
            return new ScaleRun(allUp, rss, idleCpu, perCheck, withChecks ? null : stopMs, idleRun, ownPerCheck);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            // Whatever a stopped supervisor left behind (s6's supervise processes exit with it).
            await Task.Delay(200);
        }
    }

    /// <summary>Jobs that have exec'd <c>sleep</c>: children of the supervisor (grandchildren for s6).</summary>
    private int RunningJobs(int pid)
    {
        var candidates = isTree ? Children(pid).SelectMany(Children) : Children(pid);
        return candidates.Count(child => Comm(child) == "sleep");
    }

    /// <summary>The supervisor's own processes: itself, and for s6 its s6-supervise children.</summary>
    private IEnumerable<int> Own(int pid) => isTree ? [pid, .. Children(pid)] : [pid];

    private double Memory(int pid) => isTree ? Own(pid).Sum(PssMiB) : Bench.RssMiB(pid);

    private long CpuTicks(int pid, bool withChildren) => Own(pid).Sum(p => Ticks(p, withChildren));

    /// <summary>Run time (ns) of each live thread of the supervisor's own processes, by thread id.</summary>
    private Dictionary<int, long> RunNanoseconds(int pid)
    {
        var threads = new Dictionary<int, long>();
        foreach (var p in Own(pid))
        {
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{p}/task"))
                {
                    try
                    {
                        var text = File.ReadAllText(Path.Combine(task, "schedstat"));
                        threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] =
                            long.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
                    }
                    catch (IOException)
                    {
                        // The thread ended meanwhile.
                    }
                }
            }
            catch (IOException)
            {
            }
        }
        return threads;
    }

    /// <summary>Run time (ns) from <paramref name="before"/> to <paramref name="after"/> of the threads alive at the end.</summary>
    private static long RunBetween(Dictionary<int, long> before, Dictionary<int, long> after) =>
        after.Sum(t => t.Value - before.GetValueOrDefault(t.Key));

    /// <summary>utime + stime (+ cutime + cstime: the children it waited for) in clock ticks of 10 ms.</summary>
    private static long Ticks(int pid, bool withChildren)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Skip(11).Take(withChildren ? 4 : 2).Sum(f => long.Parse(f, CultureInfo.InvariantCulture));
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static double PssMiB(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/smaps_rollup").First(l => l.StartsWith("Pss:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static IEnumerable<int> Children(int pid)
    {
        var tasks = $"/proc/{pid}/task";
        if (!Directory.Exists(tasks))
        {
            return [];
        }
        var children = new List<int>();
        foreach (var task in Directory.EnumerateDirectories(tasks))
        {
            try
            {
                children.AddRange(File.ReadAllText(Path.Combine(task, "children"))
                    .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
            }
        }
        return children;
    }
}

internal static class ScaleCostLimits
{
    /// <summary>
    /// From all jobs running to the idle window: start-up's tail is over by then (.NET retires the thread-pool threads a
    /// burst of starts created after 20 s without work; Pilot compacts its heap once after a burst).
    /// </summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(25), AllUp = TimeSpan.FromSeconds(120);
}

internal static class Native
{
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    public static extern int Kill(int pid, int signal);
}
