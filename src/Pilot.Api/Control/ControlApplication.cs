using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pilot.Api.V3;
using Pilot.Supervisor.Control;

namespace Pilot.Api.Control;

/// <summary>The <c>control</c> logger (v3's own lines), as a service the endpoints ask for.</summary>
public sealed record ControlLog(ILogger Logger);

/// <summary>Cancelled when Pilot stops, so open streams (events, followed logs) end; a service the endpoints ask for.</summary>
public sealed record ControlStopping(CancellationToken Token);

/// <summary>
/// The control plane as ASP.NET Core minimal APIs: the endpoints <see cref="V3Endpoints.MapV3Endpoints"/> declares (one
/// declaration each, compiled by the Request Delegate Generator) behind endpoint routing, on a service provider that holds
/// only what they and routing ask for. No web host: Kestrel is driven by <see cref="Hosting.KestrelHost"/>, which serves
/// <see cref="Handle"/>. Built when the first client connects and
/// kept until the control plane stops, so an unused control plane costs nothing and a client after idle waits only for Kestrel.
/// </summary>
/// <remarks>
/// Around the endpoints, what v3 clients and Pilot's own see on every answer: a problem body for an unknown path (404,
/// or Swagger UI in Development) and for a method the path does not take (405, with <c>Allow</c>), a 500 problem with the
/// exception's message, and the count of every reply but an unknown path's in
/// <c>containerpilot_control_http_requests{code,path}</c>, labelled by the route's template.
/// </remarks>
internal sealed class ControlApplication : IAsyncDisposable
{
    /// <summary>The embedded OpenAPI document's route (the document itself is generated from the endpoints by the tests).</summary>
    public const string OpenApiTemplate = "/openapi/{documentName}.json";

    private readonly ServiceProvider _services;

    private ControlApplication(ServiceProvider services, RequestDelegate handle, EndpointDataSource endpoints)
    {
        _services = services;
        Handle = handle;
        Endpoints = endpoints;
    }

    /// <summary>Serves one request.</summary>
    public RequestDelegate Handle { get; }

    /// <summary>The endpoints as routing sees them (what is served is what is documented: OpenApiDocumentTests).</summary>
    public EndpointDataSource Endpoints { get; }

    public static ControlApplication Build(ControlPlaneOptions options, ILogger controlLog, CancellationToken stopping)
    {
        var services = new ServiceCollection();
        AddControlServices(services, options.Supervisor, controlLog, stopping);
        services.AddSingleton(options.Loggers);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddOptions();
        services.AddRoutingCore();
        // Routing's middleware writes to it; nothing listens (Pilot has no diagnostics subscribers).
        services.AddSingleton(new System.Diagnostics.DiagnosticListener("Microsoft.AspNetCore"));
        var provider = services.BuildServiceProvider();

        var pipeline = new ApplicationBuilder(provider);
        var replies = new ReplyHandling(options, provider);
        pipeline.Use(replies.CountAndCatch);
        if (options.DevListener is not null)
        {
            pipeline.Use(static (context, next) => DevListener.GuardAsync(context, () => next(context)));
        }
        pipeline.UseRouting();
        pipeline.Use(replies.UnroutedAsync);
        EndpointDataSource? endpoints = null;
        pipeline.UseEndpoints(routes =>
        {
            routes.MapV3Endpoints();
            routes.MapGet(OpenApiTemplate, static (HttpContext context, string documentName) => OpenApiDocument.WriteAsync(context, documentName))
                .ExcludeFromDescription();
            endpoints = new CompositeEndpointDataSource(routes.DataSources);
        });
        return new ControlApplication(provider, pipeline.Build(), endpoints!);
    }

