namespace Pilot.Supervisor.Health;

/// <summary>
/// What a job runs on each heartbeat tick: an exec (<see cref="ExecHealthCheck"/>) as in v3, or Pilot's HTTP or TCP
/// check (<see cref="HttpHealthCheck"/>, <see cref="TcpHealthCheck"/>); <see cref="HealthChecks.For"/> picks it from the
/// job's <c>health</c>. The job drives it through its mailbox: it starts a probe, and the probe's result comes back as
/// an input; it never blocks the job.
/// </summary>
public interface IHealthCheck
{
    /// <summary>Event source of its results: <c>check.&lt;job&gt;</c>.</summary>
    string Name { get; }

    /// <summary>Starts one probe. Never throws: a probe that cannot start completes at once as <see cref="HealthCheckOutcome.CouldNotStart"/>.</summary>
    IHealthProbe Start();
}

/// <summary>One probe in flight.</summary>
public interface IHealthProbe
{
    /// <summary>Completes with the result; never faults.</summary>
    Task<HealthCheckResult> Completion { get; }

    /// <summary>Passes a forwarded signal on (an exec check: to its process group; a network probe ignores it).</summary>
    void Signal(int signal);

    /// <summary>
    /// An exec check's process group, which the job terminates as it does its run's (while the probe runs when the job
    /// stops, or its leftovers after it finished); null for a probe without processes.
    /// </summary>
    Processes.IRunningProcess? Group { get; }

    /// <summary>Stops a probe without a process group (an HTTP or TCP attempt is cancelled); nothing for the others.</summary>
    void Cancel();
}

public enum HealthCheckOutcome { Passed, Failed, CouldNotStart }

/// <summary>A probe's result. <see cref="Detail"/>: v3's error text (<c>exit status 1</c>, <c>signal: killed</c>, a start error).</summary>
public sealed record HealthCheckResult(HealthCheckOutcome Outcome, string Detail)
{
    public bool Passed => Outcome == HealthCheckOutcome.Passed;
}
