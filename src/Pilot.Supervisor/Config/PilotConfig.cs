using System.Collections.Immutable;
using Pilot.Supervisor.Events;

namespace Pilot.Supervisor.Config;

/// <summary>A whole validated configuration: what <see cref="ConfigLoader"/> produces from a file. Immutable.</summary>
public sealed record PilotConfig
{
    /// <summary>Null when the file has no <c>consul</c> key (v3 requires it; Pilot warns instead).</summary>
    public ConsulConfig? Consul { get; init; }
    public LoggingConfig Logging { get; init; } = new();
    public ControlConfig Control { get; init; } = new();
    /// <summary>Global shutdown window, never negative (see <see cref="StopTimeouts.Global"/>); also every job's default stop budget.</summary>
    public TimeSpan StopTimeout { get; init; } = StopTimeouts.DefaultGlobal;
    public ImmutableArray<JobConfig> Jobs { get; init; } = [];
    public ImmutableArray<WatchConfig> Watches { get; init; } = [];
    public TelemetryConfig? Telemetry { get; init; }
    /// <summary>Pilot extension <c>shutdownOrder</c> (see LifecycleConfig.cs); v3 stops every job together.</summary>
    public ShutdownOrder ShutdownOrder { get; init; }
    /// <summary>Non-fatal findings (unknown event sources, traps that never fire, cycles).</summary>
    public ImmutableArray<string> Warnings { get; init; } = [];

    /// <summary>The rendered file as one line of JSON, for v3's debug line <c>loaded config: …</c>.</summary>
    public string LoadedJson { get; init; } = "{}";
}

public sealed record ConsulConfig
{
    /// <summary><c>host:port</c>, or a Unix socket path when <see cref="Scheme"/> is <c>unix</c>.</summary>
    public string Address { get; init; } = "127.0.0.1:8500";
    /// <summary><c>http</c>, <c>https</c> or <c>unix</c>.</summary>
    public string Scheme { get; init; } = "http";
    public string Token { get; init; } = "";
    public ConsulTlsConfig Tls { get; init; } = new();
}

public sealed record ConsulTlsConfig
{
    public string CaFile { get; init; } = "";
    public string CaPath { get; init; } = "";
    public string ClientCert { get; init; } = "";
    public string ClientKey { get; init; } = "";
    public string ServerName { get; init; } = "";
    public bool Verify { get; init; }
}

public enum LogLevel { Debug, Info, Warn, Error, Fatal, Panic }

public enum LogFormat { Default, Text, Json }

public sealed record LoggingConfig
{
    public LogLevel Level { get; init; } = LogLevel.Info;
    public LogFormat Format { get; init; } = LogFormat.Default;
    /// <summary><c>stdout</c>, <c>stderr</c> or a file path.</summary>
    public string Output { get; init; } = "stdout";

    public const int DefaultKeepLines = 1000;
    public const int MaxKeepLines = 100_000;

    /// <summary>
    /// Pilot extension (<c>logging.keepLines</c>): how many recent output lines are kept per job and per health check
    /// for <c>pilot logs</c> / <c>GET /v3/jobs/{name}/logs</c>; 0 keeps none.
    /// </summary>
    public int KeepLines { get; init; } = DefaultKeepLines;
}

public sealed record ControlConfig
{
    public const string DefaultSocketPath = "/var/run/containerpilot.socket";
    public string SocketPath { get; init; } = DefaultSocketPath;
    /// <summary>Unix mode of the socket file (Pilot extension, key <c>control.mode</c>, e.g. <c>"0660"</c>).</summary>
    public int SocketMode { get; init; } = Convert.ToInt32("600", 8);
}

/// <summary>A command: program and arguments, no shell (v3 splits a string on single spaces).</summary>
public sealed record CommandSpec(string Program, ImmutableArray<string> Arguments)
{
    public IEnumerable<string> All => Arguments.Prepend(Program);

    public override string ToString() => string.Join(' ', All);

    public bool Equals(CommandSpec? other) =>
        other is not null && Program == other.Program && Arguments.SequenceEqual(other.Arguments);

    public override int GetHashCode() => HashCode.Combine(Program, Arguments.Length);
}

/// <summary>What starts a job. v3 <c>when</c> resolved: one trigger event, how many starts it gives, optional interval/timeout.</summary>
public sealed record WhenConfig
{
    /// <summary>The event that starts the job; <c>{Startup, global}</c> by default and for periodic jobs.</summary>
    public Event Trigger { get; init; } = Event.GlobalStartup;
    /// <summary>Starts the trigger gives: 1 (default, <c>once</c>, interval), -1 unlimited (<c>each</c>, signals), 0 (source without once/each: never).</summary>
    public int StartsLimit { get; init; } = 1;
    /// <summary>Set for periodic jobs (<c>when.interval</c>).</summary>
    public TimeSpan? Interval { get; init; }
    /// <summary><c>when.timeout</c>: give up waiting for the trigger after this long.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>True when written with <c>each</c> (affects <c>restarts: unlimited</c> validation).</summary>
    public bool IsEach { get; init; }
    /// <summary>Pilot extension <c>when.cron</c> (issue 17): a periodic job run at the schedule's times instead of every <see cref="Interval"/>.</summary>
    public CronSchedule? Cron { get; init; }

    /// <summary>Run by its own timer (<c>interval</c> or <c>cron</c>): each tick starts it, its exits never restart it.</summary>
    public bool IsPeriodic => Interval is not null || Cron is not null;
}

