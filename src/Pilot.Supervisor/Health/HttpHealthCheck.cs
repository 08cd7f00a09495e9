using System.Net;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Logging;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Health;

/// <summary>
/// Pilot's <c>health.http</c>: a GET of the URL passes when its status is in <c>health.status</c> (200-399 by default,
/// redirects not followed, as Kubernetes' httpGet probe). No process is spawned; the body is not read.
/// </summary>
public sealed class HttpHealthCheck(string name, HttpCheckConfig config, TimeSpan? timeout, LogWriter log, TimeProvider time) : IHealthCheck
{
    // One client for every HTTP check: connections are pooled (a check every few seconds reuses its connection) and
    // recycled so a DNS change is seen. No proxy: a health check means this container's or its neighbours' ports.
    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public string Name { get; } = name;

    public IHealthProbe Start() => new NetworkProbe(GetAsync, $"GET {config.Url}", timeout, time,
        limit => log.Write(LogLevel.Warn, $"{Name} timeout after {Config.Decoding.GoDuration.Format(limit)}: 'GET {config.Url}'"));

    private async Task<HealthCheckResult> GetAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, config.Url);
        request.Headers.UserAgent.ParseAdd("pilot-health-check");
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        return config.Status.Contains(status)
            ? new HealthCheckResult(HealthCheckOutcome.Passed, $"HTTP {status}")
            : NetworkProbe.Failed($"GET {config.Url}", $"HTTP {status} {ReasonOf(response.StatusCode)}, expected {config.Status}");
    }

    private static string ReasonOf(HttpStatusCode code) => code.ToString();
}
