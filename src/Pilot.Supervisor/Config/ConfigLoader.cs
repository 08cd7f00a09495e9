using System.Collections.Immutable;
using System.Globalization;
using FluentValidation;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Config.Json5;
using Pilot.Supervisor.Config.Templates;
using Pilot.Supervisor.Config.Validation;
using Pilot.Supervisor.Events;

namespace Pilot.Supervisor.Config;

/// <summary>One problem in a config: where (<c>jobs[2].when.interval</c>, and the file line when known) and what.</summary>
public sealed record ConfigError(string Path, string Message, int? Line = null)
{
    /// <summary><c>path: message (line N)</c>; for a multi-line message (a syntax error excerpt) the line goes on its first line.</summary>
    public override string ToString()
    {
        var at = Line is { } line ? $" (line {line})" : "";
        var newline = Message.IndexOf('\n', StringComparison.Ordinal);
        var message = newline < 0 ? Message + at : Message[..newline] + at + Message[newline..];
        return (Path.Length == 0 ? "" : Path + ": ") + message;
    }
}

/// <summary>The outcome of loading a config: either a config (maybe with warnings) or every error found.</summary>
public sealed record ConfigResult(PilotConfig? Config, ImmutableArray<ConfigError> Errors)
{
    public bool IsValid => Config is not null && Errors.IsEmpty;

    /// <summary>Every warning found, also when the config has errors (so <c>-validate</c> prints both at once).</summary>
    public ImmutableArray<string> Warnings { get; init; } = [];
}

/// <summary>File → template → JSON5 → records → validation, as ContainerPilot v3 reads a config.</summary>
public static class ConfigLoader
{
    // Validators are created once and registered explicitly: no assembly scanning (Native AOT).
    private static readonly JobValidator Jobs = new();
    private static readonly WatchValidator Watches = new();
    private static readonly MetricValidator Metrics = new();
    private static readonly LoggingValidator Logging = new();
    private static readonly ControlValidator Control = new();
    private static readonly LifecycleValidator Lifecycle = new();

    /// <summary>Renders the config text as a Go template with the environment (for <c>-template</c>).</summary>
    /// <exception cref="TemplateException">with v3's <c>could not apply template to config</c> wording.</exception>
    public static string Render(string text, IReadOnlyDictionary<string, string> environment)
    {
        try
        {
            return GoTemplate.Render(text, environment, environment);
        }
        catch (TemplateException ex)
        {
            throw new TemplateException($"could not apply template to config: {ex.Message}");
        }
    }

    /// <summary>Reads the file at <paramref name="path"/> then <see cref="Parse"/>; a read failure is an error, not an exception.</summary>
    public static ConfigResult LoadFile(string path, IReadOnlyDictionary<string, string> environment)
    {
        var (text, error) = ReadFile(path);
        return text is null ? Failed(new ConfigError("", $"could not read config file: {error}")) : Parse(text, environment);
    }

