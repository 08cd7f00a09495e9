using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;
using Pilot.Api.V3;
using Pilot.Supervisor.Control;

namespace Pilot.Api.Control;

/// <summary>
/// The v3 control plane as minimal APIs: each endpoint declared once (<see cref="MapV3Endpoints"/>), with its summary
/// and examples. The same declaration serves the socket (<see cref="ControlApplication"/>) and is what the OpenAPI
/// document is generated from (<see cref="ControlPlaneDocumentation"/>). A new endpoint is one <c>Map</c> call here.
/// </summary>
public static class V3Endpoints
{
    private const string Json = "application/json";
    /// <summary>
    /// v3 reads bodies whatever their Content-Type (its docs post with curl's form default), so routing must not
    /// answer 415; the document lists only JSON (<see cref="OpenApiSetup"/> drops this entry).
    /// </summary>
    internal const string AnyContentType = "*/*";

    /// <summary>How long a reload request waits for the outcome (a reload waits for changed jobs to stop).</summary>
    private static readonly TimeSpan ReloadWait = TimeSpan.FromMinutes(5);

    public static IEndpointRouteBuilder MapV3Endpoints(this IEndpointRouteBuilder endpoints)
    {
        var v3 = endpoints.MapGroup("/v3").WithTags("v3");

        foreach (var (path, name) in new[] { ("/environ", "PutEnviron"), ("/env", "PutEnv") })
        {
            v3.MapPost(path, PutEnvironmentAsync)
                .WithName(name)
                .WithSummary(path == "/env" ? "Set environment variables (the v3 docs' path)" : "Set environment variables")
                .WithDescription(
                    "Sets each variable in Pilot's environment; processes started later and later config renders see it. "
                    + "A null value sets an empty value; nothing is unset. A literal null body is a no-op, as in v3.")
                .Accepts<Dictionary<string, string>>(Json, AnyContentType)
                .Produces<OkResponse>(StatusCodes.Status200OK)
                .Produces<ProblemResponse>(StatusCodes.Status413PayloadTooLarge, Problems.ContentType)
                .Produces<ProblemResponse>(StatusCodes.Status422UnprocessableEntity, Problems.ContentType)
                .WithMetadata(
                    new OpenApiObjectBody(JsonSchemaType.String | JsonSchemaType.Null,
                        "Variable names are not empty and contain neither '=' nor NUL; values are strings without NUL, or null (set empty)."),
                    OpenApiExample.Request("""{"DB_HOST":"10.0.0.5","FEATURE_X":null}"""),
                    OpenApiExample.Response(200, """{"ok":true}"""),
                    OpenApiExample.Response(422, """{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"the body has invalid entries","errors":[{"path":"A=B","message":"\"A=B\" is not a valid environment variable name: it contains '=' or NUL"}]}"""));
        }

        v3.MapPost("/reload", ([FromServices] ISupervisorControl control, [FromServices] ControlLog log, CancellationToken cancellationToken) =>
                ReloadAsync(control, log.Logger, cancellationToken))
            .WithName("Reload")
            .WithSummary("Reload the config file")
            .WithDescription(
                "Re-reads the config file. When it is invalid, nothing changes and every error is returned; "
                + "otherwise added, removed and changed jobs are started and stopped. Reloads run one at a time and always "
                + "run to the end, even when the client goes away. The body is ignored.")
            .Produces<ReloadResponse>(StatusCodes.Status200OK)
            .Produces<ProblemResponse>(StatusCodes.Status422UnprocessableEntity, Problems.ContentType)
            .Produces<ProblemResponse>(StatusCodes.Status503ServiceUnavailable, Problems.ContentType)
            .WithMetadata(
                OpenApiExample.Response(200, """{"reloaded":true}"""),
                OpenApiExample.Response(422, """{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"the new config is invalid; the running config is kept","errors":[{"path":"jobs[0].when.interval","message":"time: invalid duration xx","line":7}]}"""));

        foreach (var (path, enable) in new[] { ("/maintenance/enable", true), ("/maintenance/disable", false) })
        {
            v3.MapPost(path, ([FromServices] ISupervisorControl control, CancellationToken cancellationToken) =>
                    SetMaintenanceAsync(control, enable, cancellationToken))
                .WithName(enable ? "EnableMaintenance" : "DisableMaintenance")
                .WithSummary(enable ? "Enter maintenance mode" : "Leave maintenance mode")
                .WithDescription(enable
                    ? "Marks every job in maintenance and deregisters its service. The body is ignored."
                    : "Leaves maintenance; health checks resume and services register again. The body is ignored.")
                .Produces<MaintenanceResponse>(StatusCodes.Status200OK)
                .WithMetadata(OpenApiExample.Response(200, """{"updated":true}"""));
        }

        v3.MapPost("/metric", PutMetricAsync)
            .WithName("PutMetric")
            .WithSummary("Record user metrics")
            .WithDescription(
                "Applies each value to the configured metric named by its exported name or v3's namespace_subsystem_name key "
                + "(counters add, gauges set, histograms and summaries observe). Numeric strings are accepted, as v3's client sends them. "
                + "An unknown name or a negative counter increment rejects the whole body; nothing is applied.")
            .Accepts<Dictionary<string, double>>(Json, AnyContentType)
            .Produces<OkResponse>(StatusCodes.Status200OK)
            .Produces<ProblemResponse>(StatusCodes.Status413PayloadTooLarge, Problems.ContentType)
            .Produces<ProblemResponse>(StatusCodes.Status422UnprocessableEntity, Problems.ContentType)
            .WithMetadata(
                new OpenApiObjectBody(JsonSchemaType.Number | JsonSchemaType.String,
                    "Keys are metric names; values are finite numbers, or strings holding one.", MetricBody.NumericString),
                OpenApiExample.Request("""{"jobs_done":1,"queue_depth":12.5}"""),
                OpenApiExample.Response(200, """{"ok":true}"""),
                OpenApiExample.Response(422, """{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"the metrics were rejected; nothing was applied","errors":[{"path":"","message":"unknown metric \"jobs_dun\""}]}"""));

        v3.MapGet("/ping", Ping)
            .WithName("Ping")
            .WithSummary("Check that the control plane answers")
            .WithDescription("Answers 200 to any method, as v3.")
            .Produces<OkResponse>(StatusCodes.Status200OK)
            .WithMetadata(OpenApiExample.Response(200, """{"ok":true}"""));
        // v3 answers ping on any method; the GET route above carries the documentation.
        v3.Map("/ping", Ping).WithOrder(1).ExcludeFromDescription();

        v3.MapGet("/status", GetStatus)
            .WithName("GetStatus")
            .WithSummary("Supervisor state: maintenance, every job and watch")
            .Produces<StatusResponse>(StatusCodes.Status200OK)
            .WithMetadata(OpenApiExample.Response(200, """{"version":"0.1.0","maintenance":false,"jobs":[{"name":"app","state":"running","health":"healthy","pid":42,"restarts":0,"lastStarted":"2024-01-01T00:00:00+00:00","isService":true,"version":3}],"watches":[{"name":"db","instances":[{"id":"db-1","address":"10.0.0.7","port":5432}],"lastChecked":"2024-01-01T00:00:05+00:00"}]}"""));

        v3.MapGet("/jobs/{name}", GetJob)
            .WithName("GetJob")
            .WithSummary("One job's state")
            .Produces<JobResponse>(StatusCodes.Status200OK)
            .Produces<ProblemResponse>(StatusCodes.Status404NotFound, Problems.ContentType)
            .WithMetadata(
                OpenApiExample.Response(200, """{"name":"app","state":"running","health":"healthy","pid":42,"restarts":0,"isService":true,"version":3}"""),
                OpenApiExample.Response(404, """{"type":"about:blank","title":"Not Found","status":404,"detail":"there is no job named \"ap\""}"""));

        foreach (var command in new[] { JobCommand.Stop, JobCommand.Start, JobCommand.Restart })
        {
            v3.MapPost($"/jobs/{{name}}/{JobHandlers.PathOf(command)}",
                    (string name, [FromServices] ISupervisorControl control, CancellationToken cancellationToken) =>
                        JobHandlers.RunCommandAsync(control, name, command, cancellationToken))
                .WithName(command + "Job")
                .WithSummary(command switch
                {
                    JobCommand.Stop => "Stop one job until it is started",
                    JobCommand.Start => "Start one job now",
                    _ => "Restart one job",
                })
                .WithDescription(command switch
                {
                    JobCommand.Stop => "Publishes `stopping`, terminates the job's process group (SIGTERM, SIGKILL after its stopTimeout), deregisters its service "
                        + "and publishes `stopped`. The job then ignores its triggers, restarts and health checks until started. "
                        + "`changed` is false when it was already stopped.",
                    JobCommand.Start => "Publishes `startup` with the job as source and runs its exec at once with a fresh restart budget. "
                        + "`changed` is false when it was already running.",
                    _ => "Stops the job (unless it is stopped) and starts it again: `stopping`, the old run's exit, `stopped`, `startup`, a new pid.",
                })
                .Produces<JobCommandResponse>(StatusCodes.Status200OK)
                .Produces<ProblemResponse>(StatusCodes.Status404NotFound, Problems.ContentType)
                .Produces<ProblemResponse>(StatusCodes.Status409Conflict, Problems.ContentType)
                .WithMetadata(
                    OpenApiExample.Response(200, """{"changed":true,"job":{"name":"app","state":"running","health":"unknown","pid":43,"restarts":0,"isService":false,"version":12}}"""),
                    OpenApiExample.Response(404, """{"type":"about:blank","title":"Not Found","status":404,"detail":"there is no job named \"ap\""}"""),
                    OpenApiExample.Response(409, """{"type":"about:blank","title":"Conflict","status":409,"detail":"job \"setup\" has completed (halted for good); only a reload starts it again"}"""));
        }

        v3.MapGet("/jobs/{name}/logs", (HttpContext context, string name, int? lines, bool? follow, [FromServices] ISupervisorControl control,
                [FromServices] ControlStopping stopping) => JobHandlers.ServeLogsAsync(context, control, name, lines, follow == true, stopping.Token))
            .WithName("GetJobLogs")
            .WithSummary("One job's recent output (and its health check's)")
            .WithDescription(
                "The last `lines` (default 100) output lines Pilot kept for the job and its health check (`logging.keepLines` per source, "
                + "default 1000), oldest first. Raw jobs (`logging.raw`) write straight to Pilot's stdout and are not kept. "
                + "With `follow=true` the answer is a server-sent event stream: a `: following` comment, then one `data:` line of JSON "
                + "per output line, the kept ones first, until the client disconnects.")
            .Produces<JobLogsResponse>(StatusCodes.Status200OK)
            .Produces<ProblemResponse>(StatusCodes.Status400BadRequest, Problems.ContentType)
            .Produces<ProblemResponse>(StatusCodes.Status404NotFound, Problems.ContentType)
            .WithMetadata(
                OpenApiExample.Response(200, """{"name":"app","lines":[{"time":"2024-01-01T00:00:00+00:00","source":"app","pid":42,"stream":"stdout","text":"listening on :8080"}]}"""),
                new OpenApiEventStream(typeof(LogLineResponse), """{"time":"2024-01-01T00:00:01+00:00","source":"check.app","pid":43,"stream":"stdout","text":"ok"}"""),
                OpenApiExample.Response(404, """{"type":"about:blank","title":"Not Found","status":404,"detail":"there is no job named \"ap\""}"""));

        v3.MapGet("/graph", GetGraph)
            .WithName("GetGraph")
            .WithSummary("The job graph of the config in force (what `pilot graph` draws)")
            .WithDescription(
                "Every job, watch, signal and `global` used as a source, and an edge for every `when` (the implicit start at `startup` "
                + "and periodic ticks included), every pre-stop and post-stop job, and, with `shutdownOrder: \"dependencies\"`, every "
                + "shutdown dependency. Traps — a `when` that can never fire — are listed with the job they keep from starting: "
                + "`no-event` (no once/each), `unknown-source`, `never-emitted` (the source never publishes that event), "
                + "`cycle` (jobs started only by each other) and `starved` (the source job never starts).")
            .Produces<GraphResponse>(StatusCodes.Status200OK)
            .WithMetadata(OpenApiExample.Response(200, """{"nodes":[{"id":"global","kind":"global","label":"global","details":[],"trap":false},{"id":"web","kind":"job","label":"web","details":["health: http every 2s"],"trap":false},{"id":"announce","kind":"job","label":"announce","details":[],"trap":false}],"edges":[{"from":"global","to":"web","kind":"trigger","event":"startup","each":false,"check":false,"trap":false,"label":"startup"},{"from":"web","to":"announce","kind":"trigger","event":"healthy","each":false,"check":false,"trap":false,"label":"once: healthy"}],"traps":[]}"""));

        v3.MapGet("/jobs/{name}/why", GetWhy)
            .WithName("GetJobWhy")
            .WithSummary("What one job is waiting for now, in one line (what `pilot why` prints)")
            .WithDescription(
                "Its trigger and the state of the trigger's source, the time left on its `when.timeout`, a restart backoff, "
                + "its next cron run, or the stop under way.")
            .Produces<WhyResponse>(StatusCodes.Status200OK)
            .Produces<ProblemResponse>(StatusCodes.Status404NotFound, Problems.ContentType)
            .WithMetadata(
                OpenApiExample.Response(200, """{"name":"announce","reason":"announce waits for \"healthy\" from web (once); web is running, health unknown"}"""),
                OpenApiExample.Response(404, """{"type":"about:blank","title":"Not Found","status":404,"detail":"there is no job named \"ap\""}"""));

        v3.MapGet("/events", (HttpContext context, string? source, [FromServices] ISupervisorControl control, [FromServices] ControlStopping stopping) =>
                StreamEventsAsync(context, source, control, stopping.Token))
            .WithName("StreamEvents")
            .WithSummary("Stream bus events (server-sent events)")
            .WithDescription(
                "One `data:` line of JSON per event published after the request, optionally only from `source`. "
                + "A `: subscribed` comment is sent first, once the subscription is in place.")
            .Produces<EventResponse>(StatusCodes.Status200OK, "text/event-stream")
            .WithMetadata(OpenApiExample.Response(200, """{"code":"exitSuccess","source":"app"}"""));

        return endpoints;
    }

