using Pilot.Supervisor.Config;
using Pilot.Supervisor.Jobs;

namespace Pilot.Supervisor.Health;

/// <summary>The check a job's <c>health</c> section asks for: exec (v3), http or tcp (Pilot); null for heartbeats only.</summary>
public static class HealthChecks
{
    public static IHealthCheck? For(JobConfig job, JobRuntime runtime)
    {
        var name = "check." + job.Name;
        return job.Health switch
        {
            { Exec: { } probe } health => new ExecHealthCheck(name, probe, health.RawLogging, health.Timeout, runtime.Launcher, runtime.Log, runtime.Time,
                runtime.WriteOutput, job.RunAs),
            { Http: { } http } health => new HttpHealthCheck(name, http, health.Timeout, runtime.Log, runtime.Time),
            { Tcp: { } tcp } health => new TcpHealthCheck(name, tcp, health.Timeout, runtime.Log, runtime.Time),
            _ => null,
        };
    }
}
