using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Pilot.Api.V3;
using Pilot.Supervisor.Control;

namespace Pilot.Api.Control;

/// <summary>
/// The per-job operations (<c>/v3/jobs/{name}/stop|start|restart</c>, <c>/v3/jobs/{name}/logs</c>) as request → reply
/// functions over <see cref="ISupervisorControl"/>; the route table only binds them.
/// </summary>
public static class JobHandlers
{
    /// <summary>Lines returned when the request does not say.</summary>
    public const int DefaultLines = 100;

    public static async Task<ControlReply> RunCommandAsync(
        ISupervisorControl control, string name, JobCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(control);
        var result = await control.ControlJobAsync(name, command, cancellationToken).ConfigureAwait(false);
        return result.Outcome switch
        {
            JobCommandOutcome.NotFound => NoSuchJob(name),
            JobCommandOutcome.Halted => Problems.Result(StatusCodes.Status409Conflict,
                $"job \"{name}\" has completed (halted for good); only a reload starts it again"),
            _ => ControlReply.Json(
                new JobCommandResponse(result.Outcome == JobCommandOutcome.Done, result.Job!.ToResponse()),
                PilotApiJsonContext.Default.JobCommandResponse),
        };
    }

    /// <summary>The checks of a logs request: null when the job exists and <paramref name="lines"/> is usable.</summary>
    public static ControlReply? CheckLogsRequest(ISupervisorControl control, string name, int? lines)
    {
        ArgumentNullException.ThrowIfNull(control);
        if (lines is < 0)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, $"lines: must be 0 or more, got {lines}");
        }
        return control.GetStatus().Jobs.Any(j => j.Name == name) ? null : NoSuchJob(name);
    }

    /// <summary>
    /// Serves <c>GET /v3/jobs/{name}/logs</c>: JSON, or with <paramref name="follow"/> a server-sent event stream that ends
    /// when the client goes away or <paramref name="stopping"/> (Pilot stops).
    /// </summary>
    public static async Task ServeLogsAsync(HttpContext context, ISupervisorControl control, string name, int? lines, bool follow, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(context);
        var problem = CheckLogsRequest(control, name, lines);
        if (problem is null && follow)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            await WriteEventStreamAsync(context.Response, FollowLogsAsync(control, name, lines, stop.Token), stop.Token).ConfigureAwait(false);
            return;
        }
        await (problem ?? GetLogs(control, name, lines)).ExecuteAsync(context).ConfigureAwait(false);
    }

    public static ControlReply GetLogs(ISupervisorControl control, string name, int? lines)
    {
        if (CheckLogsRequest(control, name, lines) is { } problem)
        {
            return problem;
        }
        var output = control.GetJobOutput(name, lines ?? DefaultLines);
        return ControlReply.Json(new JobLogsResponse(name, [.. output.Select(l => l.ToResponse())]), PilotApiJsonContext.Default.JobLogsResponse);
    }

    /// <summary>
    /// Server-sent events: a <c>: following</c> comment once the follower is in place, then one <c>data:</c> frame per line
    /// (the last <paramref name="lines"/> kept lines first). Ends when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static async IAsyncEnumerable<string> FollowLogsAsync(
        ISupervisorControl control, string name, int? lines, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(control);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var output = control.FollowJobOutput(name, lines ?? DefaultLines, stop.Token).GetAsyncEnumerator(stop.Token);
        // The first MoveNextAsync registers the follower (and takes the tail) before the comment announces it.
        var next = output.MoveNextAsync().AsTask();
        try
        {
            yield return ": following\n\n";
            while (await next.ConfigureAwait(false))
            {
                yield return "data: " + JsonSerializer.Serialize(output.Current.ToResponse(), PilotApiJsonContext.Default.LogLineResponse) + "\n\n";
                next = output.MoveNextAsync().AsTask();
            }
        }
        finally
        {
            // An enumerator cannot be disposed while a MoveNextAsync is pending: cancel that wait first.
            await stop.CancelAsync().ConfigureAwait(false);
            await next.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            await output.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Writes server-sent event frames, flushing each, until <paramref name="cancellationToken"/> ends the stream.</summary>
    public static async Task WriteEventStreamAsync(HttpResponse response, IAsyncEnumerable<string> frames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(frames);
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        try
        {
            await foreach (var frame in frames.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                await response.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
                await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away, or Pilot is stopping: the normal end of a stream.
        }
    }

    private static ControlReply NoSuchJob(string name) =>
        Problems.Result(StatusCodes.Status404NotFound, $"there is no job named \"{name}\"");

    internal static string PathOf(JobCommand command) => command.ToString().ToLower(CultureInfo.InvariantCulture);
}
