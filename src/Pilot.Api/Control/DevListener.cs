using System.Net;
using Microsoft.AspNetCore.Http;

namespace Pilot.Api.Control;

/// <summary>
/// The opt-in development listener (<c>-dev-http HOST:PORT</c>, off by default): the whole control plane, its OpenAPI
/// document and Swagger UI (<c>/swagger</c>) over plain HTTP, so a browser can open them. It has no authentication, so it
/// only answers requests addressed to it by IP or <c>localhost</c> (no DNS rebinding) that come from its own origin or
/// from no page at all (no cross-site requests: the v3 endpoints read a body whatever its content type).
/// </summary>
public sealed record DevListener(IPEndPoint EndPoint)
{
    public const string FlagName = "-dev-http";

    /// <summary>Reads <c>127.0.0.1:8088</c>, <c>[::1]:8088</c> or <c>localhost:8088</c>; the port is required (0 picks a free one).</summary>
    public static bool TryParse(string text, out DevListener? listener)
    {
        listener = null;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            || port > IPEndPoint.MaxPort)
        {
            return false;
        }
        var host = text[..colon];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            listener = new DevListener(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        if (IPAddress.TryParse(host.Trim('[', ']'), out var address) && (host.StartsWith('[') == (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)))
        {
            listener = new DevListener(new IPEndPoint(address, port));
            return true;
        }
        return false;
    }

    /// <summary>True for a request the listener must refuse: a name other than an IP or localhost, or another page's origin.</summary>
    public static bool IsForeign(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var host = request.Host.Host;
        if (!host.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(host.Trim('[', ']'), out _))
        {
            return true;
        }
        var origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && !origin.Equals($"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The refusal middleware: only requests that arrived over TCP (the socket has no IP endpoint) are checked.</summary>
    public static async Task GuardAsync(HttpContext context, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.Connection.LocalIpAddress is not null && IsForeign(context.Request))
        {
            await Problems.WriteAsync(context, StatusCodes.Status403Forbidden,
                $"the {FlagName} listener answers only requests to an IP address or localhost from its own pages").ConfigureAwait(false);
            return;
        }
        await next().ConfigureAwait(false);
    }
}
