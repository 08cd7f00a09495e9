using System.Collections.Immutable;

namespace Pilot.Supervisor.Discovery.Consul;

/// <summary>Consul's check states.</summary>
public static class ConsulHealth
{
    public const string Passing = "passing";
    public const string Warning = "warning";
    public const string Critical = "critical";
}

/// <summary>A service registration (<c>PUT /v1/agent/service/register</c>), v3's fields only.</summary>
public sealed record ServiceRegistration
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public ImmutableArray<string> Tags { get; init; } = [];
    public int Port { get; init; }
    public string Address { get; init; } = "";
    public bool EnableTagOverride { get; init; }
    public ServiceCheck? Check { get; init; }

    public bool Equals(ServiceRegistration? other) =>
        other is not null && Id == other.Id && Name == other.Name && Tags.SequenceEqual(other.Tags) && Port == other.Port
        && Address == other.Address && EnableTagOverride == other.EnableTagOverride && Check == other.Check;

    public override int GetHashCode() => HashCode.Combine(Id, Name, Port, Address);
}

/// <summary>The service's TTL check as v3 sends it: <c>TTL</c> <c>"&lt;n&gt;s"</c>, <c>Status</c>, <c>Notes</c>, optional <c>DeregisterCriticalServiceAfter</c>.</summary>
public sealed record ServiceCheck
{
    public required string Ttl { get; init; }
    public string Status { get; init; } = "";
    public string Notes { get; init; } = "";
    /// <summary>A Go duration sent verbatim; empty = omitted.</summary>
    public string DeregisterCriticalServiceAfter { get; init; } = "";
}

/// <summary>One instance from <c>/v1/health/service/&lt;name&gt;</c>.</summary>
public sealed record HealthServiceEntry
{
    public required string ServiceId { get; init; }
    public string ServiceName { get; init; } = "";
    /// <summary>The service's own address, as registered (may be empty: then <see cref="NodeAddress"/> applies).</summary>
    public string Address { get; init; } = "";
    public int Port { get; init; }
    public ImmutableArray<string> Tags { get; init; } = [];
    public string Node { get; init; } = "";
    public string NodeAddress { get; init; } = "";
    public ImmutableArray<HealthCheckInfo> Checks { get; init; } = [];

    /// <summary>Where to reach the instance: the service address, or the node's when the service has none (Consul's rule).</summary>
    public string EffectiveAddress => Address.Length > 0 ? Address : NodeAddress;
}

public sealed record HealthCheckInfo(string CheckId, string Status, string ServiceId);

/// <summary>One service from <c>/v1/agent/services</c>.</summary>
public sealed record AgentServiceInfo(string Id, string Name, ImmutableArray<string> Tags, string Address, int Port);

/// <summary>A query result with the <c>X-Consul-Index</c> it came with (0 when the header is absent).</summary>
public sealed record ConsulQueryResult<T>(T Value, ulong Index);
