using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Discovery;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;
using Pilot.Supervisor.Telemetry;
using Prometheus;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// The supervisor with everything around it: v3-format logging for everything that logs through <see cref="ILogger"/>,
/// the Prometheus registry with Pilot's and the user's metrics, Consul discovery and the orphan reaper; run as hosted
/// services of the generic host (<see cref="PilotGenericHost"/>, <see cref="AddHostedServices"/>).
/// <code>
/// await using var runtime = SupervisorRuntime.Create(options, r => [new TelemetryServer(r.Registry, ...)]);
/// var builder = PilotGenericHost.CreateBuilder(runtime.Loggers);
/// runtime.AddHostedServices(builder.Services, signals);
/// using var host = builder.Build();
/// await host.StartAsync(ct);                // the jobs start, then Consul sync and telemetry
/// var exitCode = await runtime.Completion;  // every job halted, or a shutdown (SIGTERM) completed
/// await host.StopAsync(ct);
/// </code>
/// </summary>
public sealed class SupervisorRuntime : IAsyncDisposable
{
    private readonly OrphanReaper _reaper;
    private readonly List<ISupervisedComponent> _components = [];
    private InitService? _init;

    private SupervisorRuntime(LogWriter log, ILoggerFactory loggers, CollectorRegistry registry, PilotMetrics metrics, TimeProvider time)
    {
        Log = log;
        Loggers = loggers;
        Registry = registry;
        Metrics = metrics;
        _reaper = new OrphanReaper();
    }

    public LogWriter Log { get; }

    /// <summary>Loggers writing in v3's format; Microsoft.* categories (Kestrel) only from Warning up.</summary>
    public ILoggerFactory Loggers { get; }

    public CollectorRegistry Registry { get; }

    public PilotMetrics Metrics { get; }

    public PilotSupervisor Supervisor { get; private set; } = null!;

    /// <summary>Pilot's exit code once every job has halted or a shutdown has completed.</summary>
    public Task<int> Completion => Supervisor.Completion;

    /// <summary>
    /// Builds the runtime for <paramref name="options"/>. <paramref name="components"/> adds parts with the supervisor's
    /// lifetime (the telemetry listener); they start after discovery and stop before it.
    /// </summary>
    public static SupervisorRuntime Create(
        PilotSupervisorOptions options, Func<SupervisorRuntime, IEnumerable<ISupervisedComponent>>? components = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = new LogWriter(options.Config.Logging, options.Time);
        var loggers = new LoggerFactory(
            [new PilotLoggerProvider(log)],
            new LoggerFilterOptions
            {
                Rules =
                {
                    new LoggerFilterRule(null, "Microsoft", LogLevel.Warning, null),
                    // The generic host's own lines: Pilot reports a service that cannot start in v3's words itself.
                    new LoggerFilterRule(null, "Microsoft.Extensions.Hosting", LogLevel.None, null),
                },
            });
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var pilotMetrics = new PilotMetrics(registry);
        var runtime = new SupervisorRuntime(log, loggers, registry, pilotMetrics, options.Time);
        var discovery = new ConsulDiscovery(loggers, options.Time, options.Version, pilotMetrics.SetWatchInstances);
        runtime._components.AddRange([.. options.Components, discovery, .. components?.Invoke(runtime) ?? []]);
        runtime.Supervisor = new PilotSupervisor(options with
        {
            Launcher = options.Launcher ?? DefaultLauncher(options.Time, log),
            ServiceRegistrations = options.ServiceRegistrations ?? discovery.CreateRegistration,
            Components = [.. runtime._components],
            UserMetrics = options.UserMetrics ?? new UserMetrics(registry, options.Config.Telemetry?.Metrics ?? []),
            PilotMetrics = options.PilotMetrics ?? pilotMetrics,
        }, log);
        return runtime;
    }

    private static ProcessLauncher DefaultLauncher(TimeProvider time, LogWriter log)
    {
        var launcher = new ProcessLauncher(new ProcessLauncherOptions
        {
            TimeProvider = time,
            MemoryShimRefused = reason => log.Write(Config.LogLevel.Warn, $"children now start through `pilot {ExecShim.Verb}`: {reason}"),
        });
        log.Write(Config.LogLevel.Debug, "children start through the " + launcher.ShimDescription);
        return launcher;
    }

    /// <summary>
    /// Adds Pilot's hosted services after whatever <paramref name="services"/> holds (the control plane), in start order:
    /// the reaper and <paramref name="signals"/> (the ones kept since Pilot started go to the supervisor: a SIGTERM during
    /// start-up means no job starts), the job graph, then each component (Consul sync, telemetry). A component that
    /// cannot start throws <see cref="ComponentStartException"/> from the host's start.
    /// </summary>
    public void AddHostedServices(IServiceCollection services, SignalRelay signals)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(signals);
        _init = new InitService(_reaper, signals, Supervisor);
        // As instances, not types: the container neither reflects over constructors nor disposes them (this runtime does).
        services.AddSingleton<IHostedService>(_init);
        services.AddSingleton<IHostedService>(Supervisor);
        foreach (var component in _components)
        {
            services.AddSingleton<IHostedService>(new ComponentService(component, Supervisor));
        }
    }

    /// <summary>Signals are kept again (the caller owns the relay), then everything stops, the components last started first.</summary>
    public async ValueTask DisposeAsync()
    {
        // The init service stops the reaper (and gives the signals back) unless the host never got that far.
        if (_init is not null)
        {
            await _init.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            await _reaper.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var component in Enumerable.Reverse(_components))
        {
            if (component is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
        }
        await Supervisor.DisposeAsync().ConfigureAwait(false);
        Loggers.Dispose();
    }
}
