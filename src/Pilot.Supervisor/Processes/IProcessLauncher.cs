using Pilot.Supervisor.Config;

namespace Pilot.Supervisor.Processes;

/// <summary>One line a child wrote. <paramref name="Name"/> is the job name or <c>check.job</c>.</summary>
public readonly record struct OutputLine(string Name, int Pid, bool IsStdErr, string Text);

/// <summary>What to start. <see cref="OnOutput"/> null means raw: the child writes straight to Pilot's stdout/stderr.</summary>
public sealed record ProcessStartRequest(string Name, CommandSpec Command, Action<OutputLine>? OnOutput)
{
    /// <summary>Extra variables on top of Pilot's current environment (which already holds <c>/v3/environ</c> puts).</summary>
    public IReadOnlyDictionary<string, string>? ExtraEnvironment { get; init; }

    /// <summary>The user and groups the child runs as (the shim switches before exec); null = Pilot's own.</summary>
    public RunAs? RunAs { get; init; }
}

/// <summary>How a run ended: an exit code, or the signal that killed it.</summary>
public readonly record struct ProcessExit(int ExitCode, int? Signal)
{
    public bool Success => ExitCode == 0 && Signal is null;

    /// <summary>The code a shell reports for it: the exit code, or 128 + N when signal N ended it.</summary>
    public int ShellCode => Signal is { } signal ? 128 + signal : ExitCode;

    /// <summary>v3's error text: <c>exit status N</c> or <c>signal: killed</c>.</summary>
    public override string ToString() => Signal is { } s ? $"signal: {SignalNames.Describe(s)}" : $"exit status {ExitCode}";
}

/// <summary>A started child: its own process group (pgid = pid).</summary>
public interface IRunningProcess
{
    int Pid { get; }

    /// <summary>Completes when the process has exited and its output has been fully read.</summary>
    Task<ProcessExit> Exited { get; }

    /// <summary>Sends a signal to the child's whole process group; a no-op once the group is gone.</summary>
    void SignalGroup(int signal);

    /// <summary>Completes when the leader has exited; other members of its group may live on.</summary>
    Task LeaderGone => Exited;

    /// <summary>True while the leader or any other member of its process group exists.</summary>
    bool IsGroupAlive => !Exited.IsCompleted;
}

/// <summary>Starts children. Failure to start throws <see cref="ProcessStartException"/> with a Go-like message.</summary>
public interface IProcessLauncher
{
    IRunningProcess Start(ProcessStartRequest request);
}

public sealed class ProcessStartException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Linux signal numbers Pilot uses, and v3's way of naming them.</summary>
public static class SignalNames
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGUSR2 = 12, SIGTERM = 15, SIGCHLD = 17, SIGWINCH = 28;

    public static string Describe(int signal) => signal switch
    {
        SIGHUP => "hangup",
        SIGINT => "interrupt",
        SIGQUIT => "quit",
        SIGKILL => "killed",
        SIGUSR1 => "user defined signal 1",
        SIGUSR2 => "user defined signal 2",
        SIGTERM => "terminated",
        _ => $"signal {signal}",
    };
}
