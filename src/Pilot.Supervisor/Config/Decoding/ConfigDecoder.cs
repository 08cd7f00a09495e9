using Pilot.Supervisor.Config.Json5;

namespace Pilot.Supervisor.Config.Decoding;

/// <summary>
/// JSON5 tree → <see cref="RawConfig"/>, as v3's decode step: exact top-level keys, then mapstructure rules per
/// section (case-insensitive keys, weak typing, unknown keys rejected). Values keep their lines for later errors.
/// </summary>
internal static partial class ConfigDecoder
{
    private static readonly string[] TopLevelKeys = ["consul", "logging", "control", "stopTimeout", "jobs", "watches", "telemetry", ShutdownOrderKey];
    private static readonly string[] ConsulKeys = ["address", "scheme", "token", "tls"];
    private static readonly string[] TlsKeys = ["cafile", "capath", "clientcert", "clientkey", "servername", "verify"];
    private static readonly string[] JobKeys =
        ["name", "exec", "port", "initial_status", "interfaces", "tags", "consul", "health", "timeout", "restarts", "stopTimeout", "when", "logging",
         // Pilot's lifecycle extensions (ConfigDecoder.Lifecycle.cs).
         "restartBackoff", "stopSignal", "onSuccess", "onFailure",
        // Pilot's run-as (RunAsRules).
        "user", "group"];

    /// <summary>Job keys v3 silently accepts because they match its private fields.</summary>
    private static readonly string[] JobPrivateKeys =
    [
        "serviceDefinition", "healthCheckExec", "heartbeatInterval", "ttl", "execTimeout", "stoppingTimeout",
        "restartLimit", "freqInterval", "whenEvent", "whenTimeout", "whenStartsLimit", "stoppingWaitEvent",
    ];

    /// <summary>Pilot's network health checks (issue 17); declared before <see cref="HealthKeys"/>, which includes them.</summary>
    private static readonly string[] NetworkCheckKeys = ["http", "status", "tcp"];
    private static readonly string[] HealthKeys = ["exec", "interval", "ttl", "timeout", "logging", .. NetworkCheckKeys, NotifyKey];
    /// <summary>Pilot's readiness from the process (sd_notify, issue 27), validated in NotifyRules.</summary>
    private const string NotifyKey = "notify";
    private static readonly string[] WhenKeys = ["interval", "source", "once", "each", "timeout", "cron"];
    private static readonly string[] JobConsulKeys = ["enableTagOverride", "deregisterCriticalServiceAfter"];
    private static readonly string[] WatchKeys = ["name", "interval", "tag", "dc"];
    private static readonly string[] TelemetryKeys = ["port", "interfaces", "tags", "metrics"];
    private static readonly string[] MetricKeys = ["namespace", "subsystem", "name", "help", "type", "buckets"];

    public static RawConfig? Decode(Json5Node root, DecodeContext context)
    {
        if (root is Json5Null)
        {
            // Go's json decodes `null` into a map as an empty map: a config with nothing set.
            root = new Json5Object([], root.Line, root.Column);
        }
        if (root is not Json5Object top)
        {
            context.Error("", $"could not parse configuration: json: cannot unmarshal {JsonKind(root)} into Go value of type map[string]interface {{}}", root.Line);
            return null;
        }
        foreach (var unknown in top.Properties.Where(p => !TopLevelKeys.Contains(p.Key, StringComparer.Ordinal)))
        {
            context.Error(unknown.Key, $"unknown config keys: [{unknown.Key}]" + ObjectReader.DidYouMean(unknown.Key, TopLevelKeys), unknown.Line);
        }
        var known = new Json5Object([.. top.Properties.Where(p => TopLevelKeys.Contains(p.Key, StringComparer.Ordinal))], top.Line, top.Column);
        var reader = new ObjectReader(known, "", "", context, TopLevelKeys, sectionRoot: true);
        return new RawConfig
        {
            Consul = DecodeConsul(reader, context),
            LoggingRaw = DecodeLogging(reader),
            Control = DecodeControl(reader),
            StopTimeout = reader.Int("stopTimeout"),
            Jobs = DecodeList(reader, "jobs", context, (item, index) => DecodeJob(item, index, context)),
            Watches = DecodeList(reader, "watches", context, (item, index) => DecodeWatch(item, index, context)),
            WatchesLine = reader.LineOf("watches"),
            Telemetry = DecodeTelemetry(reader),
            ShutdownOrder = reader.String(ShutdownOrderKey),
            ShutdownOrderLine = reader.LineOf(ShutdownOrderKey),
        };
    }

