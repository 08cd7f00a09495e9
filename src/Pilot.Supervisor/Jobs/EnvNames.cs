using System.Text;

namespace Pilot.Supervisor.Jobs;

/// <summary>The <c>CONTAINERPILOT_*</c> variable names v3 derives from commands and jobs.</summary>
public static class EnvNames
{
    /// <summary>
    /// <c>CONTAINERPILOT_&lt;NAME&gt;_PID</c> of a run named <paramref name="commandName"/> (the job name, or
    /// <c>check.&lt;job&gt;</c> for a health check, so every check gives <c>CHECK</c>), as v3's <c>Command.EnvName</c>:
    /// base name, the first occurrence of its final extension removed, runs of non-alphanumerics → <c>_</c>, upper case.
    /// </summary>
    public static string PidVariable(string commandName)
    {
        var name = GoBase(commandName);
        var dot = name.LastIndexOf('.');
        if (dot >= 0)
        {
            var extension = name[dot..];
            var first = name.IndexOf(extension, StringComparison.Ordinal);
            name = name.Remove(first, extension.Length);
        }
        return $"CONTAINERPILOT_{Sanitize(name)}_PID";
    }

    /// <summary>Go's <c>filepath.Base</c>: the last element after trailing slashes are dropped.</summary>
    private static string GoBase(string path)
    {
        var trimmed = path.TrimEnd('/');
        if (trimmed.Length == 0)
        {
            return path.Length == 0 ? "." : "/";
        }
        var slash = trimmed.LastIndexOf('/');
        return slash < 0 ? trimmed : trimmed[(slash + 1)..];
    }

    /// <summary><c>CONTAINERPILOT_&lt;JOB&gt;_IP</c> for a job with a service.</summary>
    public static string IpVariable(string jobName) => $"CONTAINERPILOT_{jobName.ToUpperInvariant().Replace('-', '_')}_IP";

    private static string Sanitize(string name)
    {
        var result = new StringBuilder();
        var inRun = false;
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                result.Append(char.ToUpperInvariant(c));
                inRun = false;
            }
            else if (!inRun)
            {
                result.Append('_');
                inRun = true;
            }
        }
        return result.ToString();
    }
}
