using System.Text;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// Splits a child's output stream into lines with bounded memory. Lines end at <c>\n</c> (a trailing <c>\r</c> is
/// dropped, as Go's <c>bufio.ScanLines</c> does); the final unterminated line is delivered at end of stream.
/// A line longer than <see cref="MaxLineBytes"/> is delivered in pieces of at most that many bytes, cut on a UTF-8
/// character boundary (v3 stops the whole stream there instead). Invalid UTF-8 becomes U+FFFD.
/// </summary>
/// <remarks>
/// The buffer starts at <see cref="InitialBufferBytes"/> and doubles (up to <see cref="MaxLineBytes"/> + 1) only when
/// a read fills it: every job holds a pending read on two pipes for as long as it runs, and most jobs write little or
/// nothing, so a full-size buffer up front (64 KiB × 2 per job) was most of what each idle job cost.
/// </remarks>
internal static class LinePump
{
    public const int MaxLineBytes = 64 * 1024;

    /// <summary>What a pump holds before its job has written anything.</summary>
    public const int InitialBufferBytes = 128;

    public static async Task RunAsync(Stream stream, Action<string> onLine)
    {
        // Grows to MaxLineBytes + 1: a line of exactly MaxLineBytes plus its newline fits, and is not split.
        var buffer = new byte[InitialBufferBytes];
        var filled = 0;
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(filled)).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                var scanFrom = filled;
                filled += read;
                var filledBuffer = filled == buffer.Length;
                var start = 0;
                int newline;
                while ((newline = buffer.AsSpan(scanFrom, filled - scanFrom).IndexOf((byte)'\n')) >= 0)
                {
                    var end = scanFrom + newline;
                    Emit(buffer.AsSpan(start, end - start), dropCarriageReturn: true, onLine);
                    start = end + 1;
                    scanFrom = start;
                }

                if (start == 0 && filled == buffer.Length && buffer.Length <= MaxLineBytes)
                {
                    // A line longer than the buffer so far: make room (the piece-cutting below needs the full size).
                    Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxLineBytes + 1));
                    continue;
                }

                if (start == 0 && filled == buffer.Length)
                {
                    // A full buffer without a newline: deliver a piece, never splitting a UTF-8 sequence.
                    start = Utf8Boundary(buffer, MaxLineBytes);
                    Emit(buffer.AsSpan(0, start), dropCarriageReturn: false, onLine);
                }

                if (start > 0)
                {
                    buffer.AsSpan(start, filled - start).CopyTo(buffer);
                    filled -= start;
                }

                if (filledBuffer && buffer.Length <= MaxLineBytes)
                {
                    // The job writes more than a read took: fewer, larger reads from now on.
                    Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxLineBytes + 1));
                }
            }
        }
        catch (IOException)
        {
            // The pipe went away; deliver what we have.
        }
        catch (ObjectDisposedException)
        {
        }

        if (filled > 0)
        {
            Emit(buffer.AsSpan(0, filled), dropCarriageReturn: true, onLine);
        }
    }

    private static void Emit(ReadOnlySpan<byte> line, bool dropCarriageReturn, Action<string> onLine)
    {
        if (dropCarriageReturn && line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        onLine(Encoding.UTF8.GetString(line));
    }

    /// <summary>Largest cut ≤ <paramref name="length"/> that does not fall inside a UTF-8 sequence.</summary>
    private static int Utf8Boundary(byte[] buffer, int length)
    {
        // Back off over at most 3 continuation bytes (10xxxxxx) to the lead byte, and cut before it.
        for (var cut = length; cut > length - 4 && cut > 0; cut--)
        {
            if ((buffer[cut - 1] & 0xC0) != 0x80)
            {
                // buffer[cut-1] is ASCII or a lead byte. A lead byte whose sequence is complete stays.
                var lead = buffer[cut - 1];
                var needed = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
                return cut - 1 + needed <= length ? length : cut - 1 == 0 ? length : cut - 1;
            }
        }

        return length; // not UTF-8 anyway
    }
}
