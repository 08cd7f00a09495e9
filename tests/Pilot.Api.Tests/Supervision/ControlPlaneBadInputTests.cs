using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// The real <c>pilot</c>'s control socket answers bad input with a 4xx problem body, never a 500 or an empty body:
/// bodies that are not valid text, and requests Kestrel rejects before any endpoint runs.
/// </summary>
public sealed class ControlPlaneBadInputTests(ControlPlaneBadInputTests.SharedPilot shared) : IClassFixture<ControlPlaneBadInputTests.SharedPilot>, IDisposable
{
    private readonly CancellationTokenSource _timeout = PilotProcess.Timeout();

    private RunningPilot Pilot => shared.Pilot;

    /// <summary>One pilot for every case: bad input must not change what the next request gets.</summary>
    public sealed class SharedPilot : IAsyncLifetime
    {
        private RunningPilot? _pilot;

        internal RunningPilot Pilot => _pilot!;

        public async ValueTask InitializeAsync()
        {
            using var timeout = PilotProcess.Timeout();
            _pilot = RunningPilot.Start("""
                {
                  control: { socket: "SOCKET" },
                  telemetry: { port: 0, interfaces: ["static:127.0.0.1"],
                    metrics: [ { namespace: "app", subsystem: "q", name: "depth", help: "queue depth", type: "gauge" } ] },
                  jobs: [ { name: "app", exec: ["sleep", "600"] } ],
                }
                """);
            await _pilot.WaitForSocketAsync(timeout.Token);
        }

        public async ValueTask DisposeAsync()
        {
            if (_pilot is not null)
            {
                await _pilot.DisposeAsync();
            }
        }
    }

    public static TheoryData<string, string> NotText => new()
    {
        // Raw bytes: '\xff' is never UTF-8; ED A0 80 is a UTF-16 surrogate encoded as if it were a code point.
        { "/v3/environ", """{"A":"\xff"}""" },
        { "/v3/environ", """{"\xff":"x"}""" },
        { "/v3/environ", """{"A":"\xed\xa0\x80"}""" },
        { "/v3/environ", """{"A":"\ud800"}""" },
        { "/v3/environ", """{"\udc00":"x"}""" },
        { "/v3/env", """{"A":"x\ud800y"}""" },
        { "/v3/metric", """{"app_q_depth":"\xff"}""" },
        { "/v3/metric", """{"\xff":1}""" },
        { "/v3/metric", """{"app_q_depth":"\ud800"}""" },
        { "/v3/metric", """{"\ud800":1}""" },
    };

    /// <summary>The body as bytes: <c>\xNN</c> is one raw byte, everything else ASCII (JSON escapes stay escapes).</summary>
    private static byte[] Bytes(string body)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] == '\\' && i + 3 < body.Length && body[i + 1] == 'x')
            {
                bytes.Add(Convert.ToByte(body.Substring(i + 2, 2), 16));
                i += 3;
            }
            else
            {
                bytes.Add((byte)body[i]);
            }
        }
        return [.. bytes];
    }

    [Theory]
    [MemberData(nameof(NotText))]
    public async Task BodyThatIsNotValidText_Answers422Problem_AndNothingChanges(string path, string body)
    {
        using var client = Pilot.CreateClient();
        using var content = new ByteArrayContent(Bytes(body));
        content.Headers.ContentType = new("application/json");

        using var response = await client.PostAsync(path, content, _timeout.Token);

        response.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity, await response.Content.ReadAsStringAsync(_timeout.Token));
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(_timeout.Token));
        problem.RootElement.GetProperty("status").GetInt32().ShouldBe(422);
        problem.RootElement.ToString().ShouldContain("invalid UTF-8 or a lone UTF-16 surrogate");
        (await client.GetAsync("/v3/ping", _timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static string MalformedRequest(string kind) => kind switch
    {
        "header without a colon" => "GET /v3/ping HTTP/1.1\r\nHost: control\r\nno colon here\r\n\r\n",
        "HTTP/1.1 without Host" => "GET /v3/ping HTTP/1.1\r\n\r\n",
        "9000-byte target" => $"GET /v3/ping?{new string('a', 9000)} HTTP/1.1\r\nHost: control\r\n\r\n",
        "40 KB of headers" => $"GET /v3/ping HTTP/1.1\r\nHost: control\r\nX-Big: {new string('b', 40_000)}\r\n\r\n",
        "HTTP/1.7" => "GET /v3/ping HTTP/1.7\r\nHost: control\r\n\r\n",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [InlineData(400, "header without a colon")]
    [InlineData(400, "HTTP/1.1 without Host")]
    [InlineData(414, "9000-byte target")]
    [InlineData(431, "40 KB of headers")]
    [InlineData(505, "HTTP/1.7")]
    public async Task RequestKestrelRejects_GetsAProblemBody(int status, string kind)
    {
        var (statusLine, headers, body) = await SendRawAsync(MalformedRequest(kind));

        statusLine.ShouldStartWith($"HTTP/1.1 {status} ");
        headers.ShouldContain("Content-Type: application/problem+json");
        headers.ShouldContain($"Content-Length: {Encoding.UTF8.GetByteCount(body)}");
        using var problem = JsonDocument.Parse(body);
        problem.RootElement.GetProperty("status").GetInt32().ShouldBe(status);
        problem.RootElement.GetProperty("detail").GetString().ShouldNotBeNullOrEmpty();
        using var client = Pilot.CreateClient();
        (await client.GetAsync("/v3/ping", _timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK, "the control plane keeps answering");
    }

    [Fact]
    public async Task ValidRequestsOnOneConnection_PassThroughUnchanged()
    {
        var (statusLine, headers, body) = await SendRawAsync(
            "GET /v3/ping HTTP/1.1\r\nHost: control\r\n\r\nGET /v3/nope HTTP/1.1\r\nHost: control\r\nConnection: close\r\n\r\n");

        statusLine.ShouldBe("HTTP/1.1 200 OK");
        headers.ShouldContain("Content-Type: application/json; charset=utf-8");
        body.ShouldContain("HTTP/1.1 404 Not Found", Case.Sensitive, "the second answer follows the first");
        body.ShouldContain("\"status\":404");
    }

    /// <summary>Writes <paramref name="request"/> on a new connection and reads the answer until the server closes it.</summary>
    private async Task<(string StatusLine, string Headers, string Body)> SendRawAsync(string request)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Pilot.SocketPath), _timeout.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), _timeout.Token);
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer, _timeout.Token);
        var text = Encoding.UTF8.GetString(answer.ToArray());
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        headEnd.ShouldBeGreaterThan(0, text);
        var head = text[..headEnd];
        var firstLineEnd = head.IndexOf("\r\n", StringComparison.Ordinal);
        return (head[..firstLineEnd], head[(firstLineEnd + 2)..], text[(headEnd + 4)..]);
    }

    public void Dispose() => _timeout.Dispose();
}
