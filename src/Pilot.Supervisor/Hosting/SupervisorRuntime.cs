using Microsoft.Extensions.Logging;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Discovery;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;
using Pilot.Supervisor.Telemetry;
using Prometheus;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// The supervisor with everything around it, composed by hand — no dependency-injection container, no generic host, whose
/// start-up cost more than the rest of Pilot: v3-format logging for everything that logs through <see cref="ILogger"/>,
/// the Prometheus registry with Pilot's and the user's metrics, Consul discovery, the orphan reaper and the signal relay.
/// <code>
/// await using var runtime = SupervisorRuntime.Create(options, r => [new TelemetryServer(r.Registry, ...)]);
/// await runtime.StartAsync(signals, ct);  // the jobs start
/// var exitCode = await runtime.Completion; // every job halted, or a shutdown (SIGTERM) completed
/// </code>
/// </summary>
public sealed class SupervisorRuntime : IAsyncDisposable
{
    private readonly OrphanReaper _reaper;
    private readonly List<ISupervisedComponent> _components = [];
    private SignalRelay? _signals;

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
            new LoggerFilterOptions { Rules = { new LoggerFilterRule(null, "Microsoft", LogLevel.Warning, null) } });
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
    /// Starts the reaper, hands <paramref name="signals"/> to the supervisor (the ones kept since Pilot started first: a
    /// SIGTERM during start-up means no job starts), then starts the jobs and the components. A component that cannot
    /// start throws <see cref="ComponentStartException"/>.
    /// </summary>
    public Task StartAsync(SignalRelay signals, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signals);
        _reaper.Start();
        _signals = signals;
        signals.Attach(Supervisor.HandleSignal);
        return Supervisor.StartAsync(cancellationToken);
    }

    /// <summary>Signals are kept again (the caller owns the relay), then everything stops, the components last started first.</summary>
    public async ValueTask DisposeAsync()
    {
        _signals?.Detach();
        await _reaper.DisposeAsync().ConfigureAwait(false);
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
