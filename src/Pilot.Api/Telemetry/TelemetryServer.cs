using System.Collections.Immutable;
using System.Net;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pilot.Api.Hosting;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Discovery.Interfaces;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Hosting;
using Prometheus;

namespace Pilot.Api.Telemetry;

/// <summary>
/// The telemetry listener (v3 Part B §5): TCP on the address chosen by <c>telemetry.interfaces</c> and
/// <c>telemetry.port</c>, serving <c>/metrics</c> (Prometheus text) and <c>/status</c> (v3's JSON). It lives beside the
/// jobs and is restarted on reload. Nothing of the control plane is served here.
/// </summary>
internal sealed class TelemetryServer(CollectorRegistry registry, IServiceProvider services, ILogger<TelemetryServer> logger)
    : ISupervisedComponent, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>Where it listens once started (with the real port when <c>telemetry.port</c> is 0).</summary>
    public Uri? Address { get; private set; }

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
            var app = Build(endpoint, config);
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                _app = app;
                var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                Address = new Uri(bound);
                // v3 prints the listener's address as Go's net.Addr does: host:port, no scheme.
                logger.LogInformation("telemetry: serving at {Address}", $"{Address.Host}:{Address.Port}");
                return;
            }
            catch (IOException ex) when (attempt < 10)
            {
                await app.DisposeAsync().ConfigureAwait(false);
                logger.LogDebug("telemetry: listen attempt {Attempt} failed: {Error}", attempt, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                await app.DisposeAsync().ConfigureAwait(false);
                throw new ComponentStartException($"error listening to socket at {endpoint}: {ex.Message}", ex);
            }
        }
    }

    private WebApplication Build(IPEndPoint endpoint, PilotConfig config)
    {
        var builder = IsolatedWebHost.CreateBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(endpoint));
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, TelemetryJsonContext.Default));
        var app = builder.Build();
        app.Map("/metrics", (RequestDelegate)(async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }));
        app.Map("/status", (RequestDelegate)(async context =>
        {
            if (!HttpMethods.IsGet(context.Request.Method))
            {
                await PlainTextAsync(context, StatusCodes.Status405MethodNotAllowed, "Method Not Allowed\n").ConfigureAwait(false);
                return;
            }
            var status = StatusDocument.From(services.GetRequiredService<ISupervisorControl>().GetStatus(), config);
            await context.Response.WriteAsJsonAsync(status, TelemetryJsonContext.Default.StatusDocument, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            await context.Response.WriteAsync("\n", context.RequestAborted).ConfigureAwait(false);
        }));
        // Go's ServeMux answer for every other path.
        app.Map("/{**path}", (RequestDelegate)(context => PlainTextAsync(context, StatusCodes.Status404NotFound, "404 page not found\n")));
        return app;
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
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
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
