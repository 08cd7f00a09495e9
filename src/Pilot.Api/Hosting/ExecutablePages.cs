using System.Globalization;

namespace Pilot.Api.Hosting;

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
internal static class ExecutablePages
{
    /// <summary>Unmaps what it can of the executable file's mappings; the count of mappings advised.</summary>
    public static int Release()
    {
        if (!OperatingSystem.IsLinux() || Environment.ProcessPath is not { } executable)
        {
            return 0;
        }
        try
        {
            return Release(executable);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // No /proc in the container (a scratch image run without it): nothing to read, so nothing is released.
            // It runs on a timer thread, where an exception would end Pilot.
            return 0;
        }
    }

    private static int Release(string executable)
    {
        var image = new FileInfo(executable).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? executable;
        var advised = 0;
        (long Start, long End, bool Writable)? mapping = null;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
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
