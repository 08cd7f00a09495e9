using System.Text;
using Pilot.Api.Control;
using Shouldly;

namespace Pilot.Api.Tests.Control;

/// <summary>Which answers get a problem body: exactly Kestrel's own rejections, nothing the endpoints write.</summary>
public sealed class RejectionProblemsTests
{
    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public void Rewrite_GivesKestrelsRejectionAProblemBody_KeepingItsHeaders()
    {
        var rewritten = RejectionProblems.Rewrite(Ascii(
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\nDate: Tue, 01 Dec 2026 00:00:00 GMT\r\n\r\n"));

        var text = Encoding.UTF8.GetString(rewritten.ShouldNotBeNull());
        var body = text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        text.ShouldStartWith("HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nDate: Tue, 01 Dec 2026 00:00:00 GMT\r\n");
        text.ShouldContain($"Content-Type: application/problem+json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n");
        body.ShouldStartWith("""{"type":"about:blank","title":"Request Header Fields Too Large","status":431,"detail":""");
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")]                         // not a rejection status
    [InlineData("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")]                  // an endpoint's status
    [InlineData("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")]                                    // the connection stays open
    [InlineData("HTTP/1.1 400 Bad Request\r\nContent-Length: 57\r\nConnection: close\r\n\r\n")]               // has a body
    [InlineData("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\nHTTP/1.1 200")]    // more follows
    [InlineData("{\"ok\":true}")]                                                                           // body bytes
    public void Rewrite_LeavesEverythingElseAlone(string written) =>
        RejectionProblems.Rewrite(Ascii(written)).ShouldBeNull();
}
