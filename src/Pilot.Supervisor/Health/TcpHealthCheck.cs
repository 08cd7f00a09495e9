using System.Net.Sockets;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Logging;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Health;

/// <summary>Pilot's <c>health.tcp</c>: passes when a connection to <c>host:port</c> is accepted (then closed at once). No process is spawned.</summary>
public sealed class TcpHealthCheck(string name, TcpCheckConfig address, TimeSpan? timeout, LogWriter log, TimeProvider time) : IHealthCheck
{
    public string Name { get; } = name;

    public IHealthProbe Start() => new NetworkProbe(ConnectAsync, $"dial tcp {address}", timeout, time,
        limit => log.Write(LogLevel.Warn, $"{Name} timeout after {Config.Decoding.GoDuration.Format(limit)}: 'tcp {address}'"));

    private async Task<HealthCheckResult> ConnectAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port, cancellationToken).ConfigureAwait(false);
        return new HealthCheckResult(HealthCheckOutcome.Passed, $"connected to {address}");
    }
}
