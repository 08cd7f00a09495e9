using System.Collections.Immutable;
using System.Text;

namespace Pilot.Supervisor.Notify;

/// <summary>
/// One datagram of systemd's notify protocol (sd_notify(3)): newline-separated <c>KEY=VALUE</c> assignments in UTF-8.
/// Pilot acts on <c>READY=1</c>, <c>WATCHDOG=1</c>, <c>STATUS=</c>, <c>STOPPING=1</c>, <c>RELOADING=1</c> and
/// <c>BARRIER=1</c>; other well-formed assignments (<c>MAINPID</c>, <c>ERRNO</c>, <c>FDSTORE</c>, …) are accepted and
/// ignored, as systemd ignores what a unit does not use.
/// </summary>
public sealed record NotifyMessage(ImmutableArray<KeyValuePair<string, string>> Assignments)
{
    /// <summary>systemd reads at most this much of a datagram (PIPE_BUF); a longer one is refused whole.</summary>
    public const int MaxBytes = 4096;

    public bool Ready => Is("READY", "1");

    public bool Watchdog => Is("WATCHDOG", "1");

    public bool Stopping => Is("STOPPING", "1");

    public bool Reloading => Is("RELOADING", "1");

    /// <summary><c>BARRIER=1</c> (sd_notify_barrier): the descriptor sent with it is closed once every earlier message is handled.</summary>
    public bool Barrier => Is("BARRIER", "1");

    /// <summary>The last <c>STATUS=</c> of the datagram, if any.</summary>
    public string? Status => Assignments.LastOrDefault(a => a.Key == "STATUS") is { Key: not null } status ? status.Value : null;

    private bool Is(string key, string value) => Assignments.Any(a => a.Key == key && a.Value == value);

    public override string ToString() => string.Join(' ', Assignments.Select(a => $"{a.Key}={a.Value}"));

    /// <summary>
    /// The datagram's assignments, or why it is malformed: empty, not UTF-8, a NUL byte, or a line that is not
    /// <c>KEY=VALUE</c> with an upper-case <c>KEY</c> of letters, digits and <c>_</c>. Never throws.
    /// </summary>
    public static (NotifyMessage? Message, string? Error) Parse(ReadOnlySpan<byte> datagram)
    {
        if (datagram.IsEmpty)
        {
            return (null, "empty datagram");
        }
        if (datagram.Length > MaxBytes)
        {
            return (null, $"longer than {MaxBytes} bytes");
        }
        if (datagram.Contains((byte)0))
        {
            return (null, "NUL byte");
        }
        string text;
        try
        {
            text = Strict.GetString(datagram);
        }
        catch (DecoderFallbackException)
        {
            return (null, "not UTF-8");
        }
        var assignments = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !IsKey(line.AsSpan(0, equals)))
            {
                return (null, "a line that is not KEY=VALUE");
            }
            assignments.Add(new(line[..equals], line[(equals + 1)..]));
        }
        return assignments.Count == 0 ? (null, "no assignment") : (new NotifyMessage(assignments.ToImmutable()), null);
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static bool IsKey(ReadOnlySpan<char> key)
    {
        foreach (var c in key)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }
        return true;
    }
}
