using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pilot.Api.Hosting;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Hosting;

namespace Pilot.Api.Control;

/// <summary>What the control plane answers for and to whom it reports.</summary>
public sealed record ControlPlaneOptions
{
    public required ISupervisorControl Supervisor { get; init; }

    /// <summary>Told about every reply except a 404 for an unknown path.</summary>
    public IControlRequestObserver Observer { get; init; } = new ControlRequestCounter();

    public ILoggerFactory Loggers { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Swagger UI is served in <c>Development</c> (or with <see cref="DevListener"/>); default: <c>DOTNET_ENVIRONMENT</c> / <c>ASPNETCORE_ENVIRONMENT</c>.</summary>
    public string EnvironmentName { get; init; } = IsolatedWebHost.EnvironmentFromVariables();

    /// <summary>The opt-in plain-HTTP listener for a browser (<c>-dev-http</c>); null: the socket only.</summary>
    public DevListener? DevListener { get; init; }

    /// <summary>How long Kestrel serves the socket without any connection before it stops until the next client.</summary>
    public TimeSpan IdleAfter { get; init; } = OnDemandKestrel.IdleAfter;
}

/// <summary>
/// The HTTP control plane: Kestrel on the Unix socket only (<see cref="ControlListener"/>), started when a client connects
/// and stopped after idle, serving the minimal-API endpoints (<see cref="ControlApplication"/>), problem bodies also for what Kestrel rejects itself
/// (<see cref="RejectionProblems"/>), the OpenAPI document embedded at build time, and Swagger UI in Development or on the
/// opt-in <see cref="DevListener"/>. Used by the <c>pilot</c> run path and, with a fake <see cref="ISupervisorControl"/>, by tests:
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

    private readonly OnDemandKestrel _server;
    private readonly Lazy<ControlApplication> _application;
    private readonly ILogger _log;
    private readonly string _socketPath;
    private readonly CancellationTokenSource _stopping;
    private Task? _stopped;

    private ControlPlane(OnDemandKestrel server, Lazy<ControlApplication> application, ILogger log, string socketPath, CancellationTokenSource stopping)
    {
        _server = server;
        _application = application;
        _log = log;
        _socketPath = socketPath;
        _stopping = stopping;
    }

    /// <summary>Where Kestrel listens: the socket's path as <c>http://unix:PATH</c>, and the dev listener's address when on.</summary>
    public ICollection<string> Addresses => _server.Addresses is { Count: > 0 } serving ? serving : [$"http://unix:{_socketPath}"];

    /// <summary>True while a Kestrel serves the socket (on demand: from a client's connection until it has been idle a while).</summary>
    public bool IsServing => _server.IsServing;

    public static async Task<ControlPlane> StartAsync(ControlListener listener, ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(options);
        var log = options.Loggers.CreateLogger("control");
        LogStarting(log, listener.SocketPath);
        var stopping = new CancellationTokenSource();
        // Built when the first client connects (an unused control plane costs nothing) and kept for the next Kestrels: a
        // client after idle then waits only for Kestrel's own start.
        var application = new Lazy<ControlApplication>(() => ControlApplication.Build(options, log, stopping.Token), LazyThreadSafetyMode.ExecutionAndPublication);
        Task<KestrelHost> StartKestrel(KestrelStart start) => KestrelHost.StartAsync(
            kestrel =>
            {
                kestrel.Listen(start.EndPoint, listen => listen.Use(start.First).Use(RejectionProblems.Middleware));
                if (options.DevListener is { } dev)
                {
                    kestrel.Listen(dev.EndPoint);
                }
                kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            },
            application.Value.Handle,
            start.Transport,
            options.Loggers,
            cancellationToken);
        // The dev listener (TCP, a browser) has no socket Pilot waits on: with it, Kestrel runs all the time.
        var server = new OnDemandKestrel("control", listener.Socket, StartKestrel, options.Loggers, log,
            options.DevListener is null ? options.IdleAfter : null);
        try
        {
            if (options.DevListener is not null)
            {
                await server.StartNowAsync().ConfigureAwait(false);
            }
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            await DisposeAsync(application).ConfigureAwait(false);
            stopping.Dispose();
            throw;
        }
        LogServing(log, listener.SocketPath);
        if (options.DevListener is not null)
        {
            WarnAboutDevListener(options.Loggers, server.Addresses);
        }
        return new ControlPlane(server, application, log, listener.SocketPath, stopping);
    }

    private static void WarnAboutDevListener(ILoggerFactory loggers, IEnumerable<string> addresses)
    {
        var logger = loggers.CreateLogger("Pilot.Api.Control");
        foreach (var address in addresses.Where(a => !a.StartsWith("http://unix:", StringComparison.Ordinal)))
        {
            logger.LogWarning(
                "control: also serving over plain HTTP at {Address} ({Flag}; development only, no authentication); Swagger UI at {Address}/swagger",
                address, DevListener.FlagName, address);
        }
    }

    /// <summary>Ends open streams (events, followed logs), then stops Kestrel: requests in flight get <paramref name="cancellationToken"/>'s time.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_stopping)
        {
            return _stopped ??= StopOnceAsync(cancellationToken);
        }
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        LogStopping(_log);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _server.StopAsync(cancellationToken).ConfigureAwait(false);
        LogStopped(_log, _socketPath);
    }

    /// <summary>
    /// v3's lines for a reload, in v3's order and at its levels: v3 stopped its control server when a reload was accepted
    /// and started a new one before the new jobs (scripts wait for the second <c>control: serving at</c>). Pilot keeps
    /// serving the same socket throughout, so these lines are all that happens.
    /// </summary>
    public static void LogReloadStage(ILogger log, string socketPath, ReloadStage stage)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (stage == ReloadStage.Stopping)
        {
            LogStopping(log);
            LogStopped(log, socketPath);
        }
        else
        {
            LogStarting(log, socketPath);
            LogServing(log, socketPath);
        }
    }

    // v3's own lines, verbatim at v3's levels: scripts and log pipelines grep them.
    private static void LogStarting(ILogger log, string socketPath)
    {
        log.LogDebug("control: initialized router for control server");
        log.LogDebug("control: listening to {Path}", socketPath);
    }

    private static void LogServing(ILogger log, string socketPath) => log.LogInformation("control: serving at {Path}", socketPath);

    private static void LogStopping(ILogger log) => log.LogDebug("control: stopping control server");

    private static void LogStopped(ILogger log, string socketPath)
    {
        log.LogDebug("control: stopped serving at {Path}", socketPath);
        log.LogDebug("control: completed graceful shutdown of control server");
    }

    private static ValueTask DisposeAsync(Lazy<ControlApplication> application) =>
        application.IsValueCreated ? application.Value.DisposeAsync() : ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(KestrelHost.StopLimit))
        {
            await StopAsync(timeout.Token).ConfigureAwait(false);
        }
        await _server.DisposeAsync().ConfigureAwait(false);
        await DisposeAsync(_application).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
