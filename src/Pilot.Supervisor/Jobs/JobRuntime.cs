using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Jobs;

/// <summary>What every job of a supervisor shares: the bus, the launcher, the clock, the log, and the global settings in force.</summary>
public sealed class JobRuntime(EventBus bus, IProcessLauncher launcher, TimeProvider time, LogWriter log)
{
    private long _lastVersion;

    public EventBus Bus { get; } = bus;

    public IProcessLauncher Launcher { get; } = launcher;

    public TimeProvider Time { get; } = time;

    public LogWriter Log { get; } = log;

    /// <summary>The global <c>stopTimeout</c> in force, read when a job stops (so a reload reaches the jobs it keeps).</summary>
    public Func<TimeSpan> GlobalStopTimeout { get; init; } = () => StopTimeouts.DefaultGlobal;

    /// <summary>
    /// For a job's name, the pre-stop jobs that run when it stops now and that its stop waits for (see
    /// <see cref="JobMoment.StopHooks"/>); null: each job's stopping-dependents from the config.
    /// </summary>
    public Func<string, System.Collections.Immutable.ImmutableHashSet<string>>? StopHooks { get; init; }

    /// <summary>Called once a job has halted and published <c>stopped</c> (or its loop failed).</summary>
    public Action<Job>? Halted { get; init; }

    /// <summary>A job's exit policy asks Pilot to shut down with this exit code.</summary>
    public Action<int>? ShutdownRequested { get; init; }

    /// <summary>The recent output lines <c>pilot logs</c> reads; null keeps none.</summary>
    public OutputHistory? History { get; init; }

    /// <summary>Where a captured (not raw) output line of a job or check goes: the history, then Pilot's log.</summary>
    public void WriteOutput(OutputLine line)
    {
        History?.Add(line);
        Log.WriteOutput(line);
    }

    /// <summary>Snapshot versions grow across all jobs, so a job replaced on reload never goes back in version.</summary>
    internal long NextVersion() => Interlocked.Increment(ref _lastVersion);
}
