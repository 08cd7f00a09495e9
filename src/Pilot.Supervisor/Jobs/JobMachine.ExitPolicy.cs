using Pilot.Supervisor.Config;
using static Pilot.Supervisor.Control.JobState;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>The exit policy (<c>onSuccess</c> / <c>onFailure</c>): the end of a run may shut Pilot down.</summary>
public static partial class JobMachine
{
    /// <summary>The exit code Pilot reports for a launch that failed (a shell's "command not found").</summary>
    public const int LaunchFailedExitCode = 127;

    private sealed partial class Transition
    {
        /// <summary>
        /// After a run of the job's own ended (not one Pilot is stopping): with <c>shutdown</c> for this outcome, ask
        /// Pilot to shut down with the run's exit code; the job then neither restarts nor runs a queued start (the
        /// shutdown halts it). Returns whether it asked.
        /// </summary>
        private bool ApplyExitPolicy(bool success, int exitCode)
        {
            var action = success ? _job.Config.OnSuccess : _job.Config.OnFailure;
            if (action != ExitAction.Shutdown)
            {
                return false;
            }
            Emit(new WriteLog(LogLevel.Info,
                $"job {Name}: {(success ? "onSuccess" : "onFailure")} is \"shutdown\": shutting Pilot down with exit code {exitCode}"));
            Emit(new RequestShutdown(exitCode));
            DropQueuedStart();
            return true;
        }

        /// <summary>What follows the end of a run: the restart policy, except that a shutdown asked for is not restarted into.</summary>
        private AfterExit DecideAfter(bool shutdownAsked) => Decide() is AfterExit.Restart && shutdownAsked ? AfterExit.Wait : Decide();
    }
}
