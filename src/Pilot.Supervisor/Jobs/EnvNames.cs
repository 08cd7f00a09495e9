using System.Text;

namespace Pilot.Supervisor.Jobs;

/// <summary>The <c>CONTAINERPILOT_*</c> variable names v3 derives from commands and jobs.</summary>
public static class EnvNames
{
    /// <summary><c>CONTAINERPILOT_&lt;NAME&gt;_PID</c>: base name of the program, last extension removed, non-alphanumerics → <c>_</c>, upper case.</summary>
    public static string PidVariable(string program)
    {
        var name = Path.GetFileName(program);
        var dot = name.LastIndexOf('.');
        if (dot > 0)
        {
            name = name[..dot];
        }
        return $"CONTAINERPILOT_{Sanitize(name)}_PID";
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
