using System.Buffers.Text;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// One <c>/proc/PID/stat</c> line, as the readers of process trees need it: the parent and process group (fields 4
/// and 5), and, when the line goes that far, the CPU ticks (utime + stime + cutime + cstime, fields 14–17) and the
/// resident pages (field 24). The command name (field 2) may hold spaces and parentheses, so fields are counted from
/// the last <c>)</c>.
/// </summary>
/// <param name="Usage">Ticks and pages; null when the line ends before field 24 or one of them is not a number.</param>
public readonly record struct ProcStat(int Parent, int Group, (long Ticks, long Pages)? Usage)
{
    /// <summary>Bytes read of a stat line: every field up to 24 fits (its numbers are at most 20 digits each).</summary>
    public const int ReadBytes = 1024;

    /// <summary>The stat of the process at <paramref name="path"/> (…/PID/stat), read into <paramref name="buffer"/>; null when it is gone.</summary>
    public static ProcStat? Read(string path, Span<byte> buffer)
    {
        int length;
        try
        {
            using var handle = File.OpenHandle(path);
            length = RandomAccess.Read(handle, buffer, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // the process ended between the listing and the read
        }
        return Parse(buffer[..length]);
    }

    /// <summary>Parses a stat line; null when the parent or the process group cannot be read.</summary>
    public static ProcStat? Parse(ReadOnlySpan<byte> stat)
    {
        var close = stat.LastIndexOf((byte)')');
        if (close < 0)
        {
            return null;
        }
        var rest = stat[(close + 1)..];
        int parent = 0, group = 0;
        long ticks = 0, pages = 0;
        for (var field = 3; field <= 24; field++)
        {
            rest = rest.TrimStart((byte)' ');
            var end = rest.IndexOf((byte)' ');
            var token = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[end..];
            if (field is 4 or 5 or (>= 14 and <= 17) or 24)
            {
                if (!Utf8Parser.TryParse(token, out long value, out var consumed) || consumed != token.Length)
                {
                    return field <= 5 ? null : new ProcStat(parent, group, null);
                }
                switch (field)
                {
                    case 4:
                        parent = (int)value;
                        break;
                    case 5:
                        group = (int)value;
                        break;
                    case 24:
                        pages = Math.Max(0, value);
                        break;
                    default:
                        ticks += Math.Max(0, value);
                        break;
                }
            }
        }
        return new ProcStat(parent, group, (ticks, pages));
    }
}
