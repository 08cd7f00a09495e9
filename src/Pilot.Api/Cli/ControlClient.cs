using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Pilot.Api.Control;
using Pilot.Api.V3;

namespace Pilot.Api.Cli;

/// <summary>An answer from the control plane: status, body, and the problem when it sent one.</summary>
public sealed record ControlAnswer(int StatusCode, string Body, ProblemResponse? Problem)
{
    public bool IsSuccess => StatusCode is >= 200 and < 300;

    /// <summary>The failure in one line: the problem's detail and every error, else the status and body.</summary>
    public string Describe()
    {
        if (Problem is null)
        {
            return $"control server answered {StatusCode}: {Body.Trim()}";
        }
        var text = new StringBuilder(Problem.Detail ?? Problem.Title);
        foreach (var error in Problem.Errors ?? [])
        {
            text.Append("; ").Append(error.Path.Length > 0 ? error.Path + ": " : "").Append(error.Message);
            if (error.Line is { } line)
            {
                text.Append(" (line ").Append(line).Append(')');
            }
        }
        return $"{Problem.Title.ToLowerInvariant()} received by control server: {text}";
    }
}

/// <summary>HTTP/1.1 to a control socket, with the host name <c>control</c> as v3's client uses.</summary>
public sealed class ControlClient : IDisposable
{
    private readonly HttpClient _http;

    public ControlClient(string socketPath)
    {
        _http = CreateHttpClient(socketPath);
    }

    /// <summary>An <see cref="HttpClient"/> whose every connection goes to <paramref name="socketPath"/>.</summary>
    public static HttpClient CreateHttpClient(string socketPath, int maxConnections = int.MaxValue)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        // Callers bound each request with their own token.
        return new HttpClient(handler) { BaseAddress = new Uri($"http://{ControlPlane.HostName}/"), Timeout = Timeout.InfiniteTimeSpan };
    }

    public Task<ControlAnswer> PostAsync(string path, string? json, CancellationToken cancellationToken)
    {
        var content = new StringContent(json ?? "", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, cancellationToken);
    }

    public Task<ControlAnswer> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);

    private async Task<ControlAnswer> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        using (var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false))
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            ProblemResponse? problem = null;
            if (response.Content.Headers.ContentType?.MediaType == Problems.ContentType)
            {
                try
                {
                    problem = JsonSerializer.Deserialize(body, PilotApiJsonContext.Default.ProblemResponse);
                }
                catch (JsonException)
                {
                    // Not the problem shape after all: the raw body is still reported.
                }
            }
            return new ControlAnswer((int)response.StatusCode, body, problem);
        }
    }

    public void Dispose() => _http.Dispose();
}
