using System.Globalization;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Config.Json5;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>
/// Pilot's network health checks (issue 17): <c>health.http</c> with <c>health.status</c>, or <c>health.tcp</c>, instead
/// of <c>health.exec</c>. Pure parsing rules; <see cref="Validate"/> reports each problem at its field, v3-style.
/// </summary>
internal static class HealthCheckRules
{
    public static void Validate(string name, RawHealth health, Action<string, string> fail)
    {
        var kinds = new[] { ("exec", health.Exec is not null), ("http", health.Http is not null), ("tcp", health.Tcp is not null) }
            .Where(k => k.Item2).Select(k => $"'{k.Item1}'").ToList();
        if (kinds.Count > 1)
        {
            fail("health", $"job[{name}].health can have only one of 'exec', 'http' or 'tcp', got {string.Join(" and ", kinds)}");
        }
        if (health.Http is { } url && HttpUrl(url).Error is { } urlError)
        {
            fail("health.http", $"job[{name}].health.http {urlError}");
        }
        else if (health.Http is { } secureUrl && HttpUrl(secureUrl).Url is { Scheme: "https" } && TlsLibrary.Unavailable is { } noTls)
        {
            fail("health.http", $"job[{name}].health.http '{secureUrl}' needs TLS, and {noTls}");
        }
        if (health.Status is { } status)
        {
            if (health.Http is null)
            {
                fail("health.status", $"job[{name}].health.status is only for an 'http' check");
            }
            else if (Status(status).Error is { } statusError)
            {
                fail("health.status", $"job[{name}].health.status {statusError}");
            }
        }
        if (health.Tcp is { } tcp && TcpAddress(tcp).Error is { } tcpError)
        {
            fail("health.tcp", $"job[{name}].health.tcp {tcpError}");
        }
    }

    /// <summary>An absolute <c>http://</c> or <c>https://</c> URL.</summary>
    public static (Uri? Url, string? Error) HttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.Host.Length > 0
            ? (url, null)
            : (null, $"'{text}' is not an absolute http:// or https:// URL");

    /// <summary><c>health.status</c>: absent → 200-399; a code (<c>204</c>, <c>"204"</c>) or an inclusive range (<c>"200-299"</c>).</summary>
    public static (StatusRange? Range, string? Error) Status(Json5Node? node)
    {
        var text = node switch
        {
            null => null,
            Json5Number n => n.ToWeakString(),
            Json5String s => s.Value.Trim(),
            _ => "",
        };
        if (text is null)
        {
            return (StatusRange.Default, null);
        }
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var (low, high) = dash > 0 ? (text[..dash].Trim(), text[(dash + 1)..].Trim()) : (text, text);
        if (StatusCode(low) is { } min && StatusCode(high) is { } max && min <= max)
        {
            return (new StatusRange(min, max), null);
        }
        var written = node is Json5String ? text : node!.GoFormat();
        return (null, $"'{written}' is not an HTTP status (100-599) or a range such as \"200-299\"");
    }

    private static int? StatusCode(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 100 and <= 599 ? code : null;

    /// <summary><c>host:port</c> (<c>[::1]:port</c> for IPv6), port 1-65535.</summary>
    public static (TcpCheckConfig? Address, string? Error) TcpAddress(string text)
    {
        var colon = text.LastIndexOf(':');
        var host = colon > 0 ? text[..colon] : "";
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        var portText = colon >= 0 ? text[(colon + 1)..] : "";
        if (host.Length == 0 || host.Contains(' ', StringComparison.Ordinal))
        {
            return (null, $"'{text}' is not a \"host:port\" address");
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return (null, $"'{text}' has no port 1-65535 (\"host:port\")");
        }
        return (new TcpCheckConfig(host, port), null);
    }
}
