using System.Collections.Immutable;
using System.Net;
using System.Text.RegularExpressions;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Config.Json5;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>ContainerPilot v3's value rules (commands, names, durations, interfaces, restarts), each a pure function.</summary>
internal static partial class V3Rules
{
    public static readonly ImmutableArray<string> DefaultInterfaces = ["eth0:inet", "inet"];

    [GeneratedRegex(@"^[a-z][a-zA-Z0-9\-]+$")]
    private static partial Regex ServiceName();

    [GeneratedRegex(@"^\w+$")]
    private static partial Regex InterfaceName();

    [GeneratedRegex(@"^(\w+)\[(\d+)\]$")]
    private static partial Regex InterfaceIndex();

    [GeneratedRegex(@"^[a-zA-Z_][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    /// <summary>v3 <c>commands.ParseArgs</c>: string split on single spaces, or an array; null = no command.</summary>
    public static (CommandSpec? Command, string? Error) ParseArgs(Json5Node? exec)
    {
        switch (exec)
        {
            case null:
                return (null, null);
            case Json5String s when s.Value.Length > 0:
                var parts = s.Value.Trim().Split(' ');
                return (new CommandSpec(parts[0], [.. parts.Skip(1)]), null);
            case Json5Array { Items.Count: > 0 } array:
                var items = array.Items.Select(i => i.GoFormat()).ToList();
                return (new CommandSpec(items[0], [.. items.Skip(1)]), null);
            default:
                return (null, "received zero-length argument");
        }
    }

    /// <summary>
    /// The longest delay a .NET timer can be armed with (2³² − 2 ms, about 49.7 days). v3's Go timers went to 290
    /// years; a longer value here would throw when the timer is set, so it is refused at load instead.
    /// </summary>
    public static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>An error when <paramref name="value"/> is longer than <see cref="LongestTimer"/>; <paramref name="what"/> names the field v3-style.</summary>
    public static string? TimerTooLong(string what, string text, TimeSpan? value) =>
        value > LongestTimer ? $"{what} '{text}' cannot be more than {GoDuration.Format(LongestTimer)}, the longest timer Pilot can set" : null;

    /// <summary>Whole seconds as a duration, saturating instead of overflowing (a validation rule reports the excess).</summary>
    public static TimeSpan Seconds(long seconds) =>
        seconds >= (long)TimeSpan.MaxValue.TotalSeconds ? TimeSpan.MaxValue : TimeSpan.FromSeconds(Math.Max(0, seconds));

    public static string? ServiceNameError(string name) =>
        name.Length == 0 ? "'name' must not be blank"
        : !ServiceName().IsMatch(name) ? "service names must be alphanumeric with dashes to comply with service discovery"
        : null;

    /// <summary>v3 <c>ToStrings</c> for <c>interfaces</c>: a string or an array (non-strings printed with %v).</summary>
    public static (ImmutableArray<string> Specs, string? Error) Interfaces(Json5Node? node) => node switch
    {
        null => (DefaultInterfaces, null),
        Json5String s => ([s.Value], null),
        Json5Array { Items.Count: 0 } => (DefaultInterfaces, null),
        Json5Array a => ([.. a.Items.Select(i => i.GoFormat())], null),
        _ => ([], $"unexpected argument type: {node.GoTypeName}"),
    };

    /// <summary>Syntax of one interface spec (whether it exists on this machine is checked when registering).</summary>
    public static string? InterfaceSpecError(string spec)
    {
        if (spec is "inet" or "inet6")
        {
            return null;
        }
        if (spec.StartsWith("static:", StringComparison.Ordinal))
        {
            var ip = spec["static:".Length..];
            return int.TryParse(ip, out _) ? $"Unable to parse interface spec: {spec}"
                : IPAddress.TryParse(ip, out _) ? null
                : $"Unable to parse static ip static: in {spec}";
        }
        if (spec.Contains('/', StringComparison.Ordinal))
        {
            return IPNetwork.TryParse(spec, out _) ? null : $"Unable to parse interface spec: {spec}";
        }
        if (InterfaceIndex().Match(spec) is { Success: true } indexed)
        {
            return int.TryParse(indexed.Groups[2].Value, out _) ? null : $"Unable to parse index {indexed.Groups[2].Value} in {spec}";
        }
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? spec : spec[..colon];
        var family = colon < 0 ? "inet" : spec[(colon + 1)..];
        return InterfaceName().IsMatch(name) && family is "inet" or "inet6" ? null : $"Unable to parse interface spec: {spec}";
    }

    /// <summary>v3 restarts: <c>"unlimited"</c> → -1, <c>"never"</c> → 0, a non-negative number; else the error text.</summary>
    public static (int? Value, string? Error) Restarts(Json5Node? node, bool isPeriodic, bool isEach)
    {
        const string Accepts = "accepts positive integers, \"unlimited\", or \"never\"";
        switch (node)
        {
            case null:
                return (isPeriodic ? JobConfig.UnlimitedRestarts : 0, null);
            case Json5String { Value: "unlimited" }:
                return isEach
                    ? (null, "may not be used when 'job.when.each' is set because it may result in infinite processes")
                    : (JobConfig.UnlimitedRestarts, null);
            case Json5String { Value: "never" }:
                return (0, null);
            case Json5String s:
                return GoStrconv.TryAtoi(s.Value, out var parsed) && parsed >= 0 && parsed <= int.MaxValue ? ((int)parsed, null) : (null, Accepts);
            case Json5Number n:
                return n.Value < 0 ? (null, "number must be positive integer") : ((int)Math.Min(int.MaxValue, Math.Truncate(n.Value)), null);
            default:
                return (null, Accepts);
        }
    }

    public static string? MetricNameError(string fullName, string help)
    {
        var reason = help.Length == 0 ? "empty help string" : !MetricName().IsMatch(fullName) ? $"\"{fullName}\" is not a valid metric name" : null;
        return reason is null ? null
            : $"descriptor Desc{{fqName: \"{fullName}\", help: \"{help}\", constLabels: {{}}, variableLabels: []}} is invalid: {reason}";
    }

    /// <summary>
    /// Consul address resolution as v3 (Part B §1): env overrides, client defaults, scheme prefixes.
    /// Returns the resolved config or v3's error text.
    /// </summary>
    public static (ConsulConfig? Config, string? Error) ResolveConsul(RawConsul raw, IReadOnlyDictionary<string, string> env)
    {
        string Env(string name) => env.TryGetValue(name, out var v) ? v : "";
        var address = raw.Address;
        var scheme = raw.Scheme;
        if (raw.IsStringForm)
        {
            scheme = "http";
            if (address.StartsWith("http://", StringComparison.Ordinal))
            {
                address = address["http://".Length..];
            }
            else if (address.StartsWith("https://", StringComparison.Ordinal))
            {
                address = address["https://".Length..];
                scheme = "https";
            }
        }
        // CONSUL_HTTP_SSL_VERIFY: 1/true turn verification on, 0/false off; verification also needs the variable
        // unset or parsed true by Go's ParseBool (an unparsable value such as "yes" turns it off).
        var verifyVariable = Env("CONSUL_HTTP_SSL_VERIFY");
        var verify = verifyVariable.ToLowerInvariant() switch
        {
            "1" or "true" => true,
            "0" or "false" => false,
            _ => raw.Verify,
        };
        if (verifyVariable.Length > 0 && !(GoStrconv.TryParseBool(verifyVariable, out var verifyParsed, out _) && verifyParsed))
        {
            verify = false;
        }
        var tls = new ConsulTlsConfig
        {
            CaFile = Or(Env("CONSUL_CACERT"), raw.CaFile),
            CaPath = Or(Env("CONSUL_CAPATH"), raw.CaPath),
            ClientCert = Or(Env("CONSUL_CLIENT_CERT"), raw.ClientCert),
            ClientKey = Or(Env("CONSUL_CLIENT_KEY"), raw.ClientKey),
            ServerName = Or(Env("CONSUL_TLS_SERVER_NAME"), raw.ServerName),
            Verify = verify,
        };
        var token = Or(Env("CONSUL_HTTP_TOKEN"), raw.Token);
        if (address.Length == 0)
        {
            address = Or(Env("CONSUL_HTTP_ADDR"), "127.0.0.1:8500");
        }
        if (scheme.Length == 0)
        {
            scheme = GoStrconv.TryParseBool(Env("CONSUL_HTTP_SSL"), out var ssl, out _) && ssl ? "https" : "http";
        }
        var separator = address.IndexOf("://", StringComparison.Ordinal);
        if (separator >= 0)
        {
            var prefix = address[..separator];
            if (prefix is not ("http" or "https" or "unix"))
            {
                return (null, $"Unknown protocol scheme: {prefix}");
            }
            scheme = prefix;
            address = address[(separator + 3)..];
        }
        if (ConsulAddress.Resolve(scheme, address).Error is { } addressError)
        {
            return (null, addressError);
        }
        return (new ConsulConfig { Address = address, Scheme = scheme, Token = token, Tls = tls }, null);
    }

    private static string Or(string first, string second) => first.Length > 0 ? first : second;
}
