namespace Pilot.Supervisor.Processes;

/// <summary>
/// Checks, before spawning, that the shim's <c>execvp</c> will find an executable, so a bad command fails with
/// v3's text and no process. Follows Go's <c>exec.LookPath</c>: a name with a slash is used as is; otherwise each
/// <c>PATH</c> entry (empty = current directory) is tried and the first regular file with any execute bit wins.
/// </summary>
internal static class ExecutableResolver
{
    /// <summary>glibc's execvp search path when PATH is unset.</summary>
    private const string DefaultPath = "/bin:/usr/bin";

    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>Null when <paramref name="program"/> can be executed; else the Go-like error text.</summary>
    public static string? FindError(string program, string? pathVariable)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            if (Directory.Exists(program))
            {
                return ExecErrors.Describe(program, Native.EACCES);
            }

            if (!File.Exists(program))
            {
                return ExecErrors.Describe(program, Native.ENOENT);
            }

            return IsExecutable(program) ? null : ExecErrors.Describe(program, Native.EACCES);
        }

        if (program.Length == 0)
        {
            return ExecErrors.NotFoundInPath(program);
        }

        foreach (var entry in (pathVariable ?? DefaultPath).Split(':'))
        {
            var candidate = Path.Combine(entry.Length == 0 ? "." : entry, program);
            if (File.Exists(candidate) && IsExecutable(candidate))
            {
                return null;
            }
        }

        return ExecErrors.NotFoundInPath(program);
    }

    private static bool IsExecutable(string file)
    {
        if (OperatingSystem.IsWindows())
        {
            return true; // Pilot runs on Linux; this keeps the analyzer honest.
        }

        try
        {
            return (File.GetUnixFileMode(file) & AnyExecute) != 0;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
