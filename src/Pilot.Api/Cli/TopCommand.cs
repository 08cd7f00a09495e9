using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Pilot.Api.V3;

namespace Pilot.Api.Cli;

/// <summary>
/// <c>pilot top</c>: the jobs with what their process groups cost (CPU %, memory, processes), from <c>GET /v3/status</c>
/// every <c>-d</c>, redrawn in place on a terminal (plain ANSI: cursor home, clear) until q or Ctrl-C; with <c>-n N</c>
/// or when stdout is not a terminal, screens follow each other as plain text, so scripts and tests can read them.
/// </summary>
/// <remarks>
/// CPU % is measured over the interval between two screens (the change of the job's CPU seconds ÷ the time between the
/// reads), so the first screen — and a job whose run changed since the last one — shows the average since its run
/// started, as <c>pilot status</c> does. Pilot reads /proc only when asked, so nothing costs anything between screens.
/// </remarks>
internal sealed class TopCommand(TextWriter stdout, TimeProvider time, bool terminal)
{
    private const string Home = "\u001b[H", ClearBelow = "\u001b[J", ClearLine = "\u001b[K", HideCursor = "\u001b[?25l", ShowCursor = "\u001b[?25h";

    private readonly Dictionary<string, (int Pid, double CpuSeconds, DateTimeOffset At)> _previous = new(StringComparer.Ordinal);

    /// <param name="fetch">One status read; null after printing why it failed.</param>
    public async Task<int> RunAsync(Func<CancellationToken, Task<StatusResponse?>> fetch, int? iterations, TimeSpan delay, CancellationToken cancellationToken)
    {
        using var quit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        if (terminal && !Console.IsInputRedirected)
        {
            // A blocking key read on its own thread: q quits (the thread ends with the process).
            _ = Task.Factory.StartNew(() => WaitForQuit(quit), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        if (terminal)
        {
            await stdout.WriteAsync(HideCursor + "\u001b[2J").ConfigureAwait(false);
        }
        try
        {
            for (var screen = 1; ; screen++)
            {
                var status = await fetch(quit.Token).ConfigureAwait(false);
                if (status is null)
                {
                    return PilotCli.ExitFailure;
                }
                var text = Render(status, delay, time.GetUtcNow());
                await stdout.WriteAsync(terminal
                    ? Home + text.Replace("\n", ClearLine + "\n", StringComparison.Ordinal) + ClearBelow
                    : text + (iterations is { } n && screen >= n ? "" : "\n")).ConfigureAwait(false);
                await stdout.FlushAsync(quit.Token).ConfigureAwait(false);
                if (iterations is { } last && screen >= last)
                {
                    return PilotCli.ExitOk;
                }
                await Task.Delay(delay, time, quit.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (quit.IsCancellationRequested)
        {
            return PilotCli.ExitOk;
        }
        finally
        {
            if (terminal)
            {
                await stdout.WriteAsync(ShowCursor).ConfigureAwait(false);
                await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            quit.Cancel();
        }
    }

    private static void WaitForQuit(CancellationTokenSource quit)
    {
        try
        {
            while (!quit.IsCancellationRequested)
            {
                if (Console.ReadKey(intercept: true).KeyChar is 'q' or 'Q')
                {
                    quit.Cancel();
                }
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or ObjectDisposedException)
        {
            // No keyboard after all: Ctrl-C and -n still end it.
        }
    }

    /// <summary>One screen: a summary line, then a row per job.</summary>
    public string Render(StatusResponse status, TimeSpan delay, DateTimeOffset now)
    {
        var rows = new List<string[]>();
        double totalPercent = 0;
        long totalMemory = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var job in status.Jobs)
        {
            double? percent = job.CpuPercent;
            if (job.Pid is { } pid && job.CpuSeconds is { } cpu)
            {
                if (_previous.TryGetValue(job.Name, out var before) && before.Pid == pid && now > before.At)
                {
                    percent = Math.Max(0, (cpu - before.CpuSeconds) / (now - before.At).TotalSeconds * 100);
                }
                _previous[job.Name] = (pid, cpu, now);
            }
            seen.Add(job.Name);
            totalPercent += percent ?? 0;
            totalMemory += job.MemoryBytes ?? 0;
            rows.Add([
                job.Name, job.State, job.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-",
                job.Processes?.ToString(CultureInfo.InvariantCulture) ?? "-",
                percent is { } p ? Percent(p) : "-",
                job.MemoryBytes is { } bytes ? Memory(bytes) : "-",
                job.CpuSeconds is { } seconds ? CpuTime(seconds) : "-",
                job.Pid is not null && job.LastStarted is { } started ? PilotCommands.Duration(now - started) : "-",
            ]);
        }
        foreach (var gone in _previous.Keys.Where(name => !seen.Contains(name)).ToList())
        {
            _previous.Remove(gone);
        }
        var running = status.Jobs.Count(j => j.Pid is not null);
        var summary = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"pilot top - {now.UtcDateTime:HH:mm:ss} UTC - {status.Jobs.Count} jobs, {running} running - ")
            .Append(CultureInfo.InvariantCulture, $"CPU {Percent(totalPercent)}%, memory {Memory(totalMemory)} - every {Supervisor.Config.Decoding.GoDuration.Format(delay)}")
            .Append(terminal ? ", q quits" : "")
            .Append(status.Maintenance ? " - maintenance: on" : "")
            .Append('\n');
        return summary + PilotCommands.Table(["JOB", "STATE", "PID", "PROCS", "CPU%", "MEM", "CPU TIME", "UPTIME"], rows);
    }

    public static string Percent(double percent) => percent.ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Bytes for people: <c>512K</c>, <c>12.5M</c>, <c>1.20G</c> (powers of 1024).</summary>
    public static string Memory(long bytes) =>
        bytes < 1024 * 1024 ? $"{(bytes / 1024).ToString(CultureInfo.InvariantCulture)}K"
        : bytes < 1024L * 1024 * 1024 ? $"{(bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture)}M"
        : $"{(bytes / (1024.0 * 1024 * 1024)).ToString("0.00", CultureInfo.InvariantCulture)}G";

    /// <summary>CPU seconds as <c>m:ss.cc</c>, as top's TIME+.</summary>
    public static string CpuTime(double seconds)
    {
        var minutes = (long)(seconds / 60);
        return $"{minutes.ToString(CultureInfo.InvariantCulture)}:{(seconds - (minutes * 60)).ToString("00.00", CultureInfo.InvariantCulture)}";
    }
}
