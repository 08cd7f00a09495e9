using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Pilot.Bench;

/// <summary>
/// Pilot, or ContainerPilot 3.8.0 (the v3 binary Pilot replaces), running a config written for each measurement. Both
/// read the same JSON5; ContainerPilot needs a <c>consul</c> key (any address works while no job has a port).
/// </summary>
internal sealed class SupervisorSubject(string name, string binary, string configHeader, bool isPilot, Scratch scratch) : ISubject
{
    public string Name => name;

    public string Binary => binary;

    /// <summary>Whether it starts children through <c>pilot __exec</c> (ContainerPilot forks and execs directly).</summary>
    public bool IsPilot => isPilot;

    public static SupervisorSubject Pilot(string name, string binary, Scratch scratch) => new(name, binary, "", isPilot: true, scratch);

    /// <summary>The real ContainerPilot when this machine has it, else null.</summary>
    public static SupervisorSubject? ContainerPilot(Scratch scratch)
    {
        var binary = Environment.GetEnvironmentVariable("CONTAINERPILOT_BIN") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.GetFullPath(Path.Combine(Checkout.Root, "../shared/oracle/containerpilot"));
        return System.IO.File.Exists(binary)
            ? new SupervisorSubject("ContainerPilot 3.8", binary, "consul: \"127.0.0.1:8500\", ", isPilot: false, scratch)
            : null;
    }

    /// <summary>A file name unique to this subject, so subjects may run side by side.</summary>
    private string ScratchFile(string purpose) =>
        scratch.File(string.Concat(name.Where(char.IsAsciiLetterOrDigit)) + "-" + purpose);

    public string SocketPath => ScratchFile("control.sock");

    public Process Start(string jobs, string extra = "", IReadOnlyDictionary<string, string>? environment = null)
    {
        var config = ScratchFile("config.json5");
        // stopTimeout -1: ContainerPilot sleeps the whole stopTimeout before it exits, even when every job has ended.
        System.IO.File.WriteAllText(config,
            $"{{ {configHeader}control: {{ socket: \"{SocketPath}\" }}, logging: {{ level: \"ERROR\" }}, stopTimeout: -1, {extra}jobs: [ {jobs} ] }}");
        System.IO.File.Delete(SocketPath); // a killed earlier run leaves its socket file behind
        return Bench.Start(binary, environment, "-config", config);
    }

    /// <summary>Jobs that outlive any measurement (a 10-minute RSS curve included): Pilot exits when every job has halted.</summary>
    public static string SleepJobs(int count) =>
        string.Join(", ", Enumerable.Range(0, count).Select(i => $"{{ name: \"idle{i}\", exec: \"sleep 86400\" }}"));

    public async Task<double> StartToFirstExecAsync()
    {
        var stamp = ScratchFile("first-exec");
        System.IO.File.Delete(stamp);
        var started = Bench.NowNs();
        using var process = Start($"{{ name: \"first\", exec: [\"sh\", \"-c\", \"date +%s%N > {stamp}\"] }}");
        await process.WaitForExitAsync();
        return (Bench.ReadStamp(stamp) - started) / 1e6;
    }

    public async Task<double> TrueRunAsync()
    {
        var watch = Stopwatch.StartNew();
        using var process = Start("{ name: \"true\", exec: \"/bin/true\" }");
        await process.WaitForExitAsync();
        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>CPU time of a whole run of /bin/true: start-up, one child, shutdown.</summary>
    public Task<double> TrueRunCpuAsync() => Bench.CpuOfAsync(TrueRunAsync);

    /// <summary>From starting the process to the first answer of <c>GET /v3/ping</c> on its control socket.</summary>
    public async Task<double> StartToControlAnswerAsync()
    {
        var watch = Stopwatch.StartNew();
        using var process = Start("{ name: \"idle\", exec: \"sleep 600\" }");
        while (!Ping(SocketPath))
        {
            if (process.HasExited || watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"{name}: the control socket never answered");
            }
            Thread.Sleep(TimeSpan.FromMilliseconds(0.2));
        }
        var elapsed = watch.Elapsed.TotalMilliseconds;
        await Bench.StopAsync(process);
        return elapsed;
    }

