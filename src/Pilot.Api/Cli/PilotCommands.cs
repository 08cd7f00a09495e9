using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Pilot.Api.V3;
using Pilot.Supervisor.Logging;

namespace Pilot.Api.Cli;

/// <summary>
/// Pilot's commands for people (<c>status</c>, <c>logs</c>, <c>stop</c>, <c>start</c>, <c>restart</c>, <c>events</c>), each a
/// thin client of one control-plane endpoint. Results go to stdout; errors to stderr as one plain line, exit 1.
/// </summary>
/// <param name="terminal">stdout is a terminal: <c>top</c> redraws in place.</param>
public sealed class PilotCommands(TextWriter stdout, TextWriter stderr, TimeProvider time, bool terminal = false)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    // Stopping waits for the job's processes to end, bounded by its stopTimeout.
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    public async Task<int> RunAsync(CliInvocation invocation, string socketPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        using var client = new ControlClient(socketPath);
        try
        {
            return invocation.Verb switch
            {
                CliVerb.Status => await StatusAsync(client, invocation.Json, cancellationToken).ConfigureAwait(false),
                CliVerb.Logs when invocation.Follow => await FollowAsync(client, LogsPath(invocation) + "&follow=true", PrintLogLineAsync, cancellationToken).ConfigureAwait(false),
                CliVerb.Logs => await LogsAsync(client, invocation, cancellationToken).ConfigureAwait(false),
                CliVerb.Graph => await GraphAsync(client, invocation.GraphFormat, cancellationToken).ConfigureAwait(false),
                CliVerb.Why => await WhyAsync(client, invocation.Target, cancellationToken).ConfigureAwait(false),
                CliVerb.Top => await new TopCommand(stdout, time, terminal)
                    .RunAsync(token => FetchStatusAsync(client, token), invocation.Iterations, invocation.Delay, cancellationToken).ConfigureAwait(false),
                CliVerb.Events => await FollowAsync(client, EventsPath(invocation.Target), json => PrintEventAsync(json, invocation.Json), cancellationToken).ConfigureAwait(false),
                _ => await JobCommandAsync(client, invocation, cancellationToken).ConfigureAwait(false),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or System.Net.Sockets.SocketException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return await FailAsync(client.DescribeFailure(ex)).ConfigureAwait(false);
        }
    }

    private async Task<int> StatusAsync(ControlClient client, bool json, CancellationToken cancellationToken)
    {
        using var timeout = Bounded(RequestTimeout, cancellationToken);
        var (status, answer) = await client.GetJsonAsync("v3/status", PilotApiJsonContext.Default.StatusResponse, timeout.Token).ConfigureAwait(false);
        if (status is null)
        {
            return await FailAsync(answer.Explain()).ConfigureAwait(false);
        }
        if (json)
        {
            await stdout.WriteLineAsync(answer.Body.Trim()).ConfigureAwait(false);
            return PilotCli.ExitOk;
        }
        var now = time.GetUtcNow();
        if (status.Maintenance)
        {
            // Consul hears only of jobs with a port, and only when a consul agent is configured (status does not say which).
            await stdout.WriteLineAsync(status.Jobs.Any(j => j.IsService)
                ? "maintenance: on (health checks paused; jobs with a port are in maintenance in Consul, when Consul is configured)"
                : "maintenance: on (health checks paused)").ConfigureAwait(false);
        }
        // CPU% is the average since the run started (one read; `pilot top` shows it over its refresh interval).
        await stdout.WriteAsync(Table(
            ["JOB", "STATE", "HEALTH", "PID", "RESTARTS", "LAST EXIT", "UPTIME", "CPU%", "MEM"],
            status.Jobs.Select(j => new[]
            {
                j.Name, j.State, j.Health, Show(j.Pid), j.Restarts.ToString(CultureInfo.InvariantCulture), Show(j.LastExitCode),
                j.Pid is not null && j.LastStarted is { } started ? Duration(now - started) : "-",
                j.CpuPercent is { } cpu ? TopCommand.Percent(cpu) : "-",
                j.MemoryBytes is { } memory ? TopCommand.Memory(memory) : "-",
            }))).ConfigureAwait(false);
        if (status.Jobs.Any(j => j.Notify is not null))
        {
            await stdout.WriteLineAsync().ConfigureAwait(false);
            await stdout.WriteAsync(Table(
                ["NOTIFY", "READY", "WATCHDOG", "IGNORED", "STATUS"],
                status.Jobs.Where(j => j.Notify is not null).Select(j => NotifyRow(j.Name, j.Notify!, now)))).ConfigureAwait(false);
        }
        if (status.Watches.Count > 0)
        {
            await stdout.WriteLineAsync().ConfigureAwait(false);
            await stdout.WriteAsync(Table(
                ["WATCH", "INSTANCES", "LAST CHECKED"],
                status.Watches.Select(w => new[]
                {
                    w.Name, w.Instances.Count.ToString(CultureInfo.InvariantCulture),
                    w.LastChecked is { } checkedAt ? Duration(now - checkedAt) + " ago" : "never",
                }))).ConfigureAwait(false);
        }
        return PilotCli.ExitOk;
    }

    /// <summary>One status read for top; null after printing why it failed.</summary>
    private async Task<StatusResponse?> FetchStatusAsync(ControlClient client, CancellationToken cancellationToken)
    {
        using var timeout = Bounded(RequestTimeout, cancellationToken);
        var (status, answer) = await client.GetJsonAsync("v3/status", PilotApiJsonContext.Default.StatusResponse, timeout.Token).ConfigureAwait(false);
        if (status is null)
        {
            await FailAsync(answer.Explain()).ConfigureAwait(false);
        }
        return status;
    }

    private async Task<int> GraphAsync(ControlClient client, Supervisor.Graph.GraphFormat format, CancellationToken cancellationToken)
    {
        using var timeout = Bounded(RequestTimeout, cancellationToken);
        var (graph, answer) = await client.GetJsonAsync("v3/graph", PilotApiJsonContext.Default.GraphResponse, timeout.Token).ConfigureAwait(false);
        if (graph is null)
        {
            return await FailAsync(answer.StatusCode == 404 && answer.Problem is not null
                ? $"this Pilot has no GET /v3/graph (older than this client); draw the file instead: pilot graph -config FILE"
                : answer.Explain()).ConfigureAwait(false);
        }
        await stdout.WriteAsync(Supervisor.Graph.GraphRenderers.Render(graph.ToGraph(), format)).ConfigureAwait(false);
        return PilotCli.ExitOk;
    }

    private async Task<int> WhyAsync(ControlClient client, string job, CancellationToken cancellationToken)
    {
        using var timeout = Bounded(RequestTimeout, cancellationToken);
        var (why, answer) = await client.GetJsonAsync($"v3/jobs/{Uri.EscapeDataString(job)}/why", PilotApiJsonContext.Default.WhyResponse, timeout.Token)
            .ConfigureAwait(false);
        if (why is null)
        {
            return await FailAsync(answer.Explain()).ConfigureAwait(false);
        }
        await stdout.WriteLineAsync(why.Reason).ConfigureAwait(false);
        return PilotCli.ExitOk;
    }
    /// <summary>
    /// A <c>health.notify</c> job: ready (or stopping/reloading), the last WATCHDOG=1 (or "missed"), the datagrams
    /// ignored, and its STATUS= text.
    /// </summary>
    private static string[] NotifyRow(string job, NotifyResponse notify, DateTimeOffset now) =>
    [
        job,
        notify.Stopping ? "stopping" : notify.Reloading ? "reloading" : notify.Ready ? "yes" : "no",
        notify.WatchdogMissed ? "missed" : notify.LastWatchdog is { } beat ? Duration(now - beat) + " ago" : "-",
        (notify.Foreign + notify.Oversized + notify.Malformed).ToString(CultureInfo.InvariantCulture),
        notify.Status ?? (notify.Socket is null ? "(no notify socket: see Pilot's log)" : "-"),
    ];

    private async Task<int> LogsAsync(ControlClient client, CliInvocation invocation, CancellationToken cancellationToken)
    {
        using var timeout = Bounded(RequestTimeout, cancellationToken);
        var (logs, answer) = await client.GetJsonAsync(LogsPath(invocation), PilotApiJsonContext.Default.JobLogsResponse, timeout.Token).ConfigureAwait(false);
        if (logs is null)
        {
            return await FailAsync(answer.Explain()).ConfigureAwait(false);
        }
        foreach (var line in logs.Lines)
        {
            await stdout.WriteLineAsync(FormatLogLine(line)).ConfigureAwait(false);
        }
        return PilotCli.ExitOk;
    }

    private async Task<int> JobCommandAsync(ControlClient client, CliInvocation invocation, CancellationToken cancellationToken)
    {
        var command = invocation.Verb.ToString().ToLowerInvariant();
        using var timeout = Bounded(CommandTimeout, cancellationToken);
        var answer = await client.PostAsync($"v3/jobs/{Uri.EscapeDataString(invocation.Target)}/{command}", null, timeout.Token).ConfigureAwait(false);
        if (!answer.IsSuccess)
        {
            return await FailAsync(answer.Explain()).ConfigureAwait(false);
        }
        var result = JsonSerializer.Deserialize(answer.Body, PilotApiJsonContext.Default.JobCommandResponse)!;
        var pid = result.Job.Pid is { } p ? $" (pid {p})" : "";
        var message = (invocation.Verb, result.Changed) switch
        {
            (CliVerb.Stop, true) => "stopped",
            (CliVerb.Stop, false) => "already stopped",
            (CliVerb.Start, false) => "already running" + pid,
            (CliVerb.Start, true) => "started" + pid,
            _ => "restarted" + pid,
        };
        await stdout.WriteLineAsync($"{result.Job.Name}: {message}").ConfigureAwait(false);
        return PilotCli.ExitOk;
    }

    /// <summary>Prints a stream until Pilot ends it or the user interrupts (SIGINT/SIGTERM end it cleanly, exit 0).</summary>
    private async Task<int> FollowAsync(ControlClient client, string path, Func<string, Task> onData, CancellationToken cancellationToken)
    {
        using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        try
        {
            var failure = await client.ReadEventStreamAsync(path, onData, interrupted.Token).ConfigureAwait(false);
            return failure is null ? PilotCli.ExitOk : await FailAsync(failure.Explain()).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            return PilotCli.ExitOk;
        }

        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            interrupted.Cancel();
        }
    }

    private Task PrintLogLineAsync(string json) =>
        stdout.WriteLineAsync(FormatLogLine(JsonSerializer.Deserialize(json, PilotApiJsonContext.Default.LogLineResponse)!));

    private Task PrintEventAsync(string json, bool raw)
    {
        var received = LogWriter.Rfc3339Nano(time.GetLocalNow());
        if (raw)
        {
            // The stream's JSON with the time it arrived first, as the text lines carry it.
            var body = json.TrimStart();
            var rest = body.Length > 2 && body[0] == '{' ? "," + body[1..] : "}";
            return stdout.WriteLineAsync($"{{\"time\":\"{received}\"" + (body == "{}" ? "}" : rest));
        }
        var e = JsonSerializer.Deserialize(json, PilotApiJsonContext.Default.EventResponse)!;
        return stdout.WriteLineAsync($"{received} {e.Code} {e.Source}");
    }

    /// <summary>As Pilot prints a job's line in its default format: time, source, pid, text.</summary>
    private static string FormatLogLine(LogLineResponse line) =>
        $"{LogWriter.Rfc3339Nano(line.Time.ToLocalTime())} {line.Source} {line.Pid.ToString(CultureInfo.InvariantCulture)} {line.Text}";

    private static string LogsPath(CliInvocation invocation) =>
        $"v3/jobs/{Uri.EscapeDataString(invocation.Target)}/logs?lines={(invocation.Lines ?? Control.JobHandlers.DefaultLines).ToString(CultureInfo.InvariantCulture)}";

    private static string EventsPath(string source) => source.Length == 0 ? "v3/events" : "v3/events?source=" + Uri.EscapeDataString(source);

    private async Task<int> FailAsync(string message)
    {
        await stderr.WriteLineAsync(message).ConfigureAwait(false);
        return PilotCli.ExitFailure;
    }

    private static CancellationTokenSource Bounded(TimeSpan limit, CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        return timeout;
    }

    private static string Show(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    /// <summary>Go-style short durations: 45s, 3m12s, 2h5m, 3d4h.</summary>
    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }
        return span.TotalDays >= 1 ? $"{(int)span.TotalDays}d{span.Hours}h"
            : span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes}m"
            : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{span.Seconds}s"
            : $"{(int)span.TotalSeconds}s";
    }

    /// <summary>Left-aligned columns separated by two spaces.</summary>
    public static string Table(string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(i => all.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in all)
        {
            text.AppendLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }
        return text.ToString();
    }
}
