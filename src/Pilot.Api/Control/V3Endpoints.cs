using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Pilot.Api.V3;
using Pilot.Supervisor.Control;

namespace Pilot.Api.Control;

/// <summary>
/// The v3 control-plane handlers (request → reply) and their description as minimal APIs. <see cref="ControlRoutes"/>
/// dispatches requests to the handlers; <see cref="MapV3Endpoints"/> describes the same routes with summaries and
/// examples, from which the OpenAPI document is generated (<see cref="ControlPlaneDocumentation"/>). A new route goes in
/// both places; <c>ControlRoutes_MatchTheOpenApiDocument</c> fails when they differ.
/// </summary>
public static class V3Endpoints
{
    private const string Json = "application/json";
    /// <summary>
    /// v3 reads bodies whatever their Content-Type (its docs post with curl's form default), so routing must not
    /// answer 415; the document lists only JSON (<see cref="OpenApiSetup"/> drops this entry).
    /// </summary>
    internal const string AnyContentType = "*/*";

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
                    OpenApiExample.Request("""{"DB_HOST":"10.0.0.5","FEATURE_X":null}"""),
                    OpenApiExample.Response(200, """{"ok":true}"""),
                    OpenApiExample.Response(422, """{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"the body has invalid entries","errors":[{"path":"A=B","message":"\"A=B\" is not a valid environment variable name: it contains '=' or NUL"}]}"""));
        }

        v3.MapPost("/reload", ReloadAsync)
            .WithName("Reload")
            .WithSummary("Reload the config file")
            .WithDescription(
                "Re-reads the config file. When it is invalid, nothing changes and every error is returned; "
                + "otherwise added, removed and changed jobs are started and stopped. The body is ignored.")
            .Produces<ReloadResponse>(StatusCodes.Status200OK)
            .Produces<ProblemResponse>(StatusCodes.Status422UnprocessableEntity, Problems.ContentType)
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

        v3.MapGet("/events", StreamEventsAsync)
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

    internal static async Task<ControlReply> ReloadAsync([FromServices] ISupervisorControl control, CancellationToken cancellationToken)
    {
        var result = await control.ReloadAsync(cancellationToken).ConfigureAwait(false);
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

    internal static ControlReply GetStatus([FromServices] ISupervisorControl control) =>
        ControlReply.Json(control.GetStatus().ToResponse(), PilotApiJsonContext.Default.StatusResponse);

    internal static ControlReply GetJob(string name, [FromServices] ISupervisorControl control)
    {
        var job = control.GetStatus().Jobs.FirstOrDefault(j => j.Name == name);
        return job is null
            ? Problems.Result(StatusCodes.Status404NotFound, $"there is no job named \"{name}\"")
            : ControlReply.Json(job.ToResponse(), PilotApiJsonContext.Default.JobResponse);
    }

    internal static async Task StreamEventsAsync(
        HttpContext context, string? source, [FromServices] ISupervisorControl control)
    {
        var cancellationToken = context.RequestAborted;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
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
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away: the normal end of a stream.
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
