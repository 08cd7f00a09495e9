using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Discovery.Consul;
using Pilot.Supervisor.Discovery.Interfaces;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Hosting;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Processes;
using Pilot.Supervisor.Watches;

namespace Pilot.Supervisor.Discovery;

/// <summary>
/// Consul for the supervisor: one client per <c>consul</c> section, a registration per job with a port, and the
/// <c>watches</c> (restarted on reload like any supervised component).
/// </summary>
public sealed class ConsulDiscovery(ILoggerFactory loggers, TimeProvider time, string version, Action<string, int>? watchInstances = null)
    : ISupervisedComponent, IAsyncDisposable
{
    private readonly ConcurrentDictionary<ConsulConfig, ConsulClient> _clients = new();
    private readonly ConcurrentBag<ConsulServiceRegistration> _registrations = [];
    private readonly ILogger _logger = loggers.CreateLogger("discovery");
    private ImmutableArray<ServiceWatch> _watches = [];

    public ImmutableArray<WatchSnapshot> Watches => [.. _watches.Select(w => w.Snapshot)];

    private ConsulClient ClientFor(ConsulConfig config) => _clients.GetOrAdd(config, c => new ConsulClient(c, timeProvider: time));

    /// <summary>The registration of a job with a port; null (with an error logged) when no address can be chosen.</summary>
    public IServiceRegistration? CreateRegistration(JobConfig job, PilotConfig config)
    {
        if (config.Consul is not { } consul)
        {
            return null;
        }
        var telemetry = job.Name == JobConfig.TelemetryJobName ? config.Telemetry : null;
        var selection = IpSelector.Select(telemetry?.Interfaces ?? job.Interfaces);
        if (selection.Ip is not { } ip)
        {
            _logger.LogError("job[{Job}] is not registered in Consul: {Error}", job.Name, selection.Error);
            return null;
        }
        ProcessEnvironment.Set(EnvNames.IpVariable(job.Name), ip);
        var service = telemetry is not null
            ? ServiceDefinition.ForTelemetry(telemetry, ip, version)
            : ServiceDefinition.FromJob(job, ip);
        var registration = new ConsulServiceRegistration(
            new ServiceRegistrar(service, ClientFor(consul), loggers.CreateLogger("discovery." + job.Name), time));
        _registrations.Add(registration);
        return registration;
    }

    public Task StartAsync(PilotConfig config, EventBus bus, CancellationToken cancellationToken)
    {
        if (config.Consul is not { } consul || config.Watches.IsEmpty)
        {
            return Task.CompletedTask;
        }
        var client = ClientFor(consul);
        _watches = [.. config.Watches.Select(w => new ServiceWatch(w, client, e =>
        {
            bus.Publish(e);
            return ValueTask.CompletedTask;
        }, loggers.CreateLogger(w.Source), time, watchInstances))];
        foreach (var watch in _watches)
        {
            watch.Start();
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var watches = _watches;
        _watches = [];
        await Task.WhenAll(watches.Select(w => w.StopAsync())).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var registration in _registrations)
        {
            await registration.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }
}
