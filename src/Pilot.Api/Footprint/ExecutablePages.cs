using System.Globalization;
using Pilot.Api.Hosting;
using Pilot.Supervisor.Logging;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Api.Footprint;

/// <summary>
/// Unmaps the pages of Pilot's own executable that only start-up (or a burst of requests) needed. Parsing the config,
/// starting jobs and serving requests touch most of the 19 MB Native AOT image (code, read-only data and the type data
/// that stays in the writable section), and those pages stay mapped — counted in RSS — for the life of the container,
/// though an idle Pilot runs a small part of them: an idle Pilot with 10 jobs held 14.3 MiB of its image, of which
/// ≈3 MiB came back once unmapped (issue 14). A mapping nothing has written to gets <c>MADV_DONTNEED</c>: its pages
/// leave the process but stay in the page cache, so using one again is a minor fault. A mapping with written pages (the
/// writable section, or what the loader relocated) gets <c>MADV_PAGEOUT</c>, which never loses data: written pages stay
/// (or are swapped), clean ones are reclaimed.
/// </summary>
/// <remarks>
/// It runs on timer threads, where an exception would end Pilot (PID 1). The executable's path and its mappings come
/// from <c>/proc</c>; a container may have none (a scratch image run without it), or one that reads oddly: the first
/// failure of any kind is logged once and switches the release off for the life of the process.
/// </remarks>
/// <param name="mappingsPath">The process's mappings: <see cref="ProcessMappings"/>.</param>
internal sealed class ExecutablePages(LogWriter log, string mappingsPath)
{
    /// <summary>Where the kernel lists this process's mappings with their page counts.</summary>
    public const string ProcessMappings = "/proc/self/smaps";

    private int _off;

    /// <summary>False once a release has failed: nothing is read any more.</summary>
    public bool IsOn => Volatile.Read(ref _off) == 0;

    /// <summary>Unmaps what it can of the executable file's mappings; the count of mappings advised (0 when off).</summary>
    public int Release()
    {
        if (!OperatingSystem.IsLinux() || !IsOn)
        {
            return 0;
        }
        try
        {
            // Read from /proc/self/exe: without /proc, unknown.
            return Release(Environment.ProcessPath ?? throw new FileNotFoundException("the executable's path is unknown"));
        }
        catch (Exception ex)
        {
            if (Interlocked.Exchange(ref _off, 1) == 0)
            {
                log.Write(LogLevel.Info, $"memory: the executable's pages stay mapped: {ex.Message}");
            }
            return 0;
        }
    }

    private int Release(string executable)
    {
        var image = new FileInfo(executable).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? executable;
        var advised = 0;
        (long Start, long End, bool Writable)? mapping = null;
        foreach (var line in File.ReadLines(mappingsPath))
        {
            // A mapping's header: "00405000-00c22000 r-xp 00005000 08:01 1234   /path/pilot"; then "Field: value kB" lines.
            if (line.Length > 0 && char.IsAsciiHexDigit(line[0]) && line.IndexOf('-', StringComparison.Ordinal) is var dash and > 0
                && line.IndexOf(' ', StringComparison.Ordinal) is var space && space > dash)
            {
                mapping = null;
                var path = line.IndexOf('/', StringComparison.Ordinal);
                if (path > 0 && line.AsSpan(path).TrimEnd().Equals(image, StringComparison.Ordinal))
                {
                    mapping = (long.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                        long.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                        line[space + 2] == 'w');
                }
            }
            else if (mapping is { } m && line.StartsWith("Anonymous:", StringComparison.Ordinal))
            {
                var written = m.Writable || !line.AsSpan("Anonymous:".Length).Trim().StartsWith("0 ", StringComparison.Ordinal);
                if (Libc.Madvise((nint)m.Start, (nuint)(m.End - m.Start), written ? Libc.MADV_PAGEOUT : Libc.MADV_DONTNEED) == 0)
                {
                    advised++;
                }
                mapping = null;
            }
        }
        return advised;
    }
}
