using System.Buffers.Text;

namespace Pilot.Supervisor.Processes;

/// <summary>What one process group costs now: CPU time so far, resident memory, how many processes.</summary>
/// <param name="CpuSeconds">User + system time of the group's live processes, and of the children they have reaped.</param>
/// <param name="RssBytes">The sum of the processes' resident set sizes (a page shared by two processes counts twice, as in top and ps).</param>
/// <param name="Processes">How many processes have the group's id.</param>
public readonly record struct GroupUsage(double CpuSeconds, long RssBytes, int Processes);

/// <summary>
/// Reads what jobs cost from <c>/proc</c>: one pass over <c>/proc/PID/stat</c>, summing over the processes whose process
/// group is a job's (a job runs in its own group, led by its pid). Read only when asked (<c>GET /v3/status</c>, a scrape
/// of <c>/metrics</c>): nothing polls, so an idle Pilot stays idle whatever the number of jobs.
/// </summary>
public static class ProcessGroupUsage
{
    /// <summary>
    /// The unit of the times in <c>/proc/PID/stat</c>: Linux's USER_HZ, fixed at 100 by its ABI on every architecture
    /// (what <c>sysconf(_SC_CLK_TCK)</c> returns).
    /// </summary>
    public const int ClockTicksPerSecond = 100;

    /// <summary>The usage of each of <paramref name="groups"/> that has at least one process; groups with none are left out.</summary>
    public static Dictionary<int, GroupUsage> Read(IReadOnlyCollection<int> groups, string procRoot = "/proc")
    {
        ArgumentNullException.ThrowIfNull(groups);
        var totals = new Dictionary<int, (long Ticks, long Pages, int Count)>();
        if (groups.Count == 0)
        {
            return [];
        }
        var wanted = groups.ToHashSet();
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateDirectories(procRoot);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return []; // no /proc (a bare chroot): no figures
        }
        Span<byte> buffer = stackalloc byte[1024];
        foreach (var entry in entries)
        {
            var name = entry.AsSpan(entry.LastIndexOf('/') + 1);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
            {
                continue;
            }
            if (ReadStat(entry + "/stat", buffer) is not { } stat || !wanted.Contains(stat.Group))
            {
                continue;
            }
            totals.TryGetValue(stat.Group, out var total);
            totals[stat.Group] = (total.Ticks + stat.Ticks, total.Pages + stat.Pages, total.Count + 1);
        }
        var pageSize = Environment.SystemPageSize;
        return totals.ToDictionary(
            t => t.Key,
            t => new GroupUsage(t.Value.Ticks / (double)ClockTicksPerSecond, t.Value.Pages * pageSize, t.Value.Count));
    }

    /// <summary>Process group, CPU ticks (utime + stime + cutime + cstime) and resident pages of one process; null when it is gone.</summary>
    private static (int Group, long Ticks, long Pages)? ReadStat(string path, Span<byte> buffer)
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

    /// <summary>
    /// Parses a <c>/proc/PID/stat</c> line. The command name (field 2) may hold spaces and parentheses, so fields are
    /// counted from the last <c>)</c>: state is field 3, pgrp 5, utime 14, stime 15, cutime 16, cstime 17, rss 24.
    /// </summary>
    public static (int Group, long Ticks, long Pages)? Parse(ReadOnlySpan<byte> stat)
    {
        var close = stat.LastIndexOf((byte)')');
        if (close < 0)
        {
            return null;
        }
        var rest = stat[(close + 1)..];
        int group = 0;
        long ticks = 0, pages = 0;
        for (var field = 3; field <= 24; field++)
        {
            rest = rest.TrimStart((byte)' ');
            var end = rest.IndexOf((byte)' ');
            var token = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[end..];
            if (field is 5 or (>= 14 and <= 17) or 24)
            {
                if (!Utf8Parser.TryParse(token, out long value, out var consumed) || consumed != token.Length)
                {
                    return null;
                }
                switch (field)
                {
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
        return group > 0 ? (group, ticks, pages) : null;
    }
}
