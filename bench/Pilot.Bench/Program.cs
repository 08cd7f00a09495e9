using System.Diagnostics;
using System.Globalization;
using System.Text;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Pilot.Bench;

/// <summary>
/// Whole-process figures for Pilot beside the peers that do the same job (Debian's tini, dumb-init): start to first
/// child exec, a whole run of /bin/true, exit-to-dependent-start, orphan reaping, idle RSS. Each figure is the median
/// (with min/max) of several runs. Usage: <c>Pilot.Bench [--runs N] [--out results.md]</c>; <c>PILOT_BIN</c> picks the
/// pilot binary (default: the Release build).
/// </summary>
internal static class Program
{
    private static int _runs = 10;

    private static readonly (string Label, HttpMethod Method, string Path, string? Body)[] ControlRequests =
    [
        ("GET /v3/ping", HttpMethod.Get, "/v3/ping", null),
        ("POST /v3/environ", HttpMethod.Post, "/v3/environ", "{\"BENCH_VALUE\":\"x\"}"),
        ("POST /v3/metric", HttpMethod.Post, "/v3/metric", "{\"bench_requests\":1}"),
    ];

    public static async Task<int> Main(string[] args)
    {
        string? output = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runs":
                    _runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--out":
                    output = args[++i];
                    break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}; usage: Pilot.Bench [--runs N] [--out FILE]");
                    return 2;
            }
        }
        var pilots = new List<(string Name, string Path)> { ("pilot", Bench.PilotBin()) };
        if (Environment.GetEnvironmentVariable("PILOT_AOT_BIN") is { Length: > 0 } aot && File.Exists(aot))
        {
            pilots.Add(("pilot (AOT)", aot));
        }
        var table = new ResultTable();
        using var scratch = new Scratch();
        foreach (var (name, path) in pilots)
        {
            var pilot = new PilotSubject(name, path, scratch);
            table.Add("start → first child exec (ms)", name, await Bench.RepeatAsync(_runs, pilot.StartToFirstExecAsync));
            table.Add("whole run of /bin/true (ms)", name, await Bench.RepeatAsync(_runs, pilot.TrueRunAsync));
            table.Add("exit → dependent job exec (ms)", name, await Bench.RepeatAsync(_runs, pilot.ExitToDependentAsync));
            table.Add("crashing job: exit → next exec (ms)", name, await Bench.RepeatAsync(_runs, pilot.RestartAsync));
            table.Add("orphan storm 10,000: last fork → 0 zombies (ms)", name, await Bench.RepeatAsync(Math.Max(3, _runs / 3), pilot.OrphanStormAsync));
            table.Add("RSS idle, 1 job (MiB)", name, await Bench.RepeatAsync(3, () => pilot.IdleRssAsync(1)));
            table.Add("RSS idle, 10 jobs (MiB)", name, await Bench.RepeatAsync(3, () => pilot.IdleRssAsync(10)));
            foreach (var (label, method, route, body) in ControlRequests)
            {
                var results = await pilot.ControlPlaneAsync(method, route, body);
                table.Add($"{label}: requests/s, 16 clients", name, Sample.Of([.. results.Select(r => r.RequestsPerSecond)]));
                table.Add($"{label}: p50 latency (ms)", name, Sample.Of([.. results.Select(r => r.P50Ms)]));
                table.Add($"{label}: p99 latency (ms)", name, Sample.Of([.. results.Select(r => r.P99Ms)]));
            }
        }
        foreach (var peer in PeerSubject.Available(scratch))
        {
            table.Add("start → first child exec (ms)", peer.Name, await Bench.RepeatAsync(_runs, peer.StartToFirstExecAsync));
            table.Add("whole run of /bin/true (ms)", peer.Name, await Bench.RepeatAsync(_runs, peer.TrueRunAsync));
            table.Add("orphan storm 10,000: last fork → 0 zombies (ms)", peer.Name, await Bench.RepeatAsync(Math.Max(3, _runs / 3), peer.OrphanStormAsync));
            table.Add("RSS idle, 1 job (MiB)", peer.Name, await Bench.RepeatAsync(3, peer.IdleRssAsync));
        }
        foreach (var peer in ServiceManagerPeer.Available(scratch))
        {
            table.Add("start → first child exec (ms)", peer.Name, await Bench.RepeatAsync(_runs, peer.StartToFirstExecAsync));
            table.Add("crashing job: exit → next exec (ms)", peer.Name, await Bench.RepeatAsync(Math.Max(3, _runs / 3), peer.RestartAsync));
            table.Add("RSS idle, 1 job (MiB)", peer.Name, await Bench.RepeatAsync(3, peer.IdleRssAsync));
        }
        var markdown = table.ToMarkdown(pilots[0].Name, Bench.MachineDescription());
        Console.WriteLine(markdown);
        if (output is not null)
        {
            await File.WriteAllTextAsync(output, markdown);
            Chart.Write(table, Path.ChangeExtension(output, ".png"));
        }
        return 0;
    }
}

