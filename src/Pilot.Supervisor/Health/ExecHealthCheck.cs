using Pilot.Supervisor.Config;
using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Health;

/// <summary>
/// v3's <c>health.exec</c>: runs the command as <c>check.&lt;job&gt;</c> in its own process group; exit 0 passes.
/// With a timeout the probe's group is SIGKILLed when it runs out (v3's <c>%s timeout after %s: '%s'</c> warning).
/// </summary>
public sealed class ExecHealthCheck : IHealthCheck
{
    private readonly CommandSpec _command;
    private readonly bool _rawLogging;
    private readonly TimeSpan? _timeout;
    private readonly IProcessLauncher _launcher;
    private readonly LogWriter _log;
    private readonly TimeProvider _time;
    private readonly Action<OutputLine> _output;
    private readonly RunAs? _runAs;

    /// <param name="runAs">The job's <c>user</c>/<c>group</c>: its check runs as the job does.</param>
    public ExecHealthCheck(string name, CommandSpec command, bool rawLogging, TimeSpan? timeout, IProcessLauncher launcher, LogWriter log, TimeProvider time,
        Action<OutputLine>? output = null, RunAs? runAs = null)
    {
        _runAs = runAs;
        _output = output ?? log.WriteOutput;
        Name = name;
        _command = command;
        _rawLogging = rawLogging;
        _timeout = timeout;
        _launcher = launcher;
        _log = log;
        _time = time;
    }

    public string Name { get; }

    public IHealthProbe Start()
    {
        IRunningProcess process;
        try
        {
            process = _launcher.Start(new ProcessStartRequest(Name, _command, _rawLogging ? null : _output) { RunAs = _runAs });
        }
        catch (ProcessStartException ex)
        {
            return new UnstartedProbe(new HealthCheckResult(HealthCheckOutcome.CouldNotStart, ex.Message));
        }
        // v3: while the check runs, every process started meanwhile sees its pid (CONTAINERPILOT_CHECK_PID).
        ProcessEnvironment.Set(EnvNames.PidVariable(Name), process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new ExecProbe(this, process);
    }

    private sealed class ExecProbe : IHealthProbe
    {
        private readonly ExecHealthCheck _check;
        private readonly IRunningProcess _process;

        public ExecProbe(ExecHealthCheck check, IRunningProcess process)
        {
            _check = check;
            _process = process;
            Completion = WaitAsync();
        }

        public Task<HealthCheckResult> Completion { get; }

        public void Signal(int signal) => _process.SignalGroup(signal);

        public IRunningProcess Group => _process;

        public void Cancel()
        {
            // Its process group is terminated by signals (Group).
        }

        private async Task<HealthCheckResult> WaitAsync()
        {
            using var limit = _check._timeout is { } timeout && timeout > TimeSpan.Zero
                ? _check._time.CreateTimer(_ => KillOnTimeout(timeout), null, timeout, Timeout.InfiniteTimeSpan)
                : null;
            try
            {
                var exit = await _process.Exited.ConfigureAwait(false);
                ProcessEnvironment.Set(EnvNames.PidVariable(_check.Name), null);
                return new HealthCheckResult(exit.Success ? HealthCheckOutcome.Passed : HealthCheckOutcome.Failed, exit.ToString());
            }
            catch (Exception ex)
            {
                // The process could not be followed to its end: report a failed check, not a crash of the job.
                return new HealthCheckResult(HealthCheckOutcome.Failed, ex.Message);
            }
        }

        private void KillOnTimeout(TimeSpan limit)
        {
            _check._log.Write(LogLevel.Warn, $"{_check.Name} timeout after {GoDuration.Format(limit)}: '{_check._command}'");
            _process.SignalGroup(SignalNames.SIGKILL);
        }
    }

    private sealed class UnstartedProbe(HealthCheckResult result) : IHealthProbe
    {
        public Task<HealthCheckResult> Completion { get; } = Task.FromResult(result);

        public void Signal(int signal)
        {
        }

        public IRunningProcess? Group => null;

        public void Cancel()
        {
        }
    }
}
