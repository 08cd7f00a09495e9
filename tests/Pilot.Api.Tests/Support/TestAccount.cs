using System.Diagnostics;

namespace Pilot.Api.Tests.Support;

/// <summary>
/// A real user created for a test (needs root): <c>useradd</c> with its own primary group and one supplementary group,
/// all removed again on dispose. Names are random so that tests running side by side do not meet.
/// </summary>
internal sealed class TestAccount : IDisposable
{
    private TestAccount(string suffix)
    {
        User = "pu" + suffix;
        Group = "pg" + suffix;
        ExtraGroup = "px" + suffix;
    }

    public string User { get; }
    public string Group { get; }
    public string ExtraGroup { get; }
    public int Uid { get; private set; }
    public int Gid { get; private set; }
    public int ExtraGid { get; private set; }
    /// <summary>Its home directory in /etc/passwd (useradd's default; not created).</summary>
    public string Home { get; private set; } = "";

    /// <summary>Why a test must skip: only root can add users (and only root can run jobs as them).</summary>
    public static string? Unavailable => Environment.IsPrivilegedProcess ? null : "creating a user and switching to it needs root";

    public static TestAccount Create()
    {
        var account = new TestAccount(Guid.NewGuid().ToString("N")[..10]);
        Run("groupadd", account.Group);
        Run("groupadd", account.ExtraGroup);
        Run("useradd", "-M", "-s", "/usr/sbin/nologin", "-g", account.Group, "-G", account.ExtraGroup, account.User);
        account.Uid = int.Parse(Run("id", "-u", account.User), System.Globalization.CultureInfo.InvariantCulture);
        account.Gid = int.Parse(Run("id", "-g", account.User), System.Globalization.CultureInfo.InvariantCulture);
        account.Home = Run("getent", "passwd", account.User).Split(':')[5];
        account.ExtraGid = int.Parse(Run("getent", "group", account.ExtraGroup).Split(':')[2], System.Globalization.CultureInfo.InvariantCulture);
        return account;
    }

    private static string Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"{program} {string.Join(' ', args)}: exit {process.ExitCode}: {error}");
    }

    public void Dispose()
    {
        foreach (var (program, name) in new[] { ("userdel", User), ("groupdel", Group), ("groupdel", ExtraGroup) })
        {
            try
            {
                Run(program, name);
            }
            catch (InvalidOperationException)
            {
                // Already gone (or never made): nothing to clean.
            }
        }
    }
}