/// <summary>A temp directory for one bench run.</summary>
internal sealed class Scratch : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("pilot-bench-").FullName;

    public string File(string name) => Path.Combine(Directory, name);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>Pilot running a config written for each measurement.</summary>
internal sealed class PilotSubject(string name, string binary, Scratch scratch)
{
    public string Name => name;

    private Process StartPilot(string jobs)
    {
        var config = scratch.File("bench.json5");
        File.WriteAllText(config, $"{{ control: {{ socket: \"{scratch.File("pilot.socket")}\" }}, logging: {{ level: \"ERROR\" }}, stopTimeout: 1, jobs: [ {jobs} ] }}");
        return Bench.Start(binary, "-config", config);
    }

    public async Task<double> StartToFirstExecAsync()
    {
        var stamp = scratch.File("first-exec");
        File.Delete(stamp);
        var started = Bench.NowNs();
        using var pilot = StartPilot($"{{ name: \"first\", exec: [\"sh\", \"-c\", \"date +%s%N > {stamp}\"] }}");
        await pilot.WaitForExitAsync();
        return (Bench.ReadStamp(stamp) - started) / 1e6;
    }

    public async Task<double> TrueRunAsync()
    {
        var watch = Stopwatch.StartNew();
        using var pilot = StartPilot("{ name: \"true\", exec: \"/bin/true\" }");
        await pilot.WaitForExitAsync();
        return watch.Elapsed.TotalMilliseconds;
    }

    public async Task<double> ExitToDependentAsync()
    {
        var (a, b) = (scratch.File("a"), scratch.File("b"));
        using var pilot = StartPilot(
            $"{{ name: \"a\", exec: [\"sh\", \"-c\", \"date +%s%N > {a}\"] }}, " +
            $"{{ name: \"b\", exec: [\"sh\", \"-c\", \"date +%s%N > {b}\"], when: {{ source: \"a\", once: \"exitSuccess\" }} }}");
        await pilot.WaitForExitAsync();
        return (Bench.ReadStamp(b) - Bench.ReadStamp(a)) / 1e6;
    }

    public async Task<double> RestartAsync()
    {
        var stamps = scratch.File("restarts");
        File.Delete(stamps);
        // Each run appends its exec time and fails; one restart gives two runs.
        using var pilot = StartPilot($"{{ name: \"crash\", exec: [\"sh\", \"-c\", \"date +%s%N >> {stamps}; exit 1\"], restarts: 1 }}");
        await pilot.WaitForExitAsync();
        var times = File.ReadAllLines(stamps).Select(l => long.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        return (times[1] - times[0]) / 1e6;
    }

    public async Task<double> OrphanStormAsync()
    {
        var stamp = scratch.File("storm");
        File.Delete(stamp);
        using var pilot = StartPilot($"{{ name: \"storm\", exec: [\"sh\", \"-c\", \"{Bench.StormScript(stamp)}\"] }}");
        var elapsed = await Bench.WaitNoZombiesAsync(pilot.Id, stamp);
        pilot.Kill(entireProcessTree: true);
        await pilot.WaitForExitAsync();
        return elapsed;
    }

    /// <summary>Three 5-second runs of 16 clients against one Pilot (with a counter `bench_requests` configured).</summary>
    public async Task<List<ControlPlaneLoad.Result>> ControlPlaneAsync(HttpMethod method, string path, string? body)
    {
        var config = scratch.File("bench.json5");
        var socket = scratch.File("pilot.socket");
        File.WriteAllText(config, $"{{ control: {{ socket: \"{socket}\" }}, logging: {{ level: \"ERROR\" }}, " +
            "telemetry: { port: 0, interfaces: [\"static:127.0.0.1\"], metrics: [ { name: \"bench_requests\", help: \"bench\", type: \"counter\" } ] }, " +
            "jobs: [ { name: \"idle\", exec: \"sleep 600\" } ] }");
        File.Delete(socket); // a killed earlier run leaves its socket file behind
        using var pilot = Bench.Start(binary, "-config", config);
        await ControlPlaneLoad.WaitReadyAsync(socket);
        await ControlPlaneLoad.RunAsync(socket, method, path, body, 16, TimeSpan.FromSeconds(1)); // warm-up
        var results = new List<ControlPlaneLoad.Result>();
        for (var i = 0; i < 3; i++)
        {
            var result = await ControlPlaneLoad.RunAsync(socket, method, path, body, 16, TimeSpan.FromSeconds(5));
            if (result.Errors > 0)
            {
                throw new InvalidOperationException($"{method} {path}: {result.Errors} requests failed");
            }
            results.Add(result);
        }
        pilot.Kill(entireProcessTree: true);
        await pilot.WaitForExitAsync();
        return results;
    }

    public async Task<double> IdleRssAsync(int jobs)
    {
        var list = string.Join(", ", Enumerable.Range(0, jobs).Select(i => $"{{ name: \"idle{i}\", exec: \"sleep 600\" }}"));
        using var pilot = StartPilot(list);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var rss = Bench.RssMiB(pilot.Id);
        pilot.Kill(entireProcessTree: true);
        await pilot.WaitForExitAsync();
        return rss;
    }
}

/// <summary>A one-child init from Debian (tini, dumb-init) running the same commands.</summary>
internal sealed class PeerSubject(string name, string[] prefix, Scratch scratch)
{
    public string Name => name;