    internal static async Task<ControlReply> PutEnvironmentAsync(
        HttpRequest request,
        [FromServices] ISupervisorControl control,
        [FromServices] IValidator<EnvironmentBody> validator,
        CancellationToken cancellationToken)
    {
        var read = await RequestBodyReader.ReadObjectAsync(request, cancellationToken).ConfigureAwait(false);
        if (read.Problem is { } problem)
        {
            return problem;
        }
        var body = new EnvironmentBody(read.Entries!);
        var validation = await validator.ValidateAsync(body, cancellationToken).ConfigureAwait(false);
        if (!validation.IsValid)
        {
            return Problems.Unprocessable("the body has invalid entries", ToErrors(validation));
        }
        var variables = body.ToVariables();
        if (variables.Count > 0)
        {
            control.PutEnvironment(variables);
        }
        return Ok(OkResponse.Instance);
    }

    internal static async Task<ControlReply> PutMetricAsync(
        HttpRequest request,
        [FromServices] ISupervisorControl control,
        [FromServices] IValidator<MetricBody> validator,
        CancellationToken cancellationToken)
    {
        var read = await RequestBodyReader.ReadObjectAsync(request, cancellationToken).ConfigureAwait(false);
        if (read.Problem is { } problem)
        {
            return problem;
        }
        var body = new MetricBody(read.Entries!);
        var validation = await validator.ValidateAsync(body, cancellationToken).ConfigureAwait(false);
        if (!validation.IsValid)
        {
            return Problems.Unprocessable("the body has invalid entries; nothing was applied", ToErrors(validation));
        }
        var values = body.ToValues();
        if (values.Count > 0)
        {
            var result = control.PutMetrics(values);
            if (!result.Ok)
            {
                return Problems.Unprocessable(
                    "the metrics were rejected; nothing was applied", [.. result.Errors.Select(e => new ProblemError("", e))]);
            }
        }
        return Ok(OkResponse.Instance);
    }

