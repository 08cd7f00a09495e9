using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Pilot.Api.Control;
using Pilot.Api.V3;

namespace Pilot.Api.Cli;

/// <summary>An answer from the control plane: status, body, and the problem when it sent one.</summary>
public sealed record ControlAnswer(int StatusCode, string Body, ProblemResponse? Problem)
{
    public bool IsSuccess => StatusCode is >= 200 and < 300;

    /// <summary>The failure in one line as v3's client words it (<c>… received by control server: …</c>), for v3's flags.</summary>
    public string Describe() =>
        Problem is null ? $"control server answered {StatusCode}: {Body.Trim()}" : $"{Problem.Title.ToLowerInvariant()} received by control server: {Explain()}";

    /// <summary>The failure in one line for people (Pilot's commands): the problem's detail and every error, else the status and body.</summary>
    public string Explain()
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
        return text.ToString();
    }
}

/// <summary>HTTP/1.1 to a control socket, with the host name <c>control</c> as v3's client uses.</summary>
public sealed class ControlClient : IDisposable
{
    private readonly HttpClient _http;

    public ControlClient(string socketPath)
    {
        SocketPath = socketPath;
        _http = CreateHttpClient(socketPath);
    }

    public string SocketPath { get; }

    /// <summary>
    /// Why a request failed before any answer, for people: <c>cannot reach Pilot at PATH: REASON (is Pilot running?)</c>,
    /// with the reason in the OS's words rather than .NET's (which says "Cannot assign requested address (control:80)"
    /// for a missing socket file).
    /// </summary>
    public string DescribeFailure(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is OperationCanceledException)
        {
            return $"no answer from Pilot at {SocketPath} in time";
        }
        if ((exception as SocketException ?? exception.InnerException as SocketException) is { } socket)
        {
            return socket.SocketErrorCode switch
            {
                _ when !File.Exists(SocketPath) && !Directory.Exists(SocketPath) =>
                    $"cannot reach Pilot at {SocketPath}: no such file or directory (is Pilot running?)",
                SocketError.ConnectionRefused => $"cannot reach Pilot at {SocketPath}: connection refused (is Pilot running?)",
                SocketError.AccessDenied => $"cannot reach Pilot at {SocketPath}: permission denied "
                    + "(the socket is for Pilot's user only unless control.mode says otherwise)",
                _ => $"cannot reach Pilot at {SocketPath}: {socket.Message} (is Pilot running?)",
            };
        }
        return $"no answer from Pilot at {SocketPath}: {exception.Message}";
    }

    /// <summary>GET with a JSON answer of type <typeparamref name="T"/>; a failure answer comes back as it is.</summary>
    public async Task<(T? Value, ControlAnswer Answer)> GetJsonAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        var answer = await GetAsync(path, cancellationToken).ConfigureAwait(false);
        return (answer.IsSuccess ? JsonSerializer.Deserialize(answer.Body, type) : default, answer);
    }

    /// <summary>
    /// Reads a server-sent event stream, handing each <c>data:</c> payload to <paramref name="onData"/> until the stream
    /// ends (null) or the caller cancels; a failure answer (e.g. 404) is returned instead.
    /// </summary>
    public async Task<ControlAnswer?> ReadEventStreamAsync(string path, Func<string, Task> onData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onData);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            return await ToAnswerAsync(response, cancellationToken).ConfigureAwait(false);
        }
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                await onData(line["data: ".Length..]).ConfigureAwait(false);
            }
        }
        return null;
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
            return await ToAnswerAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<ControlAnswer> ToAnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
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

    public void Dispose() => _http.Dispose();
}
