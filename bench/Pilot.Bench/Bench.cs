using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Pilot.Bench;

/// <summary>Something measured: Pilot, ContainerPilot or a peer.</summary>
internal interface ISubject
{
    string Name { get; }
}

/// <summary>One subject's measurement of one metric.</summary>
internal sealed record Candidate(string Subject, Func<Task<double>> Measure);

internal static class SubjectExtensions
{
    public static Candidate Run(this ISubject subject, Func<Task<double>> measure) => new(subject.Name, measure);
}

internal static class Bench
{
    public static string PilotBin() => Checkout.PilotBinary();

    public static Process Start(string program, params string[] args) => Start(program, environment: null, args);

    public static Process Start(string program, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info)!;
        // Drain output so a chatty child never blocks on a full pipe.
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    /// <summary>Milliseconds from starting <paramref name="program"/> to its exit.</summary>
    public static async Task<double> TimeRunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        await process.WaitForExitAsync();
        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// CPU time (user + system, ms) of the processes this bench started, waited for and that have ended — with the
    /// children they waited for in turn. A difference around one run is that run's CPU cost, which a busy machine
    /// hardly changes, unlike its wall time.
    /// </summary>
    public static double ChildrenCpuMs()
    {
        const int RusageChildren = -1;
        if (GetRUsage(RusageChildren, out var usage) != 0)
        {
            throw new InvalidOperationException("getrusage failed");
        }
        return (usage.UserSeconds + usage.SystemSeconds) * 1e3 + (usage.UserMicroseconds + usage.SystemMicroseconds) / 1e3;
    }

    /// <summary>The CPU time <paramref name="run"/> took, in its children (see <see cref="ChildrenCpuMs"/>).</summary>
    public static async Task<double> CpuOfAsync(Func<Task> run)
    {
        var before = ChildrenCpuMs();
        await run();
        return ChildrenCpuMs() - before;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxRss, Ixrss, Idrss, Isrss, MinorFaults, MajorFaults, Swaps, InBlock, OutBlock, MsgSnd, MsgRcv, Signals, Nvcsw, Nivcsw;
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRUsage(int who, out RUsage usage);

    public static async Task StopAsync(Process process)
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    /// <summary>Wall clock in ns, comparable with <c>date +%s%N</c> written by a child.</summary>
    public static long NowNs() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;

    public static long ReadStamp(string path) => long.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);

    /// <summary>Forks 10,000 orphans that exit at once, then writes the time the last was forked and sleeps.</summary>
    public static string StormScript(string stamp) =>
        $"i=0; while [ $i -lt 10000 ]; do (true &); i=$((i+1)); done; date +%s%N > {stamp}; exec sleep 600";

    /// <summary>After the storm's stamp appears, polls /proc until no zombie has <paramref name="parent"/> as parent.</summary>
    public static async Task<double> WaitNoZombiesAsync(int parent, string stamp)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!File.Exists(stamp) || new FileInfo(stamp).Length == 0)
        {
            await Task.Delay(5);
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("storm did not finish");
            }
        }
        while (ZombieChildren(parent) > 0)
        {
            await Task.Delay(1);
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("zombies left");
            }
        }
        return (NowNs() - ReadStamp(stamp)) / 1e6;
    }

    private static int ZombieChildren(int parent)
    {
        var count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] == "Z" && int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    count++;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return count;
    }

    public static double RssMiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    public static string MachineDescription()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "unknown CPU";
        return $"{Environment.ProcessorCount} cores ({cpu}), {Environment.OSVersion}, .NET {Environment.Version}";
    }
}

internal sealed record Sample(double Median, double Min, double Max, int Runs)
{
    public static Sample Of(List<double> values)
    {
        values.Sort();
        var middle = values.Count / 2;
        var median = values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
        return new Sample(median, values[0], values[^1], values.Count);
    }

    /// <summary>Decimals shown (per-job and CPU figures are small).</summary>
    public int Digits { get; init; } = 1;

    public override string ToString()
    {
        var format = "0." + new string('0', Digits);
        return Runs == 1 && Min == Max
            ? Median.ToString(format, CultureInfo.InvariantCulture)
            : $"{Median.ToString(format, CultureInfo.InvariantCulture)} ({Min.ToString(format, CultureInfo.InvariantCulture)}–{Max.ToString(format, CultureInfo.InvariantCulture)})";
    }
}

internal sealed class ResultTable
{
    private readonly List<(string Metric, string Subject, Sample Sample)> _rows = [];

    public IReadOnlyList<(string Metric, string Subject, Sample Sample)> Rows => _rows;

    public void Add(string metric, string subject, Sample sample)
    {
        _rows.Add((metric, subject, sample));
        Console.Error.WriteLine($"{metric,-48} {subject,-20} {sample}");
    }

    /// <summary>
    /// One warm-up each (page cache, the bench's own JIT), then <paramref name="runs"/> rounds in which every subject is
    /// measured once, the order rotating each round, so background noise lands on every subject alike.
    /// </summary>
    public async Task MeasureAsync(string metric, int runs, IReadOnlyList<Candidate> candidates)
    {
        if (candidates.Count == 0)
        {
            return;
        }
        var values = candidates.Select(_ => new List<double>()).ToArray();
        foreach (var candidate in candidates)
        {
            await candidate.Measure();
        }
        for (var round = 0; round < runs; round++)
        {
            for (var k = 0; k < candidates.Count; k++)
            {
                var index = (round + k) % candidates.Count;
                values[index].Add(await candidates[index].Measure());
            }
        }
        for (var i = 0; i < candidates.Count; i++)
        {
            Add(metric, candidates[i].Subject, Sample.Of(values[i]));
        }
    }

    /// <summary>One row per metric, one column per subject, plus each peer's ratio to the reference subject.</summary>
    public string ToMarkdown(string reference, string machine)
    {
        var subjects = _rows.Select(r => r.Subject).Distinct().ToList();
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine}. Median (min–max) of alternating runs; ratio = {reference} ÷ peer.");
        text.AppendLine();
        text.Append("| metric |");
        foreach (var subject in subjects)
        {
            text.Append(CultureInfo.InvariantCulture, $" {subject} |");
        }
        foreach (var subject in subjects.Where(s => s != reference))
        {
            text.Append(CultureInfo.InvariantCulture, $" {reference} ÷ {subject} |");
        }
        text.AppendLine();
        text.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---|", subjects.Count * 2 - 1)));
        foreach (var metric in _rows.Select(r => r.Metric).Distinct())
        {
            Sample? Find(string subject) => _rows.FirstOrDefault(r => r.Metric == metric && r.Subject == subject).Sample;
            text.Append(CultureInfo.InvariantCulture, $"| {metric} |");
            foreach (var subject in subjects)
            {
                text.Append(CultureInfo.InvariantCulture, $" {Find(subject)?.ToString() ?? "n/a"} |");
            }
            foreach (var subject in subjects.Where(s => s != reference))
            {
                var (mine, theirs) = (Find(reference), Find(subject));
                text.Append(mine is not null && theirs is not null && theirs.Median > 0
                    ? string.Create(CultureInfo.InvariantCulture, $" {mine.Median / theirs.Median:0.0}× |")
                    : " n/a |");
            }
            text.AppendLine();
        }
        return text.ToString();
    }
}