    /// <summary>The JSON type name Go's json package puts in an unmarshal error.</summary>
    private static string JsonKind(Json5Node node) => node switch
    {
        Json5Array => "array",
        Json5Number => "number",
        _ => ObjectReader.GoKind(node),
    };

    /// <summary>v3's ToSlice: an array gives its non-null items; anything else counts as absent (with a warning).</summary>
    private static List<T> DecodeList<T>(ObjectReader reader, string key, DecodeContext context, Func<ObjectReader, int, T> decode)
    {
        var result = new List<T>();
        var value = reader.Raw(key);
        if (value is null)
        {
            return result;
        }
        if (value is not Json5Array array)
        {
            context.Warnings.Add($"{key} (line {value.Line}): is not an array, so it is ignored (as ContainerPilot v3 does)");
            return result;
        }
        for (var i = 0; i < array.Items.Count; i++)
        {
            switch (array.Items[i])
            {
                case Json5Null:
                    continue;
                case Json5Object item:
                    result.Add(decode(new ObjectReader(item, $"[{i}]", $"{key}[{i}]", context, KeysFor(key), key == "jobs" ? JobPrivateKeys : null), i));
                    break;
                default:
                    context.Error($"{key}[{i}]", $"'[{i}]' expected a map, got '{ObjectReader.GoKind(array.Items[i])}'", array.Items[i].Line);
                    break;
            }
        }
        return result;
    }

    private static string[] KeysFor(string list) => list == "jobs" ? JobKeys : WatchKeys;

    private static RawConsul? DecodeConsul(ObjectReader top, DecodeContext context)
    {
        var value = top.Raw("consul");
        switch (value)
        {
            case null:
                return null;
            case Json5String s:
                return new RawConsul { Path = "consul", Line = s.Line, IsStringForm = true, Address = s.Value };
            case Json5Object:
                var reader = top.Object("consul", ConsulKeys)!;
                var tls = reader.Object("tls", TlsKeys);
                return new RawConsul
                {
                    Path = "consul",
                    Line = reader.Line,
                    Address = reader.String("address") ?? "",
                    Scheme = reader.String("scheme") ?? "",
                    Token = reader.String("token") ?? "",
                    CaFile = tls?.String("cafile") ?? "",
                    CaPath = tls?.String("capath") ?? "",
                    ClientCert = tls?.String("clientcert") ?? "",
                    ClientKey = tls?.String("clientkey") ?? "",
                    ServerName = tls?.String("servername") ?? "",
                    Verify = tls?.Bool("verify") ?? false,
                };
            default:
                context.Error("consul", "no discovery backend defined", value.Line);
                return null;
        }
    }

    private static RawLogging? DecodeLogging(ObjectReader top)
    {
        // keepLines is Pilot's: the recent output lines kept per job and health check for `pilot logs`.
        var reader = top.Object("logging", ["level", "format", "output", "keepLines"]);
        return reader is null ? null : new RawLogging
        {
            Path = "logging",
            Line = reader.Line,
            Level = reader.String("level"),
            Format = reader.String("format"),
            Output = reader.String("output"),
            KeepLines = reader.Int("keepLines"),
            Lines = Lines(reader, "level", "format", "output", "keepLines"),
        };
    }

    private static RawControl? DecodeControl(ObjectReader top)
    {
        var reader = top.Object("control", ["socket", "mode"]);
        return reader is null ? null : new RawControl
        {
            Path = "control",
            Line = reader.Line,
            Socket = reader.String("socket"),
            Mode = reader.String("mode"),
            Lines = Lines(reader, "socket", "mode"),
        };
    }

