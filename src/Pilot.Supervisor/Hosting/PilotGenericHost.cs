using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// The .NET generic host Pilot runs under, holding only what Pilot uses. Its hosted services start in the order they
/// are added and stop in reverse (one at a time); <c>pilot</c> adds, in this order: the control plane (v3 serves the
/// socket before any job starts), <see cref="InitService"/> (reaper, signals), the job graph (<see cref="PilotSupervisor"/>),
/// Consul sync and telemetry (<see cref="ComponentService"/>); the job graph publishes <c>startup</c> once all have started.
/// </summary>
/// <remarks>
/// Trimmed for start-up time (measured under Native AOT, the empty default host costs ≈8 ms, this one ≈2): no
/// configuration sources, no console lifetime (it would take SIGTERM/SIGINT/SIGQUIT from <see cref="SignalRelay"/>), Pilot's
/// own logger factory, host options as a value, and no start-up validator (it builds the metrics and options types that
/// Pilot does not use, at run time, in the AOT type loader).
/// </remarks>
public static class PilotGenericHost
{
    public static HostApplicationBuilder CreateBuilder(ILoggerFactory loggers)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = "pilot",
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        var services = builder.Services;
        services.RemoveAll<IHostLifetime>();
        services.AddSingleton<IHostLifetime>(new SignalsStayWithPilot());
        services.RemoveAll<ILoggerFactory>();
        services.AddSingleton(loggers);
        services.RemoveAll<IConfigureOptions<HostOptions>>();
        // Each service bounds its own stop (jobs by their stopTimeout); the host adds no limit of its own.
        services.AddSingleton(Options.Create(new HostOptions { ShutdownTimeout = Timeout.InfiniteTimeSpan }));
        services.RemoveAll<IStartupValidator>();
        return builder;
    }

    /// <summary>The host starts at once and stops when told: Pilot's signals stay with <see cref="SignalRelay"/>.</summary>
    private sealed class SignalsStayWithPilot : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