    /// <param name="log">The <c>control</c> logger: v3's own lines.</param>
    internal static async Task<ControlReply> ReloadAsync(ISupervisorControl control, ILogger log, CancellationToken cancellationToken)
    {
        log.LogDebug("control: reloading app via control plane");
        // The supervisor owns the reload: this only waits for it, bounded on its own, and a client that goes away
        // (or this wait ending) never cuts the reload short.
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(ReloadWait);
        ReloadResult result;
        try
        {
            result = await control.ReloadAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Problems.Result(StatusCodes.Status503ServiceUnavailable,
                $"the reload is still running after {ReloadWait.TotalMinutes:0} minutes; it goes on and logs its outcome");
        }
        if (result.Reloaded)
        {
            log.LogDebug("control: reloaded app via control plane");
        }
        return result.Reloaded
            ? Ok(new ReloadResponse(true))
            : Problems.Unprocessable(
                "the new config is invalid; the running config is kept", [.. result.Errors.Select(e => e.ToProblemError())]);
    }

    internal static async Task<ControlReply> SetMaintenanceAsync(ISupervisorControl control, bool enable, CancellationToken cancellationToken)
    {
        var updated = await control.SetMaintenanceAsync(enable, cancellationToken).ConfigureAwait(false);
        return Ok(new MaintenanceResponse(updated));
    }

