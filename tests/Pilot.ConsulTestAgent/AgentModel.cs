using System.Collections.Immutable;

namespace Pilot.ConsulTestAgent;

/// <summary>Consul's check states.</summary>
public static class CheckStatus
{
    public const string Passing = "passing";
    public const string Warning = "warning";
    public const string Critical = "critical";

    public static bool IsValid(string status) => status is Passing or Warning or Critical;
}

/// <summary>A service registered with the agent, as <c>/v1/agent/services</c> shows it.</summary>
public sealed record AgentService
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public ImmutableArray<string> Tags { get; init; } = [];
    public string Address { get; init; } = "";
    public int Port { get; init; }
    public bool EnableTagOverride { get; init; }
    public ImmutableDictionary<string, string> Meta { get; init; } = ImmutableDictionary<string, string>.Empty;
    public ulong CreateIndex { get; init; }
    public ulong ModifyIndex { get; init; }
}

/// <summary>A check on the agent, as <c>/v1/agent/checks</c> shows it, plus the TTL bookkeeping.</summary>
public sealed record AgentCheck
{
    public required string CheckId { get; init; }
    public required string Name { get; init; }
    public string ServiceId { get; init; } = "";
    public string ServiceName { get; init; } = "";
    public ImmutableArray<string> ServiceTags { get; init; } = [];
    public string Status { get; init; } = CheckStatus.Critical;
    public string Notes { get; init; } = "";
    public string Output { get; init; } = "";
    /// <summary><c>ttl</c>, <c>http</c>, <c>tcp</c>, <c>script</c>: only TTL checks change state here.</summary>
    public string Type { get; init; } = "ttl";
    public TimeSpan? Ttl { get; init; }
    /// <summary>As sent (e.g. <c>"10m"</c>); <see cref="DeregisterAfter"/> is the effective value after Consul's minimum.</summary>
    public string DeregisterCriticalServiceAfter { get; init; } = "";
    public TimeSpan? DeregisterAfter { get; init; }
    public DateTimeOffset? CriticalSince { get; init; }
    public ulong CreateIndex { get; init; }
    public ulong ModifyIndex { get; init; }
}

/// <summary>One request as the agent received it (the body is the raw text).</summary>
public sealed record RecordedRequest(
    string Method, string Path, string Query, string Body, string? Token, DateTimeOffset At)
{
    public override string ToString() => $"{Method} {Path}{Query} {Body}";
}

/// <summary>Fault modes that apply to every request while set.</summary>
public enum AgentFault
{
    None,
    /// <summary>Every request answers 500 with a body.</summary>
    Error500,
    /// <summary>Requests are accepted and never answered (until the client gives up).</summary>
    Hang,
}

public sealed record ConsulTestAgentOptions
{
    /// <summary>Drives TTL expiry, the reaper and blocking-query waits.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>0 = ephemeral.</summary>
    public int Port { get; init; }
    public string NodeName { get; init; } = "pilot-test-agent";
    public string NodeAddress { get; init; } = "127.0.0.1";
    public string Datacenter { get; init; } = "dc1";
    /// <summary>When set, every request must carry this token (<c>X-Consul-Token</c> or <c>?token=</c>).</summary>
    public string? RequiredToken { get; init; }
    /// <summary>Consul's <c>check_reap_interval</c> (30 s).</summary>
    public TimeSpan ReapInterval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Consul raises shorter DeregisterCriticalServiceAfter values to 1 minute.</summary>
    public TimeSpan MinimumDeregisterCriticalServiceAfter { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>Consul adds up to wait/16 to a blocking query's wait; off for exact timing tests.</summary>
    public bool WaitJitter { get; init; } = true;
    /// <summary>Answer a TTL update for an unknown check as old agents did (500 "does not have associated TTL") instead of 404.</summary>
    public bool LegacyUnknownCheck500 { get; init; }
}
