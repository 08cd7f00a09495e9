using FluentValidation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Pilot.Api.V3;
using Pilot.Supervisor.Control;

namespace Pilot.Api.Control;

/// <summary>
/// What the control plane's handlers are given: the supervisor, the body validators, the <c>control</c> logger (v3's own
/// lines) and <see cref="Stopping"/>, cancelled when Pilot stops so that open streams end.
/// </summary>
internal sealed record ControlServices(
    ISupervisorControl Supervisor,
    IValidator<EnvironmentBody> EnvironmentValidator,
    IValidator<MetricBody> MetricValidator,
    ILogger Log,
    CancellationToken Stopping);

/// <summary>
/// The control plane's routes, matched by hand: v3's exact paths (ASCII case and one trailing slash ignored, as ASP.NET
/// Core routing did), each with its method and its handler in <see cref="V3Endpoints"/>. A route's template is also its
/// label in <c>containerpilot_control_http_requests{path}</c>. To add a route: a line here, the handler and its
/// description in <see cref="V3Endpoints"/>.
/// </summary>
internal static class ControlRoutes
{
    public const string JobTemplate = "/v3/jobs/{name}";
    public const string OpenApiTemplate = "/openapi/{documentName}.json";

    /// <summary>A route; <see cref="Method"/> null answers every method. The handler gets the path's parameter, if any.</summary>
    internal sealed record Route(string Template, string? Method, Func<HttpContext, ControlServices, string?, Task> Handle);

    /// <summary>The outcome of matching a request: a route (or none), and whether only the method is wrong.</summary>
    internal readonly record struct Match(Route? Route, string? Parameter, bool WrongMethod);

    private static readonly Route[] ExactRoutes =
    [
        Post("/v3/environ", (context, services) => V3Endpoints.PutEnvironmentAsync(context.Request, services.Supervisor, services.EnvironmentValidator, context.RequestAborted)),
        Post("/v3/env", (context, services) => V3Endpoints.PutEnvironmentAsync(context.Request, services.Supervisor, services.EnvironmentValidator, context.RequestAborted)),
        Post("/v3/reload", (context, services) => V3Endpoints.ReloadAsync(services.Supervisor, services.Log, context.RequestAborted)),
        Post("/v3/maintenance/enable", (context, services) => V3Endpoints.SetMaintenanceAsync(services.Supervisor, true, context.RequestAborted)),
        Post("/v3/maintenance/disable", (context, services) => V3Endpoints.SetMaintenanceAsync(services.Supervisor, false, context.RequestAborted)),
        Post("/v3/metric", (context, services) => V3Endpoints.PutMetricAsync(context.Request, services.Supervisor, services.MetricValidator, context.RequestAborted)),
        new("/v3/ping", null, (context, _, _) => V3Endpoints.Ping().ExecuteAsync(context)),
        new("/v3/status", HttpMethods.Get, (context, services, _) => V3Endpoints.GetStatus(services.Supervisor).ExecuteAsync(context)),
        new("/v3/events", HttpMethods.Get, (context, services, _) => V3Endpoints.StreamEventsAsync(context, context.Request.Query["source"], services.Supervisor, services.Stopping)),
    ];

    private static readonly Dictionary<string, Route> ByPath = ExactRoutes.ToDictionary(r => r.Template, StringComparer.OrdinalIgnoreCase);

    private static readonly Route Job = new(JobTemplate, HttpMethods.Get,
        (context, services, name) => V3Endpoints.GetJob(name!, services.Supervisor).ExecuteAsync(context));

    /// <summary>The routes under one job: <c>/v3/jobs/{name}/SUFFIX</c>, by suffix.</summary>
    private static readonly Route[] JobRoutes =
    [
        .. new[] { JobCommand.Stop, JobCommand.Start, JobCommand.Restart }.Select(command => new Route(
            $"{JobTemplate}/{JobHandlers.PathOf(command)}", HttpMethods.Post,
            async (context, services, name) =>
            {
                var reply = await JobHandlers.RunCommandAsync(services.Supervisor, name!, command, context.RequestAborted).ConfigureAwait(false);
                await reply.ExecuteAsync(context).ConfigureAwait(false);
            })),
        new($"{JobTemplate}/logs", HttpMethods.Get, ServeLogsAsync),
    ];

    private static readonly Route OpenApi = new(OpenApiTemplate, HttpMethods.Get,
        (context, _, document) => OpenApiDocument.WriteAsync(context, document!));

    /// <summary>Every route, for the check against the OpenAPI document.</summary>
    public static IReadOnlyList<Route> All { get; } = [.. ExactRoutes, Job, .. JobRoutes, OpenApi];

    public static Match Find(string path, string method)
    {
        if (path.Length > 1 && path[^1] == '/')
        {
            path = path[..^1];
        }
        string? parameter = null;
        if (!ByPath.TryGetValue(path, out var route)
            && !TryParameter(path, "/v3/jobs/", "", Job, ref route, ref parameter)
            && !JobRoutes.Any(r => TryParameter(path, "/v3/jobs/", r.Template[JobTemplate.Length..], r, ref route, ref parameter))
            && !TryParameter(path, "/openapi/", ".json", OpenApi, ref route, ref parameter))
        {
            return default;
        }
        return new(route, parameter, route!.Method is { } allowed && !HttpMethods.Equals(allowed, method));
    }

    /// <summary>Matches <c>PREFIX{value}SUFFIX</c> with one non-empty segment as the value.</summary>
    private static bool TryParameter(string path, string prefix, string suffix, Route candidate, ref Route? route, ref string? parameter)
    {
        if (path.Length <= prefix.Length + suffix.Length
            || !path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            || !path.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
            || path.AsSpan(prefix.Length, path.Length - prefix.Length - suffix.Length).Contains('/'))
        {
            return false;
        }
        route = candidate;
        parameter = path[prefix.Length..^suffix.Length];
        return true;
    }

    /// <summary>
    /// <c>lines</c> and <c>follow</c> read as minimal APIs bind <c>int?</c> and <c>bool?</c>: absent or empty is null, and
    /// anything else that does not parse is a 400.
    /// </summary>
    private static Task ServeLogsAsync(HttpContext context, ControlServices services, string? name)
    {
        var query = context.Request.Query;
        if (!TryQuery(query["lines"], static (string text, out int value) =>
                int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out value), out int? lines))
        {
            return Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"lines: \"{query["lines"]}\" is not an integer");
        }
        if (!TryQuery(query["follow"], bool.TryParse, out bool? follow))
        {
            return Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"follow: \"{query["follow"]}\" is not true or false");
        }
        return JobHandlers.ServeLogsAsync(context, services.Supervisor, name!, lines, follow == true, services.Stopping);
    }

    private delegate bool Parser<T>(string text, out T value);

    private static bool TryQuery<T>(Microsoft.Extensions.Primitives.StringValues values, Parser<T> parse, out T? value)
        where T : struct
    {
        value = null;
        var text = values.ToString();
        if (text.Length == 0)
        {
            return true;
        }
        if (!parse(text, out var parsed))
        {
            return false;
        }
        value = parsed;
        return true;
    }

    private static Route Post(string template, Func<HttpContext, ControlServices, Task<ControlReply>> handle) =>
        new(template, HttpMethods.Post, async (context, services, _) =>
        {
            var reply = await handle(context, services).ConfigureAwait(false);
            await reply.ExecuteAsync(context).ConfigureAwait(false);
        });
}