    /// <summary>One raw HTTP/1.1 ping over the Unix socket: true when a status line came back.</summary>
    private static bool Ping(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            socket.Send("GET /v3/ping HTTP/1.1\r\nHost: control\r\nConnection: close\r\n\r\n"u8);
            var buffer = new byte[64];
            var read = socket.Receive(buffer);
            return read > 0 && Encoding.ASCII.GetString(buffer, 0, read).StartsWith("HTTP/1.1 200", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// What starting one child through the shim costs beyond starting the program itself: the time to run
    /// <c>pilot __exec /bin/true</c> minus the time to run <c>/bin/true</c>, both started and awaited the same way.
    /// </summary>
    public async Task<double> SpawnOverheadAsync()
    {
        var direct = await Bench.TimeRunAsync("/bin/true");
        var shimmed = await Bench.TimeRunAsync(binary, "__exec", "/bin/true");
        return shimmed - direct;
    }

    /// <summary>
    /// The same for the in-memory shim Pilot starts its children through on x86-64 (<c>SHIM pilot /bin/true</c>, the
    /// shim compiled from the same source, run from a file).
    /// </summary>
    public async Task<double> MemoryShimOverheadAsync()
    {
        var shim = NativePrograms.ExecShim(scratch) ?? throw new InvalidOperationException("no in-memory shim off x86-64");
        var direct = await Bench.TimeRunAsync("/bin/true");
        var shimmed = await Bench.TimeRunAsync(shim, binary, "/bin/true");
        return shimmed - direct;
    }

    /// <summary>The same as <see cref="SpawnOverheadAsync"/> in CPU time.</summary>
    public async Task<double> SpawnOverheadCpuAsync()
    {
        var direct = await Bench.CpuOfAsync(() => Bench.TimeRunAsync("/bin/true"));
        var shimmed = await Bench.CpuOfAsync(() => Bench.TimeRunAsync(binary, "__exec", "/bin/true"));
        return shimmed - direct;
    }

    /// <summary>
    /// From job a's exit to job b's exec, b waiting on a's <c>exitSuccess</c>: both jobs are the stamp program, which
    /// stamps as its last act (a) and its first (b).
    /// </summary>
    public async Task<double> ExitToDependentAsync()
    {
        var (a, b) = (ScratchFile("a"), ScratchFile("b"));
        var stamp = NativePrograms.Stamp(scratch);
        using var process = Start(
            $"{{ name: \"a\", exec: [\"{stamp}\", \"{a}\"] }}, " +
            $"{{ name: \"b\", exec: [\"{stamp}\", \"{b}\"], when: {{ source: \"a\", once: \"exitSuccess\" }} }}");
        await process.WaitForExitAsync();
        return (Bench.ReadStamp(b) - Bench.ReadStamp(a)) / 1e6;
    }

    /// <summary>
    /// The same through <c>sh -c "date +%s%N > file"</c>: adds the shell's and date's start-up and exit (≈2.5 ms here)
    /// to every subject; the figure earlier benches reported.
    /// </summary>
    public async Task<double> ExitToDependentThroughShellAsync()
    {
        var (a, b) = (ScratchFile("a"), ScratchFile("b"));
        using var process = Start(
            $"{{ name: \"a\", exec: [\"sh\", \"-c\", \"date +%s%N > {a}\"] }}, " +
            $"{{ name: \"b\", exec: [\"sh\", \"-c\", \"date +%s%N > {b}\"], when: {{ source: \"a\", once: \"exitSuccess\" }} }}");
        await process.WaitForExitAsync();
        return (Bench.ReadStamp(b) - Bench.ReadStamp(a)) / 1e6;
    }

    public async Task<double> RestartAsync()
    {
        var stamps = ScratchFile("restarts");
        System.IO.File.Delete(stamps);
        // Each run appends its exec time and fails; one restart gives two runs.
        using var process = Start($"{{ name: \"crash\", exec: [\"sh\", \"-c\", \"date +%s%N >> {stamps}; exit 1\"], restarts: 1 }}");
        await process.WaitForExitAsync();
        var times = System.IO.File.ReadAllLines(stamps).Select(l => long.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        return (times[1] - times[0]) / 1e6;
    }

    /// <summary>How long the crash-loop figure lets <c>/bin/false</c> crash and restart.</summary>
    public static readonly TimeSpan CrashLoopWindow = TimeSpan.FromSeconds(3);

    /// <summary>
    /// CPU time (ms, the supervisor and every child it reaped) of <see cref="CrashLoopWindow"/> of <c>/bin/false</c> with
    /// unlimited restarts, optionally with a <c>restartBackoff</c> (JSON5 object) — Pilot's extension of v3.
    /// </summary>
    public Task<double> CrashLoopCpuAsync(string? backoff) =>
        WindowCpuAsync($"{{ name: \"crash\", exec: \"/bin/false\", restarts: \"unlimited\"{(backoff is null ? "" : ", restartBackoff: " + backoff)} }}");

    /// <summary>The crash loop's baseline: the same window with one idle job (start-up and idle cost only).</summary>
    public Task<double> IdleWindowCpuAsync() => WindowCpuAsync(SleepJobs(1));

    private Task<double> WindowCpuAsync(string jobs) => Bench.CpuOfAsync(async () =>
    {
        using var process = Start(jobs);
        await Task.Delay(CrashLoopWindow);
        await Bench.StopAsync(process);
    });

    public async Task<double> OrphanStormAsync()
    {
        var stamp = ScratchFile("storm");
        System.IO.File.Delete(stamp);
        using var process = Start($"{{ name: \"storm\", exec: [\"sh\", \"-c\", \"{Bench.StormScript(stamp)}\"] }}");
        var elapsed = await Bench.WaitNoZombiesAsync(process.Id, stamp);
        await Bench.StopAsync(process);
        return elapsed;
    }

    public async Task<double> IdleRssAsync(int jobs)
    {
        using var process = Start(SleepJobs(jobs));
        await Task.Delay(TimeSpan.FromSeconds(3));
        var rss = Bench.RssMiB(process.Id);
        await Bench.StopAsync(process);
        return rss;
    }
}