    internal static ControlReply Ping() => Ok(OkResponse.Instance);

    /// <summary>The snapshot, with each job's CPU and memory read from /proc now (only when asked: nothing polls).</summary>
    internal static ControlReply GetStatus([FromServices] ISupervisorControl control)
    {
        var status = control.GetStatus();
        return ControlReply.Json(status.ToResponse(status.ReadUsage(), DateTimeOffset.UtcNow), PilotApiJsonContext.Default.StatusResponse);
    }

    internal static ControlReply GetJob(string name, [FromServices] ISupervisorControl control)
    {
        var job = control.GetStatus().Jobs.FirstOrDefault(j => j.Name == name);
        if (job is null)
        {
            return Problems.Result(StatusCodes.Status404NotFound, $"there is no job named \"{name}\"");
        }
        var usage = job.Pid is { } pid ? Supervisor.Processes.ProcessGroupUsage.Read([pid]) : null;
        return ControlReply.Json(job.ToResponse(usage, DateTimeOffset.UtcNow), PilotApiJsonContext.Default.JobResponse);
    }

    internal static ControlReply GetGraph([FromServices] ISupervisorControl control) =>
        ControlReply.Json(Supervisor.Graph.JobGraphBuilder.Build(control.GetConfig()).ToResponse(), PilotApiJsonContext.Default.GraphResponse);