    private static RawJob DecodeJob(ObjectReader job, int index, DecodeContext context)
    {
        var health = job.Object("health", HealthKeys);
        var when = job.Object("when", WhenKeys);
        var consul = job.Object("consul", JobConsulKeys);
        var logging = job.Object("logging", ["raw"]);
        var healthLogging = health?.Object("logging", ["raw"]);
        var lines = Lines(job, JobKeys);
        AddLines(lines, "health.", health, HealthKeys);
        AddLines(lines, "when.", when, WhenKeys);
        AddLines(lines, "consul.", consul, JobConsulKeys);
        var lifecycle = DecodeLifecycle(job, lines);
        return new RawJob
        {
            Path = job.Path,
            Line = job.Line,
            Index = index,
            Lines = lines,
            Name = job.String("name") ?? "",
            Exec = job.Raw("exec"),
            Port = job.Int("port") ?? 0,
            InitialStatus = job.String("initial_status") ?? "",
            Interfaces = job.Raw("interfaces"),
            Tags = job.StringArray("tags"),
            Consul = consul is null ? null : new RawJobConsul
            {
                EnableTagOverride = consul.Bool("enableTagOverride") ?? false,
                DeregisterCriticalServiceAfter = consul.String("deregisterCriticalServiceAfter") ?? "",
            },
            Health = health is null ? null : new RawHealth
            {
                Exec = health.Raw("exec"),
                Interval = health.Int("interval") ?? 0,
                Ttl = health.Int("ttl") ?? 0,
                Timeout = RawDuration.Parse(health.String("timeout")),
                RawLogging = healthLogging?.Bool("raw") ?? false,
                Http = health.String("http"),
                Status = health.Raw("status"),
                Tcp = health.String("tcp"),
                Notify = health.Raw(NotifyKey),
            },
            Timeout = RawDuration.Parse(job.String("timeout")),
            Restarts = job.Raw("restarts"),
            StopTimeout = RawDuration.Parse(job.String("stopTimeout")),
            When = when is null ? null : new RawWhen
            {
                Interval = RawDuration.Parse(when.String("interval")),
                Source = when.String("source") ?? "",
                Once = when.String("once") ?? "",
                Each = when.String("each") ?? "",
                Timeout = RawDuration.Parse(when.String("timeout")),
                Cron = when.String("cron") ?? "",
                IsEmpty = when.Node.Properties.Count == 0,
            },
            RawLogging = logging?.Bool("raw") ?? false,
            Lifecycle = lifecycle,
            User = job.String("user"),
            Group = job.String("group"),
        };
    }

    private static RawWatch DecodeWatch(ObjectReader watch, int index, DecodeContext context) => new()
    {
        Path = watch.Path,
        Line = watch.Line,
        Index = index,
        Lines = Lines(watch, WatchKeys),
        Name = watch.String("name") ?? "",
        Interval = watch.Int("interval") ?? 0,
        Tag = watch.String("tag") ?? "",
        Dc = watch.String("dc") ?? "",
    };

    private static RawTelemetry? DecodeTelemetry(ObjectReader top)
    {
        var telemetry = top.Object("telemetry", TelemetryKeys);
        if (telemetry is null)
        {
            return null;
        }
        var metrics = new List<RawMetric>();
        var items = telemetry.Array("metrics") ?? [];
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is not Json5Object item)
            {
                if (items[i] is not Json5Null)
                {
                    ContextOf(telemetry).Error($"telemetry.metrics[{i}]", $"'[{i}]' expected a map, got '{ObjectReader.GoKind(items[i])}'", items[i].Line);
                }
                continue;
            }
            // v3 decodes the metrics list on its own: its messages name an item `[0]`.
            var metric = new ObjectReader(item, $"[{i}]", $"telemetry.metrics[{i}]", ContextOf(telemetry), MetricKeys);
            metrics.Add(new RawMetric
            {
                Path = metric.Path,
                Line = metric.Line,
                Index = i,
                Lines = Lines(metric, MetricKeys),
                Namespace = metric.String("namespace") ?? "",
                Subsystem = metric.String("subsystem") ?? "",
                Name = metric.String("name") ?? "",
                Help = metric.String("help") ?? "",
                Type = metric.String("type") ?? "",
                Buckets = metric.Array("buckets")?.OfType<Json5Number>().Select(n => n.Value).ToList(),
            });
        }
        return new RawTelemetry
        {
            Path = "telemetry",
            Line = telemetry.Line,
            Lines = Lines(telemetry, TelemetryKeys),
            Port = telemetry.Int("port") ?? 9090,
            Interfaces = telemetry.StringArray("interfaces"),
            Tags = telemetry.StringArray("tags") ?? [],
            Metrics = metrics,
        };
    }

    private static DecodeContext ContextOf(ObjectReader reader) => reader.Context;

    private static Dictionary<string, int> Lines(ObjectReader reader, params string[] keys)
    {
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        AddLines(lines, "", reader, keys);
        return lines;
    }

    private static void AddLines(Dictionary<string, int> lines, string prefix, ObjectReader? reader, string[] keys)
    {
        if (reader is null)
        {
            return;
        }
        lines[prefix.TrimEnd('.')] = reader.Line;
        foreach (var key in keys.Where(reader.Has))
        {
            lines[prefix + key] = reader.LineOf(key);
        }
    }
}
