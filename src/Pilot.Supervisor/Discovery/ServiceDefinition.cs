using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Discovery.Consul;

namespace Pilot.Supervisor.Discovery;

/// <summary>What a job (or the telemetry server) advertises in Consul. Service ID is v3's <c>&lt;name&gt;-&lt;hostname&gt;</c>.</summary>
public sealed record ServiceDefinition
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public int Port { get; init; }
    public int TtlSeconds { get; init; }
    public ImmutableArray<string> Tags { get; init; } = [];
    /// <summary><c>passing</c>, <c>warning</c>, <c>critical</c>, or null (first registration on the first heartbeat).</summary>
    public string? InitialStatus { get; init; }
    public string Address { get; init; } = "";
    public bool EnableTagOverride { get; init; }
    public string DeregisterCriticalServiceAfter { get; init; } = "";

    /// <summary>The TTL check Consul creates for the service: <c>service:&lt;ID&gt;</c>.</summary>
    public string CheckId => "service:" + Id;

    public TimeSpan Ttl => TimeSpan.FromSeconds(TtlSeconds);

    /// <summary>A job with a <c>port</c>; <paramref name="address"/> comes from <see cref="Interfaces.IpSelector"/>.</summary>
    public static ServiceDefinition FromJob(JobConfig job, string address, string? hostname = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new ServiceDefinition
        {
            Id = $"{job.Name}-{hostname ?? Hostname()}",
            Name = job.Name,
            Port = job.Port,
            TtlSeconds = job.Health?.TtlSeconds ?? 0,
            Tags = job.Tags,
            InitialStatus = string.IsNullOrEmpty(job.InitialStatus) ? null : job.InitialStatus,
            Address = address,
            EnableTagOverride = job.Consul?.EnableTagOverride ?? false,
            DeregisterCriticalServiceAfter = job.Consul?.DeregisterCriticalServiceAfter ?? "",
        };
    }

    /// <summary>v3's <c>containerpilot</c> service for telemetry: TTL 15 s, tags plus the version (if non-empty).</summary>
    public static ServiceDefinition ForTelemetry(TelemetryConfig telemetry, string address, string version, string? hostname = null)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        return new ServiceDefinition
        {
            Id = $"{JobConfig.TelemetryJobName}-{hostname ?? Hostname()}",
            Name = JobConfig.TelemetryJobName,
            Port = telemetry.Port,
            TtlSeconds = 15,
            Tags = string.IsNullOrEmpty(version) ? telemetry.Tags : telemetry.Tags.Add(version),
            Address = address,
        };
    }

    /// <summary>The registration body v3 sends, with the check in <paramref name="status"/>.</summary>
    public ServiceRegistration ToRegistration(string status) => new()
    {
        Id = Id,
        Name = Name,
        Tags = Tags,
        Port = Port,
        Address = Address,
        EnableTagOverride = EnableTagOverride,
        Check = new ServiceCheck
        {
            Ttl = $"{TtlSeconds}s",
            Status = status,
            Notes = $"TTL for {Name} set by containerpilot",
            DeregisterCriticalServiceAfter = DeregisterCriticalServiceAfter,
        },
    };

    /// <summary>The OS hostname, in full (Go's <c>os.Hostname</c>); empty when it cannot be read, as v3 gives <c>name-</c>.</summary>
    public static string Hostname()
    {
        try
        {
            return Dns.GetHostName();
        }
        catch (SocketException)
        {
            return "";
        }
    }

    public bool Equals(ServiceDefinition? other) =>
        other is not null && Id == other.Id && Name == other.Name && Port == other.Port && TtlSeconds == other.TtlSeconds
        && Tags.SequenceEqual(other.Tags) && InitialStatus == other.InitialStatus && Address == other.Address
        && EnableTagOverride == other.EnableTagOverride && DeregisterCriticalServiceAfter == other.DeregisterCriticalServiceAfter;

    public override int GetHashCode() => HashCode.Combine(Id, Port, Address);
}
