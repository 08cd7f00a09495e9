using Pilot.Supervisor.Config.Json5;

namespace Pilot.Supervisor.Config.Decoding;

/// <summary>
/// The config as decoded (weak typing applied) but not yet validated: strings stay strings so validators can quote
/// them in v3's messages. <see cref="Lines"/> maps a relative path (<c>when.interval</c>) to the line of its value.
/// </summary>
internal abstract record RawSection
{
    public required string Path { get; init; }
    public required int Line { get; init; }
    public Dictionary<string, int> Lines { get; init; } = new(StringComparer.Ordinal);

    public int LineOf(string key) => Lines.TryGetValue(key, out var line) ? line : Line;
}

internal sealed record RawConfig
{
    public RawConsul? Consul { get; init; }
    public LoggingConfig Logging { get; init; } = new();
    public RawControl? Control { get; init; }
    public long? StopTimeout { get; init; }
    public List<RawJob> Jobs { get; init; } = [];
    public List<RawWatch> Watches { get; init; } = [];
    public RawTelemetry? Telemetry { get; init; }
    public int WatchesLine { get; init; }
    /// <summary>Raw logging values, validated with v3's messages.</summary>
    public RawLogging? LoggingRaw { get; init; }
    /// <summary>Pilot extension <c>shutdownOrder</c> as written.</summary>
    public string? ShutdownOrder { get; init; }
    public int ShutdownOrderLine { get; init; }
}

internal sealed record RawLogging : RawSection
{
    public string? Level { get; init; }
    public string? Format { get; init; }
    public string? Output { get; init; }
    public long? KeepLines { get; init; }
}

internal sealed record RawControl : RawSection
{
    public string? Socket { get; init; }
    public string? Mode { get; init; }
}

internal sealed record RawConsul : RawSection
{
    /// <summary>True for <c>consul: "host:port"</c>.</summary>
    public bool IsStringForm { get; init; }
    public string Address { get; init; } = "";
    public string Scheme { get; init; } = "";
    public string Token { get; init; } = "";
    public string CaFile { get; init; } = "";
    public string CaPath { get; init; } = "";
    public string ClientCert { get; init; } = "";
    public string ClientKey { get; init; } = "";
    public string ServerName { get; init; } = "";
    public bool Verify { get; init; }
    /// <summary>Wrong JSON type for <c>consul</c> (v3: <c>no discovery backend defined</c>).</summary>
    public bool WrongType { get; init; }
}

internal sealed record RawJob : RawSection
{
    public required int Index { get; init; }
    public string Name { get; init; } = "";
    public Json5Node? Exec { get; init; }
    public long Port { get; init; }
    public string InitialStatus { get; init; } = "";
    public Json5Node? Interfaces { get; init; }
    public List<string>? Tags { get; init; }
    public RawJobConsul? Consul { get; init; }
    public RawHealth? Health { get; init; }
    public RawDuration Timeout { get; init; } = RawDuration.Unset;
    public Json5Node? Restarts { get; init; }
    public RawDuration StopTimeout { get; init; } = RawDuration.Unset;
    public RawWhen? When { get; init; }
    public bool RawLogging { get; init; }
    /// <summary>Pilot extensions of the job's life (ConfigDecoder.Lifecycle.cs).</summary>
    public RawLifecycle Lifecycle { get; init; } = new();
    // Pilot's run-as (issue 17), resolved in RunAsRules.
    public string? User { get; init; }
    public string? Group { get; init; }
}

internal sealed record RawJobConsul
{
    public bool EnableTagOverride { get; init; }
    public string DeregisterCriticalServiceAfter { get; init; } = "";
}

internal sealed record RawHealth
{
    public Json5Node? Exec { get; init; }
    public RawDuration Timeout { get; init; } = RawDuration.Unset;
    public long Interval { get; init; }
    public long Ttl { get; init; }
    public bool RawLogging { get; init; }
    // Pilot's network checks (issue 17), validated in HealthCheckRules.
    public string? Http { get; init; }
    public Json5Node? Status { get; init; }
    public string? Tcp { get; init; }
    /// <summary>Pilot's <c>health.notify</c> as written (issue 27), validated in NotifyRules.</summary>
    public Json5Node? Notify { get; init; }

    /// <summary><c>health.notify: true</c>: the job tells its readiness over <c>NOTIFY_SOCKET</c>.</summary>
    public bool IsNotify => Notify is Json5Bool { Value: true };
}

internal sealed record RawWhen
{
    public RawDuration Interval { get; init; } = RawDuration.Unset;
    public string Source { get; init; } = "";
    public string Once { get; init; } = "";
    public string Each { get; init; } = "";
    public RawDuration Timeout { get; init; } = RawDuration.Unset;
    /// <summary>Pilot's <c>when.cron</c> (issue 17), validated in CronRules.</summary>
    public string Cron { get; init; } = "";
    /// <summary>Which keys were written (to tell <c>when: {}</c> from a real trigger).</summary>
    public bool IsEmpty { get; init; }
}

internal sealed record RawWatch : RawSection
{
    public required int Index { get; init; }
    public string Name { get; init; } = "";
    public long Interval { get; init; }
    public string Tag { get; init; } = "";
    public string Dc { get; init; } = "";
}

internal sealed record RawTelemetry : RawSection
{
    public long Port { get; init; } = 9090;
    public List<string>? Interfaces { get; init; }
    public List<string> Tags { get; init; } = [];
    public List<RawMetric> Metrics { get; init; } = [];
}

internal sealed record RawMetric : RawSection
{
    public required int Index { get; init; }
    public string Namespace { get; init; } = "";
    public string Subsystem { get; init; } = "";
    public string Name { get; init; } = "";
    public string Help { get; init; } = "";
    public string Type { get; init; } = "";
    public List<double>? Buckets { get; init; }
}

/// <summary>
/// A duration field as written (quoted back in v3's messages, so <see cref="ToString"/> is the text) and as parsed —
/// once, at decode time — by v3's <c>GetTimeout</c>: <c>""</c> is unset, an integer is seconds, else a Go duration.
/// </summary>
internal readonly record struct RawDuration(string Text, TimeSpan? Value, string? Error)
{
    public static readonly RawDuration Unset = new("", null, null);

    public bool IsSet => Text.Length > 0;

    public static RawDuration Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return Unset;
        }
        return GoDuration.TryParseV3(text, out var value, out var error) ? new(text, value, null) : new(text, null, error);
    }

    public override string ToString() => Text;
}