    /// <summary>What the endpoints ask for by <c>[FromServices]</c>; also given to the document's generator.</summary>
    public static void AddControlServices(IServiceCollection services, ISupervisorControl supervisor, ILogger controlLog, CancellationToken stopping)
    {
        services.AddSingleton(supervisor);
        services.AddSingleton<IValidator<EnvironmentBody>>(new EnvironmentBodyValidator());
        services.AddSingleton<IValidator<MetricBody>>(new MetricBodyValidator());
        services.AddSingleton(new ControlLog(controlLog));
        services.AddSingleton(new ControlStopping(stopping));
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    /// <summary>The handling every reply gets, whatever answered it.</summary>
    private sealed class ReplyHandling(ControlPlaneOptions options, IServiceProvider services)
    {
        private readonly ILogger _logger = options.Loggers.CreateLogger("Pilot.Api.Control");
        private readonly RequestDelegate? _swaggerUi =
            options.DevListener is not null || string.Equals(options.EnvironmentName, "Development", StringComparison.OrdinalIgnoreCase)
                ? SwaggerUi.Create(options.Loggers, options.EnvironmentName, NotFoundAsync)
                : null;

        /// <summary>First in the pipeline: the reply's count, and a 500 problem for what throws.</summary>
        public async Task CountAndCatch(HttpContext context, RequestDelegate next)
        {
            // Minimal APIs take [FromServices] parameters from here; Kestrel driven directly sets no request services.
            context.RequestServices = services;
            var request = context.Request;
            var response = context.Response;
            try
            {
                await next(context).ConfigureAwait(false);
                if (response.StatusCode == StatusCodes.Status400BadRequest && !response.HasStarted && UnboundParameter(context) is { } unbound)
                {
                    // The endpoint's parameters did not bind (minimal APIs answer 400 without a body): say which.
                    await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, unbound).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && !response.HasStarted)
            {
                _logger.LogError(ex, "control plane: {Method} {Path} failed", request.Method, request.Path);
                response.Clear();
                await Problems.WriteAsync(context, StatusCodes.Status500InternalServerError, ex.Message).ConfigureAwait(false);
            }
            finally
            {
                // v3 counts every reply except a 404 for an unknown path; a route template keeps labels bounded.
                var label = context.GetEndpoint() is RouteEndpoint route && response.StatusCode != StatusCodes.Status405MethodNotAllowed
                    ? Template(route.RoutePattern)
                    : null;
                if (label is not null || response.StatusCode != StatusCodes.Status404NotFound)
                {
                    options.Observer.RequestCompleted(response.StatusCode, label ?? request.Path.Value ?? "");
                }
            }
        }

        /// <summary>After routing: an unknown path or a method the path does not take, answered with a problem.</summary>
        public Task UnroutedAsync(HttpContext context, RequestDelegate next)
        {
            var endpoint = context.GetEndpoint();
            if (endpoint is null)
            {
                return (_swaggerUi ?? NotFoundAsync)(context);
            }
            if (endpoint is RouteEndpoint)
            {
                return next(context);
            }
            // Routing's own endpoint for a path whose methods do not include this one: it sets 405 and Allow.
            return MethodNotAllowedAsync(context, endpoint);
        }

        private static async Task MethodNotAllowedAsync(HttpContext context, Endpoint endpoint)
        {
            await endpoint.RequestDelegate!(context).ConfigureAwait(false);
            if (!context.Response.HasStarted)
            {
                await Problems.WriteAsync(context, context.Response.StatusCode,
                    $"{context.Request.Method} is not allowed on {context.Request.Path}").ConfigureAwait(false);
            }
        }

        /// <summary>The first query parameter of the endpoint whose value does not read as its type, described for the client.</summary>
        private static string? UnboundParameter(HttpContext context)
        {
            if (context.GetEndpoint() is not RouteEndpoint endpoint)
            {
                return null;
            }
            foreach (var parameter in endpoint.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Http.Metadata.IParameterBindingMetadata>())
            {
                var text = context.Request.Query[parameter.Name].ToString();
                var type = Nullable.GetUnderlyingType(parameter.ParameterInfo.ParameterType) ?? parameter.ParameterInfo.ParameterType;
                if (text.Length > 0 && Expected(type, text) is { } expected)
                {
                    return $"{parameter.Name}: \"{text}\" is not {expected}";
                }
            }
            return null;
        }

        /// <summary>What <paramref name="text"/> should have been for a parameter of <paramref name="type"/>; null when it reads.</summary>
        private static string? Expected(Type type, string text) =>
            type == typeof(int) && !int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _) ? "an integer"
            : type == typeof(bool) && !bool.TryParse(text, out _) ? "true or false"
            : null;

        private static Task NotFoundAsync(HttpContext context) =>
            Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"no route for {context.Request.Path}");

        /// <summary>The route's template as written, e.g. <c>/v3/jobs/{name}</c>.</summary>
        private static string Template(RoutePattern pattern) => pattern.RawText is { Length: > 0 } raw ? "/" + raw.TrimStart('/') : "/";
    }
}
