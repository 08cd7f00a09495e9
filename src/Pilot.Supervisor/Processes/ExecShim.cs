namespace Pilot.Supervisor.Processes;

/// <summary>
/// The first thing <c>pilot</c> does (DESIGN §2.2): <c>pilot __exec PROGRAM ARGS...</c> puts itself in a new process
/// group, restores default signal handling, takes <c>/dev/null</c> as stdin and <c>execvp</c>s PROGRAM, so the child keeps the pid (and pipes) that
/// <see cref="System.Diagnostics.Process"/> knows, in its own group.
/// </summary>
/// <remarks>
/// Exit codes when the exec fails (the launcher checks PATH first, so this is only a race or an exotic error):
/// <see cref="NotFoundExitCode"/> (127) when the program does not exist, <see cref="CannotExecuteExitCode"/> (126)
/// otherwise (permission denied, bad format) — the shell's convention. The Go-like error text goes to stderr.
/// </remarks>
public static class ExecShim
{
    public const string Verb = "__exec";
    public const int NotFoundExitCode = 127;
    public const int CannotExecuteExitCode = 126;

    /// <summary>Returns false when <paramref name="args"/> is not an <c>__exec</c> call; otherwise never returns.</summary>
    public static bool TryRun(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || !string.Equals(args[0], Verb, StringComparison.Ordinal))
        {
            return false;
        }

        if (args.Length < 2)
        {
            Console.Error.WriteLine("exec: no command");
            Environment.Exit(NotFoundExitCode);
        }

        // Errors ignored on purpose: if it fails the child still runs, just in Pilot's group.
        _ = Native.SetPgid(0, 0);
        Native.ResetSignalsForExec();
        Native.StdinFromDevNull();
        var program = args[1];
        var errno = Native.ExecVp(program, args[1..]);

        Console.Error.WriteLine(ExecErrors.Describe(program, errno));
        Environment.Exit(errno == Native.ENOENT ? NotFoundExitCode : CannotExecuteExitCode);
        return true;
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