    public static IEnumerable<PeerSubject> Available(Scratch scratch)
    {
        if (File.Exists("/usr/bin/tini"))
        {
            // -s: child subreaper, so orphans reparent to tini as they do to Pilot.
            yield return new PeerSubject("tini", ["/usr/bin/tini", "-s", "--"], scratch);
        }
        if (File.Exists("/usr/bin/dumb-init"))
        {
            yield return new PeerSubject("dumb-init", ["/usr/bin/dumb-init"], scratch);
        }
    }

    private Process Run(params string[] command) => Bench.Start(prefix[0], [.. prefix.Skip(1), .. command]);

    public async Task<double> StartToFirstExecAsync()
    {
        var stamp = scratch.File("peer-first");
        var started = Bench.NowNs();
        using var peer = Run("sh", "-c", $"date +%s%N > {stamp}");
        await peer.WaitForExitAsync();
        return (Bench.ReadStamp(stamp) - started) / 1e6;
    }

    public async Task<double> TrueRunAsync()
    {
        var watch = Stopwatch.StartNew();
        using var peer = Run("/bin/true");
        await peer.WaitForExitAsync();
        return watch.Elapsed.TotalMilliseconds;
    }

    public async Task<double> OrphanStormAsync()
    {
        var stamp = scratch.File("peer-storm");
        File.Delete(stamp);
        using var peer = Run("sh", "-c", Bench.StormScript(stamp).Replace("\\\"", "\"", StringComparison.Ordinal));
        var elapsed = await Bench.WaitNoZombiesAsync(peer.Id, stamp);
        peer.Kill(entireProcessTree: true);
        await peer.WaitForExitAsync();
        return elapsed;
    }

    public async Task<double> IdleRssAsync()
    {
        using var peer = Run("sleep", "600");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rss = Bench.RssMiB(peer.Id);
        peer.Kill(entireProcessTree: true);
        await peer.WaitForExitAsync();
        return rss;
    }
}

internal static class Bench
{
    public static string PilotBin() => Checkout.PilotBinary();

    public static Process Start(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
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

    public static async Task<Sample> RepeatAsync(int runs, Func<Task<double>> measure)
    {
        await measure(); // warm-up: page cache, first JIT of the bench itself
        var values = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            values.Add(await measure());
        }
        return Sample.Of(values);
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

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Median:0.0} ({Min:0.0}–{Max:0.0})");
}

internal sealed class ResultTable
{
    private readonly List<(string Metric, string Subject, Sample Sample)> _rows = [];

    public IReadOnlyList<(string Metric, string Subject, Sample Sample)> Rows => _rows;

    public void Add(string metric, string subject, Sample sample)
    {
        _rows.Add((metric, subject, sample));
        Console.Error.WriteLine($"{metric,-48} {subject,-14} {sample}");
    }

    /// <summary>One row per metric, one column per subject, plus each peer's ratio to the reference subject.</summary>
    public string ToMarkdown(string reference, string machine)
    {
        var subjects = _rows.Select(r => r.Subject).Distinct().ToList();
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine}. Median (min–max); ratio = {reference} ÷ peer.");
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