public sealed record HealthConfig
{
    public CommandSpec? Exec { get; init; }
    // Pilot extensions (issue 17): network checks, no process spawned. At most one of Exec, Http, Tcp is set.
    /// <summary><c>health.http</c> with <c>health.status</c>: an HTTP GET whose status must fall in the range.</summary>
    public HttpCheckConfig? Http { get; init; }
    /// <summary><c>health.tcp</c>: a TCP connect to <c>host:port</c>.</summary>
    public TcpCheckConfig? Tcp { get; init; }
    public TimeSpan Interval { get; init; }
    public int TtlSeconds { get; init; }
    /// <summary>Check timeout; defaults to <see cref="Interval"/>; null = none (0 or negative in the file).</summary>
    public TimeSpan? Timeout { get; init; }
    public bool RawLogging { get; init; }
    /// <summary>
    /// Pilot extension <c>health.notify</c> (issue 27): the job gets <c>NOTIFY_SOCKET</c> and says itself when it is
    /// ready (<c>READY=1</c>); <c>WATCHDOG=1</c> within <see cref="TtlSeconds"/> keeps it healthy once it sends one.
    /// </summary>
    public bool Notify { get; init; }

    /// <summary>What the check runs: <c>exec</c>, <c>http</c>, <c>tcp</c>, or null (TTL heartbeats only, as v3 without <c>exec</c>).</summary>
    public string? Kind => Exec is not null ? "exec" : Http is not null ? "http" : Tcp is not null ? "tcp" : null;
}

public sealed record JobConsulConfig
{
    public bool EnableTagOverride { get; init; }
    /// <summary>Verbatim Go duration sent to Consul, e.g. <c>"10m"</c>.</summary>
    public string DeregisterCriticalServiceAfter { get; init; } = "";
}

public sealed record JobConfig
{
    public required string Name { get; init; }
    public CommandSpec? Exec { get; init; }
    public WhenConfig When { get; init; } = new();
    /// <summary>Per-run limit: SIGKILL the run after this long. Periodic jobs default to the interval.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>The job's own <c>stopTimeout</c>; null (or 0) = the global one, applied when the job stops (see <see cref="StopTimeouts.For"/>).</summary>
    public TimeSpan? StopTimeout { get; init; }
    /// <summary>Restart limit: -1 unlimited, 0 never, N.</summary>
    public int Restarts { get; init; }
    public HealthConfig? Health { get; init; }
    public int Port { get; init; }
    /// <summary><c>passing</c>, <c>warning</c>, <c>critical</c> or null.</summary>
    public string? InitialStatus { get; init; }
    public ImmutableArray<string> Tags { get; init; } = [];
    public ImmutableArray<string> Interfaces { get; init; } = Validation.V3Rules.DefaultInterfaces;
    public JobConsulConfig? Consul { get; init; }
    public bool RawLogging { get; init; }
    /// <summary>Pilot extension (issue 17): job <c>user</c> / <c>group</c>, for the job and its exec health check; null = Pilot's own.</summary>
    public RunAs? RunAs { get; init; }

    // Pilot extensions of the job's life (LifecycleConfig.cs); each default is v3's behaviour.
    public RestartBackoffConfig? RestartBackoff { get; init; }
    public int StopSignal { get; init; } = Processes.SignalNames.SIGTERM;
    public ExitAction OnSuccess { get; init; }
    public ExitAction OnFailure { get; init; }

    public bool IsService => Port != 0;
    /// <summary>The telemetry service job has this name: no exec, always healthy.</summary>
    public const string TelemetryJobName = "containerpilot";
    public const int UnlimitedRestarts = -1;

    /// <summary>Structural equality for reload: a job whose config is unchanged keeps running.</summary>
    public bool Equals(JobConfig? other) =>
        other is not null && Name == other.Name && Equals(Exec, other.Exec) && When == other.When
        && Timeout == other.Timeout && StopTimeout == other.StopTimeout && Restarts == other.Restarts
        && Health == other.Health && Port == other.Port && InitialStatus == other.InitialStatus
        && Tags.SequenceEqual(other.Tags) && Interfaces.SequenceEqual(other.Interfaces)
        && Consul == other.Consul && RawLogging == other.RawLogging
        && RestartBackoff == other.RestartBackoff && StopSignal == other.StopSignal && OnSuccess == other.OnSuccess && OnFailure == other.OnFailure
        && RunAs == other.RunAs;

    public override int GetHashCode() => HashCode.Combine(Name, Exec, Port);
}

public sealed record WatchConfig
{
    public required string Name { get; init; }
    public TimeSpan Interval { get; init; }
    public string Tag { get; init; } = "";
    public string Dc { get; init; } = "";

    /// <summary>Event source name, <c>watch.NAME</c>.</summary>
    public string Source => "watch." + Name;
}

public enum MetricType { Counter, Gauge, Histogram, Summary }

public sealed record MetricConfig
{
    public string Namespace { get; init; } = "";
    public string Subsystem { get; init; } = "";
    public required string Name { get; init; }
    public required string Help { get; init; }
    public MetricType Type { get; init; }
    /// <summary>Histogram buckets (Pilot extension); null = Prometheus defaults.</summary>
    public ImmutableArray<double>? Buckets { get; init; }

    /// <summary>Prometheus name: non-empty parts joined with <c>_</c>.</summary>
    public string ExportedName => string.Join('_', new[] { Namespace, Subsystem, Name }.Where(p => p.Length > 0));
    /// <summary>v3's control-plane key: always <c>namespace_subsystem_name</c>, empty parts included.</summary>
    public string V3Key => $"{Namespace}_{Subsystem}_{Name}";
}

public sealed record TelemetryConfig
{
    public int Port { get; init; } = 9090;
    public ImmutableArray<string> Interfaces { get; init; } = Validation.V3Rules.DefaultInterfaces;
    public ImmutableArray<string> Tags { get; init; } = [];
    public ImmutableArray<MetricConfig> Metrics { get; init; } = [];
}
