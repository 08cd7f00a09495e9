using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pilot.Api.Hosting;
using Pilot.Api.V3;
using Pilot.Supervisor.Control;

namespace Pilot.Api.Control;

/// <summary>What the control plane answers for and to whom it reports.</summary>
public sealed record ControlPlaneOptions
{
    public required ISupervisorControl Supervisor { get; init; }

    /// <summary>Told about every reply except a 404 for an unknown path.</summary>
    public IControlRequestObserver Observer { get; init; } = new ControlRequestCounter();

    public ILoggerFactory Loggers { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Swagger UI is served in <c>Development</c> only; default: <c>DOTNET_ENVIRONMENT</c> / <c>ASPNETCORE_ENVIRONMENT</c>.</summary>
    public string EnvironmentName { get; init; } = IsolatedWebHost.EnvironmentFromVariables();
}

/// <summary>
/// The HTTP control plane: Kestrel on the Unix socket only (<see cref="ControlListener"/>), driven directly with the v3
/// routes matched by hand (<see cref="ControlRoutes"/>), the OpenAPI document embedded at build time, and Swagger UI in
/// Development. Used by the <c>pilot</c> run path and, with a fake <see cref="ISupervisorControl"/>, by tests:
/// <code>
/// using var listener = ControlListener.Bind(config.Control);
/// await using var control = await ControlPlane.StartAsync(listener, new ControlPlaneOptions { Supervisor = fake }, ct);
/// </code>
/// </summary>
public sealed class ControlPlane : IAsyncDisposable
{
    public const int MaxRequestBodyBytes = 64 * 1024;
    /// <summary>The host name clients put in their requests (v3's client uses it too).</summary>
    public const string HostName = "control";

    private readonly KestrelHost _kestrel;

    private ControlPlane(KestrelHost kestrel) => _kestrel = kestrel;

    /// <summary>Where Kestrel listens: the socket's path, as <c>http://unix:PATH</c>.</summary>
    public ICollection<string> Addresses => _kestrel.Addresses;

    public static async Task<ControlPlane> StartAsync(ControlListener listener, ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(options);
        var pipeline = new ControlPipeline(options);
        var kestrel = await KestrelHost.StartAsync(
            kestrel =>
            {
                kestrel.ListenHandle(listener.KestrelHandle);
                kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            },
            pipeline.HandleAsync,
            options.Loggers,
            cancellationToken).ConfigureAwait(false);
        return new ControlPlane(kestrel);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _kestrel.StopAsync(cancellationToken);

    public ValueTask DisposeAsync() => _kestrel.DisposeAsync();
}

/// <summary>
/// One request: its route's handler, a problem body for every failure (404 unknown path, 405 wrong method with its
/// <c>Allow</c> header, 500 with the exception's message), and the count of the reply.
/// </summary>
internal sealed class ControlPipeline
{
    private readonly ControlServices _services;
    private readonly IControlRequestObserver _observer;
    private readonly ILogger _logger;
    private readonly RequestDelegate? _swaggerUi;

    public ControlPipeline(ControlPlaneOptions options)
    {
        _services = new ControlServices(options.Supervisor, new EnvironmentBodyValidator(), new MetricBodyValidator());
        _observer = options.Observer;
        _logger = options.Loggers.CreateLogger("Pilot.Api.Control");
        if (string.Equals(options.EnvironmentName, "Development", StringComparison.OrdinalIgnoreCase))
        {
            _swaggerUi = SwaggerUi.Create(options.Loggers, options.EnvironmentName, NotFoundAsync);
        }
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        // v3 counts every reply except a 404 for an unknown path; a route template keeps labels bounded.
        string? countAs = null;
        try
        {
            var match = ControlRoutes.Find(request.Path.Value ?? "/", request.Method);
            if (match.Route is not { } route)
            {
                await (_swaggerUi ?? NotFoundAsync)(context).ConfigureAwait(false);
            }
            else if (match.WrongMethod)
            {
                countAs = request.Path.Value;
                response.Headers.Allow = route.Method;
                await Problems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, $"{request.Method} is not allowed on {request.Path}")
                    .ConfigureAwait(false);
            }
            else
            {
                countAs = route.Template;
                await route.Handle(context, _services, match.Parameter).ConfigureAwait(false);
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
            if (countAs is not null || response.StatusCode != StatusCodes.Status404NotFound)
            {
                _observer.RequestCompleted(response.StatusCode, countAs ?? request.Path.Value ?? "");
            }
        }
    }

    private static Task NotFoundAsync(HttpContext context) =>
        Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"no route for {context.Request.Path}");
}
