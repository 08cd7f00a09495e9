using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Pilot.Api.Hosting;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Discovery.Interfaces;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Hosting;
using Pilot.Supervisor.Telemetry;
using Prometheus;

namespace Pilot.Api.Telemetry;

/// <summary>
/// The telemetry listener (v3 Part B §5): TCP on the address chosen by <c>telemetry.interfaces</c> and
/// <c>telemetry.port</c>, serving <c>/metrics</c> (Prometheus text) and <c>/status</c> (v3's JSON). It lives beside the
/// jobs and is restarted on reload. Nothing of the control plane is served here.
/// </summary>
/// <remarks>
/// The port is bound at start (a port in use fails the start, as in v3), but Kestrel runs only while scrapers call
/// (<see cref="OnDemandKestrel"/>): an unscraped Pilot allocates nothing. It stays up <see cref="IdleAfter"/> after the
/// last connection, longer than Prometheus's default 1-minute scrape interval, so a scraped Pilot keeps one Kestrel.
/// </remarks>
internal sealed class TelemetryServer(
    CollectorRegistry registry, Func<ISupervisorControl> supervisor, ILoggerFactory loggers, TimeSpan? idleAfter = null)
    : ISupervisedComponent, IAsyncDisposable
{
    /// <summary>By default, how long Kestrel keeps serving after the last connection.</summary>
    public static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(2);

    private readonly ILogger _logger = loggers.CreateLogger<TelemetryServer>();
    // Per-job CPU and memory, read from /proc only when /metrics is scraped.
    private readonly JobUsageMetrics _usage = new(registry, () => supervisor().GetStatus().Jobs);
    private ListeningSocket? _socket;
    private OnDemandKestrel? _server;

    /// <summary>Where it listens once started (with the real port when <c>telemetry.port</c> is 0).</summary>
    public Uri? Address { get; private set; }

    /// <summary>True while a Kestrel serves the port.</summary>
    public bool IsServing => _server?.IsServing ?? false;

    public async Task StartAsync(PilotConfig config, EventBus bus, CancellationToken cancellationToken)
    {
        if (config.Telemetry is not { } telemetry)
        {
            return;
        }
        var selection = IpSelector.Select(telemetry.Interfaces);
        if (selection.Ip is not { } ip)
        {
            throw new ComponentStartException($"telemetry validation error: {selection.Error}");
        }
        var endpoint = new IPEndPoint(IPAddress.Parse(ip), telemetry.Port);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _socket = ListeningSocket.Bind(endpoint);
                break;
            }
            catch (SocketException ex) when (attempt < 10)
            {
                _logger.LogDebug("telemetry: listen attempt {Attempt} failed: {Error}", attempt, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new ComponentStartException($"error listening to socket at {endpoint}: {ex.Message}", ex);
            }
        }
        var bound = (IPEndPoint)_socket.LocalEndPoint!;
        Address = new Uri($"http://{bound}/");
        Task<KestrelHost> StartKestrel(KestrelStart start) => KestrelHost.StartAsync(
            kestrel => kestrel.Listen(start.EndPoint, listen => listen.Use(start.First)), context => HandleAsync(context, config), start.Transport,
            loggers, CancellationToken.None);
        _server = new OnDemandKestrel("telemetry", _socket, StartKestrel, loggers, _logger, idleAfter ?? IdleAfter);
        // v3 prints the listener's address as Go's net.Addr does: host:port, no scheme.
        _logger.LogInformation("telemetry: serving at {Address}", $"{Address.Host}:{Address.Port}");
    }

    /// <summary><c>/metrics</c> on any method, <c>/status</c> on GET; anything else answered as Go's ServeMux does.</summary>
    private async Task HandleAsync(HttpContext context, PilotConfig config)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path.Length > 1 && path[^1] == '/')
        {
            path = path[..^1];
        }
        if (path.Equals("/metrics", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }
        else if (path.Equals("/status", StringComparison.OrdinalIgnoreCase))
        {
            if (!HttpMethods.IsGet(context.Request.Method))
            {
                await PlainTextAsync(context, StatusCodes.Status405MethodNotAllowed, "Method Not Allowed\n").ConfigureAwait(false);
                return;
            }
            var status = StatusDocument.From(supervisor().GetStatus(), config);
            await context.Response.WriteAsJsonAsync(status, TelemetryJsonContext.Default.StatusDocument, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            await context.Response.WriteAsync("\n", context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            // Go's ServeMux answer for every other path.
            await PlainTextAsync(context, StatusCodes.Status404NotFound, "404 page not found\n").ConfigureAwait(false);
        }
    }

    /// <summary>A plain-text answer as Go's <c>http.Error</c> writes it.</summary>
    private static Task PlainTextAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _server, null) is { } server)
        {
            await server.StopAsync(cancellationToken).ConfigureAwait(false);
            await server.DisposeAsync().ConfigureAwait(false);
        }
        Interlocked.Exchange(ref _socket, null)?.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);
}

/// <summary>v3's <c>/status</c> body; empty lists are <c>null</c> as Go encodes nil slices.</summary>
internal sealed record StatusDocument(string Version, List<JobStatus>? Jobs, List<ServiceStatus>? Services, List<string>? Watches)
{
    public static StatusDocument From(SupervisorSnapshot snapshot, PilotConfig config)
    {
        // Job names may repeat (v3 does not check them); the first of a name speaks for it.
        var snapshots = new Dictionary<string, JobSnapshot>(StringComparer.Ordinal);
        foreach (var job in snapshot.Jobs)
        {
            snapshots.TryAdd(job.Name, job);
        }
        string StatusOf(string name) => snapshots.TryGetValue(name, out var job) ? Describe(job, snapshot.Maintenance) : "unknown";
        var jobs = config.Jobs.Where(j => !j.IsService).Select(j => new JobStatus(j.Name, StatusOf(j.Name))).ToList();
        var services = config.Jobs.Where(j => j.IsService)
            .Select(j => new ServiceStatus(j.Name, IpSelector.Select(j.Interfaces).Ip ?? "", j.Port, StatusOf(j.Name)))
            .ToList();
        if (config.Telemetry is { } telemetry)
        {
            services.Add(new ServiceStatus(JobConfig.TelemetryJobName, IpSelector.Select(telemetry.Interfaces).Ip ?? "", telemetry.Port, "healthy"));
        }
        var watches = config.Watches.Select(w => w.Name).ToList();
        return new StatusDocument(snapshot.Version, jobs.Count > 0 ? jobs : null, services.Count > 0 ? services : null, watches.Count > 0 ? watches : null);
    }

    private static string Describe(JobSnapshot job, bool maintenance) => job.Health switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Unhealthy => "unhealthy",
        HealthStatus.Maintenance => "maintenance",
        _ => maintenance ? "maintenance" : "unknown",
    };
}

internal sealed record JobStatus(string Name, string Status);

internal sealed record ServiceStatus(string Name, string Address, int Port, string Status);

[JsonSerializable(typeof(StatusDocument))]
internal sealed partial class TelemetryJsonContext : JsonSerializerContext;
