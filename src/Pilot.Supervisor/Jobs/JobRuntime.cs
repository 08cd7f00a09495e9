using Pilot.Supervisor.Events;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Jobs;

/// <summary>What every job shares: the bus, the launcher, the clock, the log, and the default stop grace.</summary>
public sealed record JobRuntime(EventBus Bus, IProcessLauncher Launcher, TimeProvider Time, LogWriter Log)
{
    /// <summary>How long a stopping job waits after SIGTERM before SIGKILL when its own <c>stopTimeout</c> is 0.</summary>
    public TimeSpan DefaultStopGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The recent output lines <c>pilot logs</c> reads; null keeps none.</summary>
    public OutputHistory? History { get; init; }

    /// <summary>Where a captured (not raw) output line of a job or check goes: the history, then Pilot's log.</summary>
    public void WriteOutput(OutputLine line)
    {
        History?.Add(line);
        Log.WriteOutput(line);
    }
}