    internal static ControlReply GetWhy(string name, [FromServices] ISupervisorControl control)
    {
        var reason = Supervisor.Graph.WaitExplanation.Explain(name, control.GetConfig(), control.GetStatus(), DateTimeOffset.UtcNow);
        return reason is null
            ? Problems.Result(StatusCodes.Status404NotFound, $"there is no job named \"{name}\"")
            : ControlReply.Json(new WhyResponse(name, reason), PilotApiJsonContext.Default.WhyResponse);
    }

    /// <param name="stopping">Cancelled when Pilot stops: an open stream must not hold the exit.</param>
    internal static async Task StreamEventsAsync(HttpContext context, string? source, ISupervisorControl control, CancellationToken stopping)
    {
        var cancellationToken = context.RequestAborted;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        var events = control.WatchEvents(string.IsNullOrEmpty(source) ? null : source, stop.Token)
            .GetAsyncEnumerator(stop.Token);
        // Start the first wait before announcing the subscription: an async iterator subscribes
        // synchronously up to its first await, so no event published after ": subscribed" is missed.
        var next = events.MoveNextAsync().AsTask();
        try
        {
            await response.WriteAsync(": subscribed\n\n", cancellationToken).ConfigureAwait(false);
            await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
            while (await next.ConfigureAwait(false))
            {
                var json = JsonSerializer.Serialize(events.Current.ToResponse(), PilotApiJsonContext.Default.EventResponse);
                await response.WriteAsync($"data: {json}\n\n", cancellationToken).ConfigureAwait(false);
                await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                next = events.MoveNextAsync().AsTask();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The client went away, or Pilot is stopping: the normal end of a stream.
        }
        finally
        {
            // An enumerator cannot be disposed while a MoveNextAsync is pending: cancel that wait first.
            await stop.CancelAsync().ConfigureAwait(false);
            await next.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            await events.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static ControlReply Ok(OkResponse value) => ControlReply.Json(value, PilotApiJsonContext.Default.OkResponse);

    private static ControlReply Ok(MaintenanceResponse value) => ControlReply.Json(value, PilotApiJsonContext.Default.MaintenanceResponse);

    private static ControlReply Ok(ReloadResponse value) => ControlReply.Json(value, PilotApiJsonContext.Default.ReloadResponse);

    private static ProblemError[] ToErrors(FluentValidation.Results.ValidationResult validation) =>
        [.. validation.Errors.Select(e => new ProblemError(e.PropertyName, e.ErrorMessage))];
}
