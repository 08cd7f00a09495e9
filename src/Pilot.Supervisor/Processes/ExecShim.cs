using System.Globalization;
using Pilot.Supervisor.Config;

namespace Pilot.Supervisor.Processes;

/// <summary>
/// The first thing <c>pilot</c> does: <c>pilot __exec PROGRAM ARGS...</c> puts itself in a new process
/// group, restores default signal handling, takes <c>/dev/null</c> as stdin and <c>execvp</c>s PROGRAM, so the child keeps the pid (and pipes) that
/// <see cref="System.Diagnostics.Process"/> knows, in its own group. <c>pilot __exec_as UID GID G1,G2 PROGRAM ARGS...</c>
/// also switches to those ids first (job <c>user</c>/<c>group</c>): supplementary groups, group, then user (<c>-</c>: keep the uid).
/// The same steps exist in <c>src/Pilot.Api/Native/main.c</c> and <c>Processes/Native/exec-shim.c</c>: docs/child-exec.md
/// is their one table.
/// </summary>
/// <remarks>
/// Exit codes when the exec fails (the launcher checks PATH first, so this is only a race or an exotic error):
/// <see cref="NotFoundExitCode"/> (127) when the program does not exist, <see cref="CannotExecuteExitCode"/> (126)
/// otherwise (permission denied, bad format, ids that cannot be taken) — the shell's convention. The Go-like error text goes to stderr.
/// </remarks>
public static class ExecShim
{
    public const string Verb = "__exec";
    public const string AsVerb = "__exec_as";
    public const int NotFoundExitCode = 127;
    public const int CannotExecuteExitCode = 126;

    /// <summary>Returns false when <paramref name="args"/> is not an <c>__exec</c> call; otherwise never returns.</summary>
    public static bool TryRun(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || !(string.Equals(args[0], Verb, StringComparison.Ordinal) || string.Equals(args[0], AsVerb, StringComparison.Ordinal)))
        {
            return false;
        }
        var commandAt = args[0] == AsVerb ? 4 : 1;
        if (args.Length <= commandAt)
        {
            Console.Error.WriteLine("exec: no command");
            Environment.Exit(NotFoundExitCode);
        }

        // Errors ignored on purpose: if it fails the child still runs, just in Pilot's group.
        _ = Native.SetPgid(0, 0);
        Native.ResetSignalsForExec();
        Native.StdinFromDevNull();
        if (commandAt == 4 && SwitchIdentity(args[1], args[2], args[3]) is { } refused)
        {
            Console.Error.WriteLine(refused);
            Environment.Exit(CannotExecuteExitCode);
        }
        var program = args[commandAt];
        var errno = Native.ExecVp(program, args[commandAt..]);

        Console.Error.WriteLine(ExecErrors.Describe(program, errno));
        Environment.Exit(errno == Native.ENOENT ? NotFoundExitCode : CannotExecuteExitCode);
        return true;
    }

    /// <summary>
    /// The ids to switch to, or null when there is nothing to switch (no <c>user</c>/<c>group</c>).
    /// </summary>
    /// <exception cref="ProcessStartException">Pilot is not root: it cannot take another user's ids (EPERM), said before anything starts.</exception>
    public static RunAs? CredentialsFor(RunAs? runAs)
    {
        if (runAs is null)
        {
            return null;
        }
        var euid = Native.GetEuid();
        if (euid != 0)
        {
            throw new ProcessStartException(
                $"cannot run as {Describe(runAs)}: Pilot runs as uid {euid}, not root: {Native.ErrnoText(Native.EPERM)}");
        }
        return runAs;
    }

    private static string Describe(RunAs runAs) =>
        runAs.User is { } user ? $"user \"{user}\"" + (runAs.Group is { } g ? $" and group \"{g}\"" : "") : $"group \"{runAs.Group}\"";

    /// <summary>setgroups, setgid, setuid, in that order (each needs the privilege the next one drops); the error text or null.</summary>
    private static string? SwitchIdentity(string uidText, string gidText, string groupsText)
    {
        static uint? Id(string text) => uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id <= int.MaxValue ? id : null;
        var groupIds = groupsText.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Id).ToArray();
        if (Id(gidText) is not { } gid || groupIds.Any(g => g is null) || (uidText != "-" && Id(uidText) is null))
        {
            return $"exec: {AsVerb} {uidText} {gidText} {groupsText}: the ids are not numbers";
        }
        var groups = groupIds.Select(g => g!.Value).ToArray();
        if (Native.SetGroups((nuint)groups.Length, groups) != 0)
        {
            return $"exec: setgroups {groupsText}: {Native.ErrnoText(Native.LastError)}";
        }
        if (Native.SetGid(gid) != 0)
        {
            return $"exec: setgid {gidText}: {Native.ErrnoText(Native.LastError)}";
        }
        if (uidText != "-" && Native.SetUid(Id(uidText)!.Value) != 0)
        {
            return $"exec: setuid {uidText}: {Native.ErrnoText(Native.LastError)}";
        }
        return null;
    }
}

/// <summary>Go's <c>os/exec</c> error texts, which v3 logs as <c>unable to start NAME: TEXT</c>.</summary>
public static class ExecErrors
{
    public static string NotFoundInPath(string program) => $"exec: \"{program}\": executable file not found in $PATH";

    /// <summary>Text for a failed exec of <paramref name="program"/> with <paramref name="errno"/>.</summary>
    internal static string Describe(string program, int errno) =>
        program.Contains('/', StringComparison.Ordinal) || errno is not (Native.ENOENT or Native.EACCES)
            ? $"fork/exec {program}: {Native.ErrnoText(errno)}"
            : NotFoundInPath(program);
}