    /// <summary>
    /// The file's text, or why it cannot be read in Go's words as v3 prints them (<c>open /x: no such file or directory</c>,
    /// <c>read /tmp: is a directory</c>, <c>open /x: permission denied</c>), never .NET exception text.
    /// </summary>
    public static (string? Text, string? Error) ReadFile(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                return (null, $"read {path}: is a directory");
            }
            return (File.ReadAllText(path), null);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, $"open {path}: no such file or directory");
        }
        catch (UnauthorizedAccessException)
        {
            return (null, $"open {path}: permission denied");
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or NotSupportedException)
        {
            return (null, $"read {path}: {ex.Message}");
        }
    }

    /// <summary>Renders, parses and validates config text. Never throws for bad input.</summary>
    public static ConfigResult Parse(string text, IReadOnlyDictionary<string, string> environment)
    {
        string rendered;
        try
        {
            rendered = Render(text, environment);
        }
        catch (TemplateException ex)
        {
            return Failed(new ConfigError("", ex.Message));
        }
        Json5Node root;
        try
        {
            root = Json5Reader.Parse(rendered);
        }
        catch (Json5SyntaxException ex)
        {
            return Failed(new ConfigError("", SyntaxMessage(rendered, ex), ex.Line));
        }
        var context = new DecodeContext();
        var raw = ConfigDecoder.Decode(root, context);
        var errors = new List<ConfigError>(context.Errors);
        if (raw is null)
        {
            return new ConfigResult(null, [.. errors]);
        }
        errors.AddRange(Validate(raw));
        var (config, planErrors) = Plan(raw, environment, context.Warnings);
        errors.AddRange(planErrors);
        // Errors in file order, so the first one a user reads is the first in the file.
        var ordered = errors.Distinct().OrderBy(e => e.Line ?? 0).ToImmutableArray();
        var warnings = config?.Warnings ?? [.. context.Warnings];
        return ordered.IsEmpty
            ? new ConfigResult(config! with { LoadedJson = Json5Json.Write(root) }, []) { Warnings = warnings }
            : new ConfigResult(null, ordered) { Warnings = warnings };
    }

    /// <summary>
    /// Only <c>control.socket</c> of the file at <paramref name="path"/>, read leniently — rendered and parsed as JSON5,
    /// nothing else decoded or validated — for Pilot's own client commands while the file has errors elsewhere (the
    /// running Pilot keeps its config). Absent → the default socket, as a full load gives. Otherwise the reason.
    /// </summary>
    public static (string? Socket, string? Error) ReadControlSocket(string path, IReadOnlyDictionary<string, string> environment)
    {
        var (text, readError) = ReadFile(path);
        if (text is null)
        {
            return (null, $"could not read config file: {readError}");
        }
        Json5Node root;
        try
        {
            root = Json5Reader.Parse(Render(text, environment));
        }
        catch (TemplateException ex)
        {
            return (null, ex.Message);
        }
        catch (Json5SyntaxException ex)
        {
            return (null, $"the config is not valid JSON5 (line {ex.Line}): {ex.Message}");
        }
        var control = (root as Json5Object)?.Properties.LastOrDefault(p => p.Key.Equals("control", StringComparison.OrdinalIgnoreCase))?.Value;
        if (control is null or Json5Null)
        {
            return (ControlConfig.DefaultSocketPath, null);
        }
        if (control is not Json5Object controlObject)
        {
            return (null, $"control: not an object (line {control.Line})");
        }
        var socket = controlObject.Properties.LastOrDefault(p => p.Key.Equals("socket", StringComparison.OrdinalIgnoreCase))?.Value;
        return socket switch
        {
            null or Json5Null => (ControlConfig.DefaultSocketPath, null),
            Json5String { Value.Length: > 0 } named => (ControlValidator.AbsoluteSocketPath(named.Value), null),
            _ => (null, $"control.socket: not a socket path (line {socket.Line})"),
        };
    }

    private static ConfigResult Failed(ConfigError error) => new(null, [error]);

    /// <summary>v3's syntax error text: position, the previous and failing lines, and a caret under the column.</summary>
    private static string SyntaxMessage(string text, Json5SyntaxException ex)
    {
        var lines = text.Split('\n');
        var excerpt = new System.Text.StringBuilder();
        if (ex.Line >= 2)
        {
            excerpt.Append(CultureInfo.InvariantCulture, $"{ex.Line - 1,5}: {lines[ex.Line - 2]}\n");
        }
        if (ex.Line - 1 < lines.Length)
        {
            excerpt.Append(CultureInfo.InvariantCulture, $"{ex.Line,5}: {lines[ex.Line - 1]}\n");
        }
        excerpt.Append(ex.Column > 0 ? new string('-', 7 + ex.Column - 1) + "^" : "Do you have an extra comma somewhere?");
        return $"parse error at line:col [{ex.Line}:{ex.Column}]: {ex.Message}\n{excerpt}";
    }

    private static IEnumerable<ConfigError> Validate(RawConfig raw)
    {
        var failures = raw.Jobs.SelectMany(j => Jobs.Validate(j).Errors)
            .Concat(raw.Watches.SelectMany(w => Watches.Validate(w).Errors))
            .Concat(raw.Telemetry?.Metrics.SelectMany(m => Metrics.Validate(m).Errors) ?? [])
            .Concat(raw.LoggingRaw is { } logging ? Logging.Validate(logging).Errors : [])
            .Concat(raw.Control is { } control ? Control.Validate(control).Errors : [])
            .Concat(raw.Jobs.SelectMany(j => Lifecycle.Validate(j).Errors));
        return failures.Select(f => f.ToConfigError()).Concat(LifecycleValidator.ShutdownOrderErrors(raw));
    }

    /// <summary>Builds the immutable config from validated raw values; adds the checks that span sections.</summary>
    private static (PilotConfig? Config, List<ConfigError> Errors) Plan(RawConfig raw, IReadOnlyDictionary<string, string> environment, List<string> warnings)
    {
        var errors = new List<ConfigError>();
        ConsulConfig? consul = null;
        if (raw.Consul is { } rawConsul)
        {
            var (resolved, error) = V3Rules.ResolveConsul(rawConsul, environment);
            if (error is not null)
            {
                errors.Add(new ConfigError("consul", error, rawConsul.Line));
            }
            consul = resolved;
            if (resolved is { Scheme: "https" } && TlsLibrary.Unavailable is { } noTls)
            {
                errors.Add(new ConfigError("consul", $"consul: https://{resolved.Address} needs TLS, and {noTls}", rawConsul.Line));
            }
            if (resolved is not null && Discovery.Consul.ConsulClient.TlsMaterialError(resolved.Tls, parse: TlsLibrary.Unavailable is null) is { } tlsError)
            {
                errors.Add(new ConfigError("consul", tlsError, rawConsul.Line));
            }
        }
        if (consul is null && raw.Watches.Count > 0)
        {
            errors.Add(new ConfigError("watches", "watches need a consul section: there is no Consul agent to watch", raw.WatchesLine));
        }
        // ControlValidator has checked both keys.
        var control = new ControlConfig();
        if (raw.Control?.Socket is { } socket)
        {
            control = control with { SocketPath = ControlValidator.AbsoluteSocketPath(socket) };
        }
        if (raw.Control?.Mode is { } mode && ControlValidator.ParseMode(mode) is { } socketMode)
        {
            control = control with { SocketMode = socketMode };
        }
        if (raw.StopTimeout is { } globalStop && V3Rules.TimerTooLong("stopTimeout", globalStop.ToString(CultureInfo.InvariantCulture), V3Rules.Seconds(globalStop)) is { } longStop)
        {
            errors.Add(new ConfigError("stopTimeout", longStop));
        }
        if (raw.Telemetry is { } rawTelemetry && rawTelemetry.Port is < 0 or > 65535)
        {
            errors.Add(new ConfigError("telemetry.port", $"telemetry validation error: invalid port {rawTelemetry.Port}: a port is 0 to 65535", rawTelemetry.LineOf("port")));
        }
        var jobs = raw.Jobs.Select(BuildJob).ToImmutableArray();
        jobs = ResolveRunAs(raw, jobs, errors);
        errors.AddRange(MachineChecks.InterfaceErrors(raw, jobs));
        var config = new PilotConfig
        {
            Consul = consul,
            Logging = BuildLogging(raw.LoggingRaw),
            Control = control,
            StopTimeout = StopTimeouts.Global(raw.StopTimeout),
            Jobs = jobs,
            Watches = [.. raw.Watches.Select(w => new WatchConfig { Name = w.Name, Interval = V3Rules.Seconds(w.Interval), Tag = w.Tag, Dc = w.Dc })],
            Telemetry = BuildTelemetry(raw.Telemetry),
            ShutdownOrder = LifecyclePlan.Order(raw.ShutdownOrder),
        };
        warnings.AddRange(TriggerWarnings(raw, config));
        return (config with { Warnings = [.. warnings] }, errors);
    }

    private static LoggingConfig BuildLogging(RawLogging? raw)
    {
        if (raw is null)
        {
            return new LoggingConfig();
        }
        return new LoggingConfig
        {
            Level = (raw.Level ?? "info").ToLowerInvariant() switch
            {
                "debug" => LogLevel.Debug,
                "warn" or "warning" => LogLevel.Warn,
                "error" => LogLevel.Error,
                "fatal" => LogLevel.Fatal,
                "panic" => LogLevel.Panic,
                _ => LogLevel.Info,
            },
            Format = (raw.Format ?? "default").ToLowerInvariant() switch
            {
                "text" => LogFormat.Text,
                "json" => LogFormat.Json,
                _ => LogFormat.Default,
            },
            Output = raw.Output is { Length: > 0 } output ? output : "stdout",
            KeepLines = (int)(raw.KeepLines ?? LoggingConfig.DefaultKeepLines),
        };
    }

    private static JobConfig BuildJob(RawJob raw)
    {
        var when = BuildWhen(raw);
        // v3: a periodic job's run timeout defaults to its interval.
        var timeout = raw.Timeout.Value ?? when.Interval;
        HealthConfig? health = null;
        if (raw.Health is { } h)
        {
            var interval = V3Rules.Seconds(h.Interval);
            // v3: the check timeout defaults to the interval; 0 or negative means none.
            var checkTimeout = h.Timeout.IsSet ? h.Timeout.Value : interval;
            health = new HealthConfig
            {
                Exec = V3Rules.ParseArgs(h.Exec).Command,
                Http = h.Http is { } url && HealthCheckRules.HttpUrl(url).Url is { } uri
                    ? new HttpCheckConfig(uri, HealthCheckRules.Status(h.Status).Range ?? StatusRange.Default)
                    : null,
                Tcp = h.Tcp is { } tcp ? HealthCheckRules.TcpAddress(tcp).Address : null,
                Interval = interval,
                TtlSeconds = (int)Math.Clamp(h.Ttl, 0, int.MaxValue),
                Timeout = checkTimeout is { } ct && ct > TimeSpan.Zero ? ct : null,
                RawLogging = h.RawLogging,
                Notify = h.IsNotify,
            };
        }
        return LifecyclePlan.Apply(new JobConfig
        {
            Name = raw.Name,
            Exec = V3Rules.ParseArgs(raw.Exec).Command,
            When = when,
            Timeout = timeout,
            StopTimeout = raw.StopTimeout.Value,
            Restarts = V3Rules.Restarts(raw.Restarts, when.IsPeriodic, when.IsEach).Value ?? 0,
            Health = health,
            Port = (int)Math.Clamp(raw.Port, int.MinValue, int.MaxValue),
            InitialStatus = raw.InitialStatus.Length > 0 ? raw.InitialStatus : null,
            Tags = [.. raw.Tags ?? []],
            Interfaces = V3Rules.Interfaces(raw.Interfaces).Specs,
            Consul = raw.Consul is { } c ? new JobConsulConfig { EnableTagOverride = c.EnableTagOverride, DeregisterCriticalServiceAfter = c.DeregisterCriticalServiceAfter } : null,
            RawLogging = raw.RawLogging,
        }, raw.Lifecycle);
    }

    /// <summary>Job <c>user</c> / <c>group</c> against this machine's accounts (read once per load, only when a job has them).</summary>
    private static ImmutableArray<JobConfig> ResolveRunAs(RawConfig raw, ImmutableArray<JobConfig> jobs, List<ConfigError> errors)
    {
        if (raw.Jobs.All(j => j.User is null && j.Group is null))
        {
            return jobs;
        }
        var accounts = AccountDatabase.System();
        return [.. raw.Jobs.Zip(jobs, (rawJob, job) =>
        {
            var (runAs, runAsErrors) = RunAsRules.Resolve(rawJob, accounts);
            errors.AddRange(runAsErrors);
            return job with { RunAs = runAs };
        })];
    }

    /// <summary>v3's <c>when</c> resolution into one trigger and a start count (reference Part A §2, §3).</summary>
    private static WhenConfig BuildWhen(RawJob raw)
    {
        if (raw.When is not { } when)
        {
            return new WhenConfig();
        }
        var timeout = when.Timeout.Value;
        if (CronRules.IsSet(when) && CronSchedule.Parse(when.Cron).Schedule is { } cron)
        {
            return new WhenConfig { Cron = cron };
        }
        if (when.Interval.Value is { } interval)
        {
            return new WhenConfig { Interval = interval };
        }
        if (when.Source is "SIGHUP" or "SIGUSR2")
        {
            return new WhenConfig { Trigger = new Event(EventCode.Signal, when.Source), StartsLimit = -1, Timeout = timeout };
        }
        if (when.Once.Length > 0 && EventCodes.TryParse(when.Once, out var once))
        {
            return new WhenConfig { Trigger = new Event(once, when.Source), StartsLimit = 1, Timeout = timeout };
        }
        if (when.Each.Length > 0 && EventCodes.TryParse(when.Each, out var each))
        {
            return new WhenConfig { Trigger = new Event(each, when.Source), StartsLimit = -1, Timeout = timeout, IsEach = true };
        }
        // `when: {}` or a source with neither once nor each: v3 never starts the job.
        return new WhenConfig { Trigger = default, StartsLimit = 0, Timeout = timeout };
    }

    private static TelemetryConfig? BuildTelemetry(RawTelemetry? raw) => raw is null ? null : new TelemetryConfig
    {
        Port = (int)raw.Port,
        Interfaces = raw.Interfaces is { Count: > 0 } interfaces ? [.. interfaces] : V3Rules.DefaultInterfaces,
        Tags = [.. raw.Tags],
        Metrics = [.. raw.Metrics.Select(m => new MetricConfig
        {
            Namespace = m.Namespace,
            Subsystem = m.Subsystem,
            Name = m.Name,
            Help = m.Help,
            Type = m.Type switch { "gauge" => MetricType.Gauge, "histogram" => MetricType.Histogram, "summary" => MetricType.Summary, _ => MetricType.Counter },
            Buckets = m.Buckets is { Count: > 0 } buckets ? [.. buckets] : null,
        })],
    };

    /// <summary>Traps v3 accepts but that never fire, unknown sources, and cycles of `once` triggers.</summary>
    private static IEnumerable<string> TriggerWarnings(RawConfig raw, PilotConfig config)
    {
        var jobNames = config.Jobs.Select(j => j.Name).ToHashSet(StringComparer.Ordinal);
        var sources = jobNames
            .Concat(config.Jobs.Select(j => "check." + j.Name))
            .Concat(config.Watches.Select(w => w.Source))
            .Concat([Event.GlobalSource, "SIGHUP", "SIGUSR2"])
            .ToHashSet(StringComparer.Ordinal);
        if (config.Telemetry is not null)
        {
            sources.Add(JobConfig.TelemetryJobName);
        }
        foreach (var (job, rawJob) in config.Jobs.Zip(raw.Jobs))
        {
            var where = $"{rawJob.Path} (line {rawJob.LineOf("when")})";
            if (rawJob.When is { } when && !when.Interval.IsSet && !CronRules.IsSet(when) && when.Source is not ("SIGHUP" or "SIGUSR2"))
            {
                if (when.IsEmpty || (when.Once.Length == 0 && when.Each.Length == 0))
                {
                    yield return $"{where}: job[{job.Name}].when has no 'once' or 'each', so the job never starts";
                }
                else if (when.Source.Length == 0)
                {
                    yield return $"{where}: job[{job.Name}].when has no 'source', so it waits for an event from \"\" that never comes (did you mean source: \"global\"?)";
                }
                else if (!sources.Contains(when.Source))
                {
                    yield return $"{where}: job[{job.Name}].when.source: \"{when.Source}\" is not a job, a watch or a known event";
                }
                else if ((when.Once.Length > 0 ? when.Once : when.Each) is "healthy" or "unhealthy" && jobNames.Contains(when.Source)
                    && config.Jobs.Where(j => j.Name == when.Source).All(j => j.Health?.Kind is null && j.Health?.Notify != true))
                {
                    // A job publishes healthy/unhealthy only from check results (health.exec, http or tcp) or its notify socket.
                    var eventName = when.Once.Length > 0 ? when.Once : when.Each;
                    yield return $"{where}: job[{job.Name}].when waits for \"{eventName}\" from \"{when.Source}\", which has no health check "
                        + "(health.exec, health.http or health.tcp) and no health.notify, so that event never comes";
                }
            }
        }
        foreach (var cycle in OnceCycles(config.Jobs))
        {
            yield return $"jobs: the jobs {string.Join(" → ", cycle)} each wait once for another in a cycle, so none of them can start";
        }
    }

    /// <summary>Cycles in the graph job → job it waits for (once), found by DFS; each cycle reported once.</summary>
    private static IEnumerable<List<string>> OnceCycles(ImmutableArray<JobConfig> jobs)
    {
        // Names may repeat (v3 does not check): a name waits only if every job of that name waits.
        static bool WaitsOnce(JobConfig j) => j.When.StartsLimit == 1 && j.When.Trigger.Source != Event.GlobalSource && !j.When.IsPeriodic;
        var waitsFor = jobs
            .GroupBy(j => j.Name, StringComparer.Ordinal)
            .Where(g => g.All(WaitsOnce))
            .ToDictionary(g => g.Key, g => g.First().When.Trigger.Source, StringComparer.Ordinal);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in waitsFor.Keys)
        {
            var path = new List<string>();
            var current = start;
            while (waitsFor.TryGetValue(current, out var next) && !path.Contains(current))
            {
                path.Add(current);
                current = next;
            }
            if (current == start && path.Count > 0 && path.All(reported.Add))
            {
                yield return [.. path, start];
            }
        }
    }
}
