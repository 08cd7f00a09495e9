using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pilot.Supervisor.Config;

namespace Pilot.Supervisor.Discovery.Consul;

/// <summary>
/// A thin typed mirror of the Consul HTTP API calls Pilot makes. Every call has a timeout (a blocking query:
/// its wait plus Consul's jitter plus a margin); non-2xx answers throw <see cref="ConsulResponseException"/>,
/// transport failures and timeouts <see cref="ConsulUnreachableException"/>; the caller's cancellation
/// surfaces as <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class ConsulClient : IDisposable
{
    /// <summary>Margin over a blocking query's wait before the client gives up on it.</summary>
    public static readonly TimeSpan BlockingMargin = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ConsulJsonContext _json;

    /// <param name="config">Address, scheme (<c>http</c>, <c>https</c>, <c>unix</c>), token and TLS settings.</param>
    /// <param name="requestTimeout">Limit for non-blocking calls; 10 s by default.</param>
    /// <param name="timeProvider">Drives the timeouts.</param>
    /// <param name="handler">Replaces the transport (tests); the config's TLS and Unix settings are then not applied.</param>
    public ConsulClient(ConsulConfig config, TimeSpan? requestTimeout = null, TimeProvider? timeProvider = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var (scheme, address) = SplitAddress(config);
        var (baseUri, addressError) = ConsulAddress.Resolve(scheme, address);
        RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10);
        _time = timeProvider ?? TimeProvider.System;
        _http = new HttpClient(handler ?? CreateHandler(config, scheme, address), disposeHandler: true)
        {
            BaseAddress = baseUri ?? throw new ArgumentException(addressError, nameof(config)), // the loader refused it already
            Timeout = Timeout.InfiniteTimeSpan, // our own per-call timeouts apply
        };
        if (config.Token.Length > 0)
        {
            _http.DefaultRequestHeaders.Add("X-Consul-Token", config.Token);
        }
        // Go's encoder leaves non-ASCII as UTF-8; the default STJ encoder would \u-escape it.
        _json = new ConsulJsonContext(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public Uri BaseAddress => _http.BaseAddress!;

    public TimeSpan RequestTimeout { get; }

    /// <summary>The exact body v3 sends for a registration (Go field order, omitempty rules, trailing newline).</summary>
    public string SerializeRegistration(ServiceRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var body = new RegisterBody
        {
            Id = NullIfEmpty(registration.Id),
            Name = NullIfEmpty(registration.Name),
            Tags = registration.Tags.IsDefaultOrEmpty ? null : [.. registration.Tags],
            Port = registration.Port,
            Address = NullIfEmpty(registration.Address),
            EnableTagOverride = registration.EnableTagOverride,
            Check = registration.Check is { } c
                ? new CheckBody
                {
                    Ttl = NullIfEmpty(c.Ttl),
                    Status = NullIfEmpty(c.Status),
                    Notes = NullIfEmpty(c.Notes),
                    DeregisterCriticalServiceAfter = NullIfEmpty(c.DeregisterCriticalServiceAfter),
                }
                : null,
        };
        return JsonSerializer.Serialize(body, _json.RegisterBody) + "\n";
    }

    /// <summary><c>PUT /v1/agent/service/register</c>.</summary>
    public Task RegisterServiceAsync(ServiceRegistration registration, CancellationToken cancellationToken) =>
        RegisterServiceAsync(registration, RequestTimeout, cancellationToken);

    /// <summary><c>PUT /v1/agent/service/register</c>, giving up after <paramref name="timeout"/>.</summary>
    public async Task RegisterServiceAsync(ServiceRegistration registration, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var content = Json(SerializeRegistration(registration));
        using var response = await SendAsync(HttpMethod.Put, "v1/agent/service/register", content, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>PUT /v1/agent/service/deregister/&lt;id&gt;</c>, no body.</summary>
    public Task DeregisterServiceAsync(string serviceId, CancellationToken cancellationToken) =>
        DeregisterServiceAsync(serviceId, RequestTimeout, cancellationToken);

    /// <summary><c>PUT /v1/agent/service/deregister/&lt;id&gt;</c>, giving up after <paramref name="timeout"/>.</summary>
    public async Task DeregisterServiceAsync(string serviceId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Put, "v1/agent/service/deregister/" + Uri.EscapeDataString(serviceId), null, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>PUT /v1/agent/check/update/&lt;checkId&gt;</c> with <c>{"Status":…,"Output":…}</c>.</summary>
    public Task UpdateTtlAsync(string checkId, string status, string output, CancellationToken cancellationToken) =>
        UpdateTtlAsync(checkId, status, output, RequestTimeout, cancellationToken);

    /// <summary>The TTL update, giving up after <paramref name="timeout"/>.</summary>
    public async Task UpdateTtlAsync(string checkId, string status, string output, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new CheckUpdateBody { Status = status, Output = output }, _json.CheckUpdateBody) + "\n";
        using var content = Json(body);
        // The check ID keeps its ':' (service:<ID>) as v3's client sends it.
        using var response = await SendAsync(HttpMethod.Put, "v1/agent/check/update/" + EscapePath(checkId), content, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>GET /v1/health/service/&lt;name&gt;?passing=1[&amp;tag][&amp;dc]</c>; with <paramref name="index"/> &gt; 0 a blocking
    /// query (<c>index</c> + <c>wait</c>) that returns on a change or after <paramref name="wait"/>.
    /// </summary>
    public async Task<ConsulQueryResult<ImmutableArray<HealthServiceEntry>>> GetHealthyServiceAsync(
        string name, string? tag, string? dc, ulong index, TimeSpan wait, CancellationToken cancellationToken)
    {
        var path = "v1/health/service/" + Uri.EscapeDataString(name) + HealthQuery(tag, dc, index, wait);
        // Consul may add up to wait/16 to the wait.
        var timeout = index > 0 ? wait + (wait / 16) + BlockingMargin : RequestTimeout;
        using var response = await SendAsync(HttpMethod.Get, path, null, timeout, cancellationToken).ConfigureAwait(false);
        var entries = await ReadJsonAsync(response, _json.ServiceEntryWireArray, cancellationToken).ConfigureAwait(false) ?? [];
        var result = entries
            .Where(e => e.Service is not null)
            .Select(e => new HealthServiceEntry
            {
                ServiceId = e.Service!.Id ?? "",
                ServiceName = e.Service.Service ?? "",
                Address = e.Service.Address ?? "",
                Port = e.Service.Port,
                Tags = [.. e.Service.Tags ?? []],
                Node = e.Node?.Node ?? "",
                NodeAddress = e.Node?.Address ?? "",
                Checks = [.. (e.Checks ?? []).Select(c => new HealthCheckInfo(c.CheckId ?? "", c.Status ?? "", c.ServiceId ?? ""))],
            })
            .ToImmutableArray();
        return new(result, ReadIndex(response));
    }

    /// <summary>The query string v3's Go client builds: keys sorted (<c>dc</c>, <c>index</c>, <c>passing</c>, <c>tag</c>, <c>wait</c>), wait in ms.</summary>
    public static string HealthQuery(string? tag, string? dc, ulong index, TimeSpan wait)
    {
        var q = new StringBuilder("?");
        if (!string.IsNullOrEmpty(dc))
        {
            q.Append("dc=").Append(Uri.EscapeDataString(dc)).Append('&');
        }
        if (index > 0)
        {
            q.Append("index=").Append(index.ToString(CultureInfo.InvariantCulture)).Append('&');
        }
        q.Append("passing=1");
        if (!string.IsNullOrEmpty(tag))
        {
            q.Append("&tag=").Append(Uri.EscapeDataString(tag));
        }
        if (index > 0 && wait > TimeSpan.Zero)
        {
            var ms = Math.Max(1, (long)wait.TotalMilliseconds);
            q.Append("&wait=").Append(ms.ToString(CultureInfo.InvariantCulture)).Append("ms");
        }
        return q.ToString();
    }

    /// <summary><c>GET /v1/agent/services</c>: what the local agent has registered, by service ID.</summary>
    public async Task<ImmutableDictionary<string, AgentServiceInfo>> ListAgentServicesAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "v1/agent/services", null, RequestTimeout, cancellationToken).ConfigureAwait(false);
        var services = await ReadJsonAsync(response, _json.DictionaryStringAgentServiceWire, cancellationToken).ConfigureAwait(false) ?? [];
        return services.ToImmutableDictionary(
            kv => kv.Key,
            kv => new AgentServiceInfo(kv.Value.Id ?? kv.Key, kv.Value.Service ?? "", [.. kv.Value.Tags ?? []], kv.Value.Address ?? "", kv.Value.Port));
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutCts = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        using var request = new HttpRequestMessage(method, path) { Content = content };
        HttpResponseMessage response;
        string body;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                await response.Content.LoadIntoBufferAsync(linked.Token).ConfigureAwait(false);
                return response;
            }
            body = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ConsulUnreachableException($"{method} {BaseAddress}{path}: no answer within {timeout.TotalSeconds:0.###}s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // IOException: the connection broke while the body was read (e.g. the agent went down mid-answer).
            throw new ConsulUnreachableException($"{method} {BaseAddress}{path}: {ex.Message}", ex);
        }
        var status = (int)response.StatusCode;
        response.Dispose();
        throw new ConsulResponseException(status, body);
    }

    private static async Task<T?> ReadJsonAsync<T>(HttpResponseMessage response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
    {
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                return await JsonSerializer.DeserializeAsync(stream, type, ct).ConfigureAwait(false);
            }
            catch (JsonException ex)
            {
                throw new ConsulResponseException((int)response.StatusCode, $"invalid JSON from consul: {ex.Message}");
            }
        }
    }

    private static ulong ReadIndex(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Consul-Index", out var values)
        && ulong.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : 0;

    private static StringContent Json(string body) => new(body, new UTF8Encoding(false), "application/json");

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string EscapePath(string segment) => Uri.EscapeDataString(segment).Replace("%3A", ":", StringComparison.Ordinal);

    /// <summary>Resolves scheme and address: an address carrying <c>scheme://</c> wins over <see cref="ConsulConfig.Scheme"/>.</summary>
    public static (string Scheme, string Address) SplitAddress(ConsulConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var scheme = string.IsNullOrEmpty(config.Scheme) ? "http" : config.Scheme.ToLowerInvariant();
        var address = string.IsNullOrEmpty(config.Address) ? "127.0.0.1:8500" : config.Address;
        var sep = address.IndexOf("://", StringComparison.Ordinal);
        if (sep >= 0)
        {
            scheme = address[..sep].ToLowerInvariant();
            address = address[(sep + 3)..];
        }
        if (scheme is not ("http" or "https" or "unix"))
        {
            throw new ArgumentException($"Unknown protocol scheme: {scheme}", nameof(config));
        }
        return (scheme, address);
    }

    private static SocketsHttpHandler CreateHandler(ConsulConfig config, string scheme, string address)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
        };
        if (scheme == "unix")
        {
            var path = address;
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            return handler;
        }
        if (scheme == "https")
        {
            handler.SslOptions = CreateTlsOptions(config.Tls);
        }
        return handler;
    }

    /// <summary>
    /// Why the TLS files of <paramref name="tls"/> cannot be loaded, or null. v3 loads them when its client is built,
    /// at config load, and refuses the config with Go's error (<c>open client.crt: no such file or directory</c>).
    /// </summary>
    /// <param name="parse">False where there is no TLS library (the static binary): only that the files exist is checked,
    /// since reading a certificate needs OpenSSL (and an https address is refused there anyway).</param>
    public static string? TlsMaterialError(ConsulTlsConfig tls, bool parse = true)
    {
        ArgumentNullException.ThrowIfNull(tls);
        static string? Missing(string path, bool directory) =>
            path.Length == 0 || (directory ? Directory.Exists(path) : File.Exists(path)) ? null : $"open {path}: no such file or directory";
        if ((Missing(tls.CaFile, directory: false) ?? Missing(tls.CaPath, directory: true)) is { } missing)
        {
            return missing;
        }
        if (tls.ClientCert.Length > 0 && tls.ClientKey.Length > 0)
        {
            if ((Missing(tls.ClientCert, directory: false) ?? Missing(tls.ClientKey, directory: false)) is { } missingPair)
            {
                return missingPair;
            }
            if (!parse)
            {
                return null;
            }
            try
            {
                using var pair = X509Certificate2.CreateFromPemFile(tls.ClientCert, tls.ClientKey);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                return $"tls: failed to load the client certificate {tls.ClientCert} with key {tls.ClientKey}: {ex.Message}";
            }
        }
        if (tls.CaFile.Length > 0 && parse)
        {
            try
            {
                new X509Certificate2Collection().ImportFromPemFile(tls.CaFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                return $"Error loading CA File: {tls.CaFile}: {ex.Message}";
            }
        }
        return null;
    }

    private static SslClientAuthenticationOptions CreateTlsOptions(ConsulTlsConfig tls)
    {
        var options = new SslClientAuthenticationOptions();
        if (tls.ServerName.Length > 0)
        {
            var name = tls.ServerName;
            var colon = name.LastIndexOf(':');
            options.TargetHost = colon > 0 && !name.Contains(']', StringComparison.Ordinal) && name.Count(c => c == ':') == 1 ? name[..colon] : name;
        }
        if (tls.ClientCert.Length > 0 && tls.ClientKey.Length > 0)
        {
            options.ClientCertificates = [X509Certificate2.CreateFromPemFile(tls.ClientCert, tls.ClientKey)];
        }
        var roots = new X509Certificate2Collection();
        if (tls.CaFile.Length > 0)
        {
            roots.ImportFromPemFile(tls.CaFile);
        }
        if (tls.CaPath.Length > 0 && Directory.Exists(tls.CaPath))
        {
            foreach (var file in Directory.EnumerateFiles(tls.CaPath))
            {
                try
                {
                    roots.ImportFromPemFile(file);
                }
                catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
                {
                    // Like Go's rootcerts loader, files that are not certificates are skipped.
                }
            }
        }
        var verify = tls.Verify;
        options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            // v3: without verify the server certificate is not checked at all.
            if (!verify)
            {
                return true;
            }
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }
            if (roots.Count == 0 || certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                return false;
            }
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            var cert = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return chain.Build(cert);
        };
        return options;
    }

    public void Dispose() => _http.Dispose();
}
