using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Discovery;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;
using Pilot.Supervisor.Telemetry;
using Prometheus;

namespace Pilot.Supervisor.Hosting;

public static class SupervisorServiceCollectionExtensions
{
    /// <summary>
    /// Registers the supervisor as a hosted service, <see cref="ISupervisorControl"/> for the control plane, v3-format
    /// logging for everything that logs through <see cref="ILogger"/>, and a host lifetime that leaves signals to Pilot.
    /// </summary>
    public static IServiceCollection AddPilotSupervisor(this IServiceCollection services, PilotSupervisorOptions options)
    {
        var log = new LogWriter(options.Config.Logging, options.Time);
        services.AddSingleton(log);
        services.AddLogging(logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(new PilotLoggerProvider(log));
        });
        services.AddSingleton(new OrphanReaper(timeProvider: options.Time));
        var registry = Metrics.NewCustomRegistry();
        var pilotMetrics = new PilotMetrics(registry);
        var userMetrics = new UserMetrics(registry, options.Config.Telemetry?.Metrics ?? []);
        services.AddSingleton(registry);
        services.AddSingleton(pilotMetrics);
        services.AddSingleton(provider => new ConsulDiscovery(provider.GetRequiredService<ILoggerFactory>(), options.Time, options.Version,
            pilotMetrics.SetWatchInstances));
        services.AddSingleton(provider =>
        {
            var discovery = provider.GetRequiredService<ConsulDiscovery>();
            // Components registered by the host (the telemetry listener) start after discovery and stop before it.
            var components = provider.GetServices<ISupervisedComponent>().Prepend(discovery);
            return new PilotSupervisor(options with
            {
                Launcher = options.Launcher ?? new ProcessLauncher(new ProcessLauncherOptions { TimeProvider = options.Time }),
                ServiceRegistrations = options.ServiceRegistrations ?? discovery.CreateRegistration,
                Components = [.. options.Components, .. components],
                UserMetrics = options.UserMetrics ?? userMetrics,
                PilotMetrics = options.PilotMetrics ?? pilotMetrics,
            }, log);
        });
        services.AddSingleton<ISupervisorControl>(provider => provider.GetRequiredService<PilotSupervisor>());
        services.AddSingleton<IHostLifetime, PilotHostLifetime>();
        // `pilot` registers the relay it created first thing in Main; elsewhere (tests) one is made here.
        services.TryAddSingleton(_ => new SignalRelay());
        services.AddHostedService<PilotSupervisorService>();
        services.Configure<HostOptions>(host =>
        {
            // The supervisor bounds its own shutdown by stopTimeout; the host must not cut it short.
            host.ShutdownTimeout = options.Config.StopTimeout + TimeSpan.FromSeconds(15);
        });
        return services;
    }
}
