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
        Span<byte> buffer = stackalloc byte[ProcStat.ReadBytes];
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
    private static (int Group, long Ticks, long Pages)? ReadStat(string path, Span<byte> buffer) =>
        ProcStat.Read(path, buffer) is { } stat ? Usage(stat) : null;

    /// <summary>A <c>/proc/PID/stat</c> line's process group, CPU ticks and resident pages (<see cref="ProcStat"/>); null without them.</summary>
    public static (int Group, long Ticks, long Pages)? Parse(ReadOnlySpan<byte> stat) =>
        ProcStat.Parse(stat) is { } parsed ? Usage(parsed) : null;

    private static (int Group, long Ticks, long Pages)? Usage(ProcStat stat) =>
        stat is { Group: > 0, Usage: { } usage } ? (stat.Group, usage.Ticks, usage.Pages) : null;
}
