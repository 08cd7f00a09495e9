using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Pilot.Api.V3;

namespace Pilot.Api.Control;

/// <summary>
/// Problem bodies for the requests Kestrel rejects itself. A request it cannot parse (bad request line or header,
/// target or headers too large, unknown HTTP version) is answered by Kestrel's HTTP/1.1 parser before any middleware
/// or <c>IHttpApplication</c> runs, with headers only (<c>HttpProtocol.SetBadRequestState</c> sets
/// <c>Content-Length: 0</c>); the body of these answers is not customisable (Kestrel maintainers in
/// aspnet/KestrelHttpServer#2947, and still so in .NET 10). So this connection middleware sits between the socket and
/// the parser and replaces exactly such an answer — a lone header block with one of Kestrel's rejection statuses,
/// <c>Content-Length: 0</c> and <c>Connection: close</c>, which no control-plane endpoint produces — by the same answer
/// with a problem body. Everything else passes through unchanged.
/// </summary>
internal static class RejectionProblems
{
    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    /// <summary>Installs the rewriting on every connection of a listener (<c>ListenOptions.Use</c>).</summary>
    public static ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        var transport = connection.Transport;
        connection.Transport = new DuplexPipe(transport.Input, new RejectionProblemWriter(transport.Output));
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            connection.Transport = transport;
        }
    };

    /// <summary>What each rejection means for a control-plane client (Kestrel's limits are left at their defaults).</summary>
    private static string? Detail(int status) => status switch
    {
        400 => "the request is not valid HTTP/1.1: its request line, a header or its framing could not be parsed",
        408 => "the request headers did not arrive in time",
        411 => "the request body needs a Content-Length or chunked Transfer-Encoding",
        414 => "the request line is longer than the control plane accepts (8 KiB)",
        431 => "the request headers are larger than the control plane accepts (32 KiB, 100 headers)",
        505 => "the HTTP version is not supported: the control plane speaks HTTP/1.1",
        _ => null,
    };

    /// <summary>
    /// The answer with a problem body when <paramref name="written"/> is exactly one of Kestrel's rejection answers;
    /// otherwise null.
    /// </summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> written)
    {
        // Cheap checks first: every response passes through here.
        if (written.Length < 16 || !written.StartsWith("HTTP/1."u8) || written[9] is not ((byte)'4' or (byte)'5')
            || !written.EndsWith(HeadEnd) || written.IndexOf(HeadEnd) != written.Length - HeadEnd.Length)
        {
            return null;
        }
        var head = Encoding.Latin1.GetString(written[..^HeadEnd.Length]);
        var lines = head.Split("\r\n");
        if (!int.TryParse(lines[0].AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status)
            || Detail(status) is not { } detail
            || !lines.Contains("Content-Length: 0", StringComparer.OrdinalIgnoreCase)
            || !lines.Contains("Connection: close", StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }
        var body = JsonSerializer.SerializeToUtf8Bytes(Problems.Create(status, detail), PilotApiJsonContext.Default.ProblemResponse);
        var rewritten = new StringBuilder();
        foreach (var line in lines.Where(l => !l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)))
        {
            rewritten.Append(line).Append("\r\n");
        }
        rewritten.Append(CultureInfo.InvariantCulture, $"Content-Type: {Problems.ContentType}\r\nContent-Length: {body.Length}\r\n\r\n");
        return [.. Encoding.Latin1.GetBytes(rewritten.ToString()), .. body];
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>Holds what Kestrel writes until it flushes, so a whole rejection answer can be recognised and replaced.</summary>
    private sealed class RejectionProblemWriter(PipeWriter inner) : PipeWriter
    {
        private readonly ArrayBufferWriter<byte> _pending = new();

        public override void Advance(int bytes) => _pending.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => _pending.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => _pending.GetSpan(sizeHint);

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes => _pending.WrittenCount;

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            MovePending();
            return inner.FlushAsync(cancellationToken);
        }

        public override void Complete(Exception? exception = null)
        {
            MovePending();
            inner.Complete(exception);
        }

        public override ValueTask CompleteAsync(Exception? exception = null)
        {
            MovePending();
            return inner.CompleteAsync(exception);
        }

        private void MovePending()
        {
            if (_pending.WrittenCount == 0)
            {
                return;
            }
            if (Rewrite(_pending.WrittenSpan) is { } problem)
            {
                inner.Write(problem);
            }
            else
            {
                inner.Write(_pending.WrittenSpan);
            }
            _pending.ResetWrittenCount();
        }
    }
}
