using System.Globalization;

namespace Pilot.Api.Tests.Support;

/// <summary>What /proc says about processes a test's pilot started, after the fact.</summary>
internal static class ProcessTable
{
    /// <summary>True if <paramref name="pid"/> no longer runs (gone, or a zombie waiting for its reaper).</summary>
    public static bool IsDead(int pid) => State(pid) is not { } state || state is 'Z' or 'X';

    /// <summary>Live processes (not zombies) whose environment holds <paramref name="variable"/>=<paramref name="value"/>.</summary>
    public static List<int> WithEnvironment(string variable, string value)
    {
        var entry = $"{variable}={value}";
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || IsDead(pid))
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains(entry))
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
        return found;
    }

    private static char? State(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
